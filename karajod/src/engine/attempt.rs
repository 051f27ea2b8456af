//! The attempts of one run (`retry`, SPEC 17): all share the run's
//! counter, log and history row; the run ends with the last one's status.
//!
//! Invariants: a slot of `max_job_running` is held only while an attempt
//! runs, never while it waits for the next; cancel, pause and shutdown
//! stop further attempts (a cancel during the wait ends the run
//! `canceled`); each wait sleeps on the injected clock.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use proto::JobStatus;
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;

use super::Engine;
use super::registry::Entry;
use crate::config::{Cause, Retry};
use crate::store::log::RunLog;

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub status: JobStatus,
    /// The exit code of the command that ended the attempt, if it exited.
    pub exit_code: Option<i32>,
    /// What `retry_on` may match.
    pub cause: Option<Cause>,
}

impl Outcome {
    pub fn of(status: JobStatus) -> Outcome {
        Outcome { status, exit_code: None, cause: None }
    }

    pub fn failed(cause: Cause) -> Outcome {
        let exit_code = match cause {
            Cause::Exit(c) => Some(c),
            _ => None,
        };
        Outcome { status: JobStatus::Failed, exit_code, cause: Some(cause) }
    }
}

/// How the whole run ended: the last attempt's outcome and how many there were.
pub(crate) struct Attempts {
    pub last: Outcome,
    pub count: u32,
}

/// Why no further attempt was made although the retry policy allowed one.
enum Stop {
    Canceled,
    Paused,
    Stopping,
}

/// Runs the body until it succeeds, its failure is not retried, or the
/// attempts are used up. `slot` is held for the first attempt; the slot
/// is given back before each return and each wait.
pub(crate) async fn run_all(
    engine: &Engine,
    entry: &Arc<Entry>,
    run: &super::run::ThisRun<'_>,
    cancel: &CancellationToken,
    log: &mut RunLog,
    slot: OwnedSemaphorePermit,
) -> Attempts {
    let inner = &engine.inner;
    let retry: &Retry = &run.spec.common().retry;
    let total = retry.times + 1;
    let mut slot = Some(slot);
    let mut n = 1;
    loop {
        let last = super::run::body(engine, run, n, cancel, log).await;
        inner.running.fetch_sub(1, Ordering::SeqCst);
        drop(slot.take());
        let retried = last.status == JobStatus::Failed && n < total && retry.covers(last.cause);
        if !retried || cancel.is_cancelled() {
            return Attempts { last, count: n };
        }
        n += 1;
        let wait = retry.wait_before(n);
        match wait_and_take_slot(engine, entry, cancel, wait).await {
            Ok(permit) => slot = Some(permit),
            Err(stop) => {
                let (status, text) = match stop {
                    Stop::Canceled => (JobStatus::Canceled, "=== CANCELED".to_string()),
                    Stop::Paused => (last.status, format!("--- no attempt {n} of {total}: the job was paused")),
                    Stop::Stopping => (last.status, format!("--- no attempt {n} of {total}: karajod is stopping")),
                };
                log.note(inner.clock.now(), &text);
                return Attempts { last: Outcome { status, ..last }, count: n - 1 };
            }
        }
        inner.running.fetch_add(1, Ordering::SeqCst);
        let waited = crate::config::duration::format(wait.as_nanos().min(i64::MAX as u128) as i64);
        log.note(inner.clock.now(), &format!("--- Attempt {n} of {total} after {waited}"));
    }
}

/// Sleeps `wait` on the engine's clock, then takes a slot of
/// `max_job_running`; a cancel, a pause or shutdown ends either.
async fn wait_and_take_slot(
    engine: &Engine,
    entry: &Entry,
    cancel: &CancellationToken,
    wait: std::time::Duration,
) -> Result<OwnedSemaphorePermit, Stop> {
    let inner = &engine.inner;
    let until = inner.clock.now() + chrono::TimeDelta::from_std(wait).unwrap_or(chrono::TimeDelta::MAX);
    let paused = CancellationToken::new();
    {
        let mut st = entry.lock();
        if st.paused {
            return Err(Stop::Paused);
        }
        if let Some(a) = st.active.as_mut() {
            a.retry_wait = Some(paused.clone());
        }
    }
    let waited = tokio::select! {
        _ = inner.clock.sleep_until(until) => Ok(()),
        _ = cancel.cancelled() => Err(Stop::Canceled),
        _ = paused.cancelled() => Err(Stop::Paused),
        _ = inner.stopping.cancelled() => Err(Stop::Stopping),
    };
    if let Some(a) = entry.lock().active.as_mut() {
        a.retry_wait = None;
    }
    waited?;
    tokio::select! {
        p = inner.slots.clone().acquire_owned() => p.map_err(|_| Stop::Stopping),
        _ = cancel.cancelled() => Err(Stop::Canceled),
        _ = inner.stopping.cancelled() => Err(Stop::Stopping),
    }
}
