//! The library API in-process, with real processes and files: closure jobs
//! writing to the run log, cancel killing a whole process group, start and
//! stop.

use std::time::Duration;

use karajod::engine::Trigger;
use karajod::library::{self, Karajo};
use proto::{JobId, JobKind, JobStatus};

use crate::harness::{group_alive, wait_for};

const LIMIT: Duration = Duration::from_secs(20);

async fn ended(rx: &mut tokio::sync::broadcast::Receiver<karajod::engine::RunEnded>) -> karajod::engine::RunEnded {
    tokio::time::timeout(LIMIT, rx.recv()).await.expect("a run ends in time").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closure_job_logs_through_the_writer_and_gets_the_body() {
    let dir = tempfile::tempdir().unwrap();
    let mut k = Karajo::new(dir.path());
    let mut job = library::job("Code job");
    job.path = Some("/code".into());
    k.add_call_job(job, |ctx, log, body| async move {
        log.line(format!("counter {} trigger {}", ctx.counter, ctx.trigger)).await;
        log.write(body.unwrap_or_default()).await;
        Err("and then it failed".into())
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = k.start(listener).await.unwrap();
    let mut rx = running.engine.subscribe_ended();
    let id = JobId::from_name("Code job");
    running.engine.trigger_job(&id, Trigger::Http { body: "payload".into() }).unwrap();
    let e = ended(&mut rx).await;
    assert_eq!(e.status, JobStatus::Failed);
    let text = std::fs::read_to_string(&e.log_path).unwrap();
    for want in
        ["job: code_job: counter 1 trigger http\n", "job: code_job: payload\n", "!!! failed: and then it failed"]
    {
        assert!(text.contains(want), "{want} in {text}");
    }
    assert!(running.engine.webhook("/code").is_some());
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_kills_the_whole_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let mut k = Karajo::new(dir.path());
    let mut job = library::job("bg");
    job.commands = vec!["echo $$ > pgid; sleep 300 & wait".into()];
    k.add_job(job);
    let engine = k.engine("").unwrap();
    engine.start();
    let mut rx = engine.subscribe_ended();
    let id = JobId::from_name("bg");
    engine.trigger_job(&id, Trigger::Manual).unwrap();
    let pgid_file = dir.path().join("var/lib/karajo/job/bg/pgid");
    wait_for(LIMIT, "the command to start", || std::fs::read_to_string(&pgid_file).is_ok_and(|s| s.ends_with('\n')));
    let pgid: i32 = std::fs::read_to_string(&pgid_file).unwrap().trim().parse().unwrap();
    assert!(group_alive(pgid));
    let (view, canceled) = engine.cancel(JobKind::Job, &id).unwrap();
    assert!(canceled.ran(), "{view:?}");
    let e = ended(&mut rx).await;
    assert_eq!(e.status, JobStatus::Canceled);
    assert!(e.log_path.ends_with("bg.1.canceled"));
    assert!(std::fs::read_to_string(&e.log_path).unwrap().contains("=== CANCELED"));
    wait_for(Duration::from_secs(2), "no process of the group left", || !group_alive(pgid));
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_config_refuses_a_job_without_a_body() {
    let dir = tempfile::tempdir().unwrap();
    let mut k = Karajo::new(dir.path());
    k.add_job(library::job("empty"));
    assert!(matches!(k.build(), Err(library::LibraryError::EmptyCommandsOrCall(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closure_job_set_up_by_code_retries_and_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let mut k = Karajo::new(dir.path());
    let mut job = library::job("retried");
    job.common.retry = karajod::config::Retry { times: 2, delay: Duration::from_millis(20), ..Default::default() };
    job.timeout = Some(Duration::from_millis(200));
    k.add_call_job(job, |ctx, log, _| async move {
        log.line(format!("attempt {}", ctx.attempt)).await;
        if ctx.attempt < 3 {
            // Never answers: the timeout ends the attempt.
            std::future::pending::<()>().await;
        }
        Ok(())
    });
    let engine = k.engine("").unwrap();
    engine.start();
    let mut rx = engine.subscribe_ended();
    engine.trigger_job(&JobId::from_name("retried"), Trigger::Manual).unwrap();
    let e = ended(&mut rx).await;
    assert_eq!((e.counter, e.status), (1, JobStatus::Success));
    let text = std::fs::read_to_string(&e.log_path).unwrap();
    assert_eq!(text.matches("!!! timed out after 200ms").count(), 2, "{text}");
    assert!(text.contains("job: retried: attempt 3\n") && text.contains("--- Attempt 3 of 3 after 20ms"), "{text}");
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_started_environment_keeps_its_runs_in_the_history_database() {
    let dir = tempfile::tempdir().unwrap();
    let mut k = Karajo::new(dir.path());
    k.add_call_job(library::job("kept"), |_, log, _| async move {
        log.line("done").await;
        Ok(())
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = k.start(listener).await.unwrap();
    let mut rx = running.engine.subscribe_ended();
    running.engine.trigger_job(&JobId::from_name("kept"), Trigger::Manual).unwrap();
    ended(&mut rx).await;
    let url = format!("{}/karajo/api/job_exec/runs?id=kept", running.url);
    let v: serde_json::Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
    assert_eq!(v["data"][0]["status"], "success", "{v}");
    assert_eq!(v["data"][0]["trigger"], "manual", "{v}");
    running.stop().await;
    assert!(dir.path().join("var/lib/karajo/karajo.db").exists(), "the daemon's SQLite file");
}
