//! One timer task per timed job, sleeping on the injected clock until the
//! next run is due: no polling. Interval: next = last run + interval (an
//! overdue or never-run job fires at once). Schedule: next = the first slot
//! after now; missed slots are not replayed.
//!
//! A tick while the job runs is dropped and a tick while it is paused is
//! refused, but either way the next tick is computed from this one, so
//! `next_run` keeps advancing.
//!
//! Timers (and the runs their ticks start) are polled on the engine's
//! timer runtime when it has one (`EngineOptions::timer_runtime`).
//!
//! A tick is due at its slot plus the job's `jitter` offset for that slot
//! (`next_run` shows it). Sleeping is to the instant, so a 6-field cron
//! schedule fires at its second.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use tokio_util::sync::CancellationToken;

use super::registry::Entry;
use super::{Due, Engine, EngineError, Trigger};
use crate::config::Timer;

/// What a timer task needs: its entry, its schedule and the token that stops it.
pub(crate) struct Armed {
    pub entry: Arc<Entry>,
    pub timer: Timer,
    pub token: CancellationToken,
}

/// Starts the timer tasks of entries, each stopped by its token, on the
/// timer runtime if the engine has one: the runs their ticks start are
/// spawned from there, so they run there too, never queued behind API
/// requests. The tasks are spawned by one task on that runtime: a spawn
/// from another thread wakes its worker, and a start with 10,000 jobs
/// spent 40-60 ms on those wake-ups before the API could answer.
pub(crate) fn spawn(engine: &Engine, armed: Vec<Armed>) {
    if armed.is_empty() {
        return;
    }
    // Shown from the API's first answer on, before the tasks are polled
    // and before their catch-up (which may wait on the database).
    let started = engine.inner.clock.now();
    for a in &armed {
        publish_next(&a.entry, &a.timer, started, None);
    }
    let engine2 = engine.clone();
    let spawner = async move {
        for Armed { entry, timer, token } in armed {
            let task = timer_loop(engine2.clone(), entry, timer, token, started);
            drop(engine2.inner.tracker.spawn(task));
        }
    };
    drop(engine.inner.spawn_on(engine.inner.timer_runtime.as_ref(), spawner));
}

/// When the next tick is due. `last_tick` is the previous tick's time.
pub(crate) fn next_due(
    timer: &Timer,
    now: DateTime<Utc>,
    last_run: Option<DateTime<Utc>>,
    last_tick: Option<DateTime<Utc>>,
) -> DateTime<Utc> {
    match timer {
        Timer::Interval(d) => {
            let d = TimeDelta::from_std(*d).unwrap_or(TimeDelta::MAX);
            match last_run.max(last_tick) {
                Some(base) => base.checked_add_signed(d).unwrap_or(DateTime::<Utc>::MAX_UTC),
                None => now,
            }
        }
        Timer::Schedule(s) => s.next_after(last_tick.map_or(now, |t| t.max(now))),
    }
}

/// The last run as an interval counts it: the run of the last tick,
/// started up to `jitter` after it, counts as at the tick, so jitter never
/// adds up from run to run; any other run (manual, webhook) as it started.
fn own_tick(
    last_run: Option<DateTime<Utc>>,
    last_tick: Option<DateTime<Utc>>,
    jitter: std::time::Duration,
) -> Option<DateTime<Utc>> {
    let slack = TimeDelta::from_std(jitter).unwrap_or(TimeDelta::MAX) + TimeDelta::seconds(1);
    match (last_run, last_tick) {
        (Some(run), Some(tick)) if run >= tick && run - tick <= slack => Some(tick),
        _ => last_run,
    }
}

/// Computes the next slot and its jittered instant, and shows the latter
/// as the job's `next_run`.
fn publish_next(
    entry: &Entry,
    timer: &Timer,
    now: DateTime<Utc>,
    last_tick: Option<DateTime<Utc>>,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let mut st = entry.lock();
    let jitter = st.spec.common().jitter;
    let last_run = own_tick(st.last_run, last_tick, jitter);
    let slot = next_due(timer, now, last_run, last_tick);
    let next = crate::schedule::jitter::delayed(entry.id.as_str(), slot, jitter);
    st.next_run = Some(next);
    (slot, next)
}

/// `started`: when the timer was spawned; its first slot counts from
/// then, not from when the task is first polled, so a busy start-up does
/// not skip the slot `next_run` already showed.
async fn timer_loop(engine: Engine, entry: Arc<Entry>, timer: Timer, token: CancellationToken, started: DateTime<Utc>) {
    let clock = engine.inner.clock.clone();
    // Boxed: inline, the catch-up's state (database calls, runs) would
    // make every timer task that much larger for its whole life, 2 KiB a
    // job with 10,000 jobs; boxed it is freed once done.
    let mut last_tick = Box::pin(super::catch_up::at_start(&engine, &entry, &timer, &token, started)).await;
    // Catch-up covered the slots up to `started`; the timer takes the next.
    let mut first = Some(started);
    loop {
        let now = first.take().unwrap_or_else(|| clock.now());
        let (slot, next) = publish_next(&entry, &timer, now, last_tick);
        tokio::select! {
            _ = clock.sleep_until(next) => {}
            _ = token.cancelled() => return,
        }
        if let Timer::Interval(_) = timer {
            // A manual run since we went to sleep moves the interval on.
            let (last_run, jitter) = {
                let st = entry.lock();
                (st.last_run, st.spec.common().jitter)
            };
            let last_run = own_tick(last_run, last_tick, jitter);
            if next_due(&timer, slot, last_run, last_tick) > slot {
                continue;
            }
        }
        // An overdue tick (after a restart or a long sleep) counts as now,
        // so missed ticks are not fired one by one, and its lateness is
        // measured from now: a catch-up is not a timer that slept late.
        let fired = clock.now();
        let overdue = fired - next > TimeDelta::seconds(1);
        last_tick = Some(if overdue { fired } else { slot });
        let due = Due { slot, at: if overdue { fired } else { next } };
        let outcome = engine.trigger_entry_due(&entry, Trigger::Timer, Some(due));
        // A slot refused while paused stays for a resume's catch-up, if the job has one.
        let kept = matches!(outcome, Err(EngineError::Paused)) && entry.lock().spec.common().catch_up.explicit;
        if !kept {
            super::catch_up::handled(&engine, &entry, slot);
        }
        match outcome {
            Ok(()) | Err(EngineError::Paused) | Err(EngineError::AlreadyQueued) => {}
            Err(e) => {
                tracing::debug!(job.id = %entry.id, error = %e, "timer stops");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::time::Duration;

    #[test]
    fn interval_runs_at_once_when_never_run_or_overdue() {
        let now = Utc.with_ymd_and_hms(2024, 1, 1, 12, 0, 0).unwrap();
        let t = Timer::Interval(Duration::from_secs(60));
        assert_eq!(next_due(&t, now, None, None), now);
        let long_ago = now - TimeDelta::hours(5);
        assert_eq!(next_due(&t, now, Some(long_ago), None), long_ago + TimeDelta::minutes(1));
        let recent = now - TimeDelta::seconds(10);
        assert_eq!(next_due(&t, now, Some(recent), None), recent + TimeDelta::minutes(1));
        // A dropped or refused tick still moves the next one on.
        assert_eq!(next_due(&t, now, Some(long_ago), Some(now)), now + TimeDelta::minutes(1));
    }
}
