//! Retries on a manual clock: each wait is the delay times the backoff,
//! capped, slept on the injected clock (no attempt before its time), and
//! a closure job sees its attempt number.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use proto::{JobId, JobKind, JobStatus};

use super::ManualClock;
use super::call::JobCall;
use super::tests::{LIMIT, config, fixture_in, next_end, start_time, timed, wait_until};
use crate::config::Retry;

/// A closure job that fails until its attempt `succeed_at`, counting attempts.
fn flaky(attempts: Arc<AtomicUsize>, succeed_at: u32) -> JobCall {
    JobCall::new(move |ctx, log, _| {
        let attempts = attempts.clone();
        async move {
            attempts.fetch_add(1, Ordering::SeqCst);
            log.line(format!("attempt {}", ctx.attempt)).await;
            if ctx.attempt >= succeed_at { Ok(()) } else { Err("not yet".into()) }
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_attempt_waits_its_backoff_on_the_injected_clock() {
    let dir = tempfile::tempdir().unwrap();
    let mut job = timed("r", None);
    job.common.retry = Retry {
        times: 3,
        delay: Duration::from_secs(60),
        backoff: 3.0,
        max_delay: Duration::from_secs(120),
        on: vec![],
    };
    let attempts = Arc::new(AtomicUsize::new(0));
    let calls = HashMap::from([(JobId::from_name("r"), flaky(attempts.clone(), 4))]);
    let clock = ManualClock::at(start_time());
    let cfg = config(dir.path(), vec![job], vec![]);
    let mut f = fixture_in(dir, clock.clone(), cfg, calls);
    f.engine.trigger_job(&JobId::from_name("r"), super::Trigger::Manual).unwrap();
    // Waits of 60 s, then 180 s capped to 120 s, then 120 s.
    for (n, wait) in [(2, 60), (3, 120), (4, 120)] {
        wait_until("the attempt before", || attempts.load(Ordering::SeqCst) == n - 1).await;
        let entry = f.engine.entry(JobKind::Job, &JobId::from_name("r")).unwrap();
        wait_until("the wait", || entry.lock().active.as_ref().is_some_and(|a| a.retry_wait.is_some())).await;
        clock.advance(Duration::from_secs(wait - 1));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(attempts.load(Ordering::SeqCst), n - 1, "attempt {n} waits its whole {wait}s");
        clock.advance(Duration::from_secs(1));
    }
    let e = tokio::time::timeout(LIMIT, next_end(&mut f)).await.unwrap();
    assert_eq!((e.counter, e.status), (1, JobStatus::Success));
    let text = String::from_utf8(f.engine.log(JobKind::Job, &JobId::from_name("r"), 1).unwrap().content).unwrap();
    for n in 1..=4 {
        assert!(text.contains(&format!("job: r: attempt {n}\n")), "{text}");
    }
    assert!(text.contains("--- Attempt 3 of 4 after 2m"), "the capped wait is logged: {text}");
    f.engine.shutdown().await;
}
