//! Engine tests of run endings that need no real processes: closure jobs
//! honour `timeout` (SPEC 17), a cancel drops the queued trigger.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use proto::{JobId, JobKind, JobStatus};

use super::tests::{config, fixture_in, next_end, start_time, wait_until};
use super::*;
use crate::library;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closure_job_that_never_returns_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = library::job("slow");
    j.timeout = Some(Duration::from_millis(100));
    // Ignores its cancel token: only dropping it ends it.
    let call = JobCall::new(|_, _, _| std::future::pending::<Result<(), CallError>>());
    let calls = HashMap::from([(JobId::from_name("slow"), call)]);
    let cfg = config(dir.path(), vec![j], vec![]);
    let mut f = fixture_in(dir, Arc::new(ManualClock::new(start_time())), cfg, calls);
    f.engine.trigger_job(&JobId::from_name("slow"), Trigger::Manual).unwrap();
    let e = next_end(&mut f).await;
    assert_eq!(e.status, JobStatus::Failed);
    let text = std::fs::read_to_string(&e.log_path).unwrap();
    assert!(text.contains("!!! timed out after 100ms"), "{text}");
    f.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_drops_the_trigger_queued_behind_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let id = JobId::from_name("q");
    let call = JobCall::new(|ctx: JobContext, _, _| async move {
        ctx.cancel.cancelled().await;
        Ok(())
    });
    let cfg = config(dir.path(), vec![library::job("q")], vec![]);
    let mut f = fixture_in(dir, Arc::new(ManualClock::new(start_time())), cfg, HashMap::from([(id.clone(), call)]));
    f.engine.trigger_job(&id, Trigger::Manual).unwrap();
    wait_until("running", || f.engine.job(&id).unwrap().base.status == JobStatus::Running).await;
    f.engine.trigger_job(&id, Trigger::Manual).unwrap();
    let (_, canceled) = f.engine.cancel(JobKind::Job, &id).unwrap();
    assert_eq!(canceled, super::Canceled::RunAndQueued);
    assert_eq!(next_end(&mut f).await.status, JobStatus::Canceled);
    wait_until("idle", || f.engine.job(&id).unwrap().base.status == JobStatus::Canceled).await;
    // Nothing queued is left: a new trigger starts run 2 at once.
    f.engine.trigger_job(&id, Trigger::Manual).unwrap();
    wait_until("run 2", || f.engine.job(&id).unwrap().base.logs.iter().any(|l| l.counter == 2)).await;
    assert!(f.engine.job(&id).unwrap().base.logs.iter().all(|l| l.counter <= 2));
    f.engine.shutdown().await;
}
