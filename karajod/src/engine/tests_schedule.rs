//! Schedule timers on a manual clock: many ticks, each run starting exactly
//! at its slot, a paused job skipping slots while `next_run` moves on, and
//! missed slots not replayed after a jump in time, and each timer run's
//! lateness measured from its slot.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use proto::{JobId, JobKind};

use super::ManualClock;
use super::tests::{Fixture, config, fixture_in, gated, next_end, timed, wait_until};
use crate::config::Timer;

fn schedule_job(text: &str, t0: DateTime<Utc>, runs: Arc<AtomicUsize>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let timer = Timer::Schedule(text.parse().unwrap());
    let cfg = config(dir.path(), vec![timed("sched", Some(timer))], vec![]);
    let calls = HashMap::from([(JobId::from_name("sched"), gated(runs, None))]);
    fixture_in(dir, Arc::new(ManualClock::new(t0)), cfg, calls)
}

/// Waits until the timer shows a next run after `after`, and returns it.
async fn next_run_after(f: &Fixture, after: DateTime<Utc>) -> DateTime<Utc> {
    let id = JobId::from_name("sched");
    let mut next = None;
    wait_until("the next slot", || {
        next = f.engine.job(&id).unwrap().base.next_run.filter(|n| *n > after);
        next.is_some()
    })
    .await;
    next.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_fires_at_each_slot_over_many_ticks() {
    // Across a leap day and a month end.
    let t0 = Utc.with_ymd_and_hms(2024, 2, 29, 22, 7, 30).unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let mut f = schedule_job("hourly@0,15,30,45", t0, runs.clone());
    let mut last = t0;
    let mut slots = Vec::new();
    for _ in 0..40 {
        let slot = next_run_after(&f, last).await;
        f.clock.set(slot);
        let e = next_end(&mut f).await;
        assert_eq!(e.started, slot, "a run starts at its slot");
        slots.push(slot);
        last = slot;
    }
    assert_eq!(slots[0], Utc.with_ymd_and_hms(2024, 2, 29, 22, 15, 0).unwrap());
    assert!(slots.windows(2).all(|w| w[1] - w[0] == chrono::TimeDelta::minutes(15)), "{slots:?}");
    assert_eq!(*slots.last().unwrap(), Utc.with_ymd_and_hms(2024, 3, 1, 8, 0, 0).unwrap());
    assert_eq!(runs.load(Ordering::SeqCst), 40);
    f.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_slots_pass_and_missed_slots_are_not_replayed() {
    let t0 = Utc.with_ymd_and_hms(2024, 12, 31, 23, 58, 0).unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let mut f = schedule_job("minutely", t0, runs.clone());
    let id = JobId::from_name("sched");
    f.engine.pause(JobKind::Job, &id).unwrap();
    let mut last = t0;
    for _ in 0..3 {
        let slot = next_run_after(&f, last).await;
        f.clock.set(slot);
        last = slot;
    }
    next_run_after(&f, last).await;
    assert_eq!(runs.load(Ordering::SeqCst), 0, "no run while paused");
    assert!(f.engine.job(&id).unwrap().base.logs.is_empty());
    f.engine.resume(JobKind::Job, &id).unwrap();
    // Two hours pass at once: one run when the clock jumps, then on the minute again.
    f.clock.advance(Duration::from_secs(7200) + Duration::from_secs(30));
    let e = next_end(&mut f).await;
    assert_eq!(e.counter, 1);
    let jumped = super::Clock::now(f.clock.as_ref());
    let slot = next_run_after(&f, jumped).await;
    assert_eq!(slot, Utc.with_ymd_and_hms(2025, 1, 1, 2, 2, 0).unwrap());
    assert_eq!(runs.load(Ordering::SeqCst), 1, "missed slots are not replayed");
    f.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timer_run_reports_how_late_it_started_after_its_slot() {
    let t0 = Utc.with_ymd_and_hms(2025, 3, 1, 10, 0, 30).unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let mut f = schedule_job("minutely", t0, runs.clone());
    let id = JobId::from_name("sched");
    // On the dot: no lateness.
    let slot = next_run_after(&f, t0).await;
    f.clock.set(slot);
    assert_eq!(next_end(&mut f).await.timer_lateness, Some(Duration::ZERO));
    // The clock (as a loaded host would) wakes the timer 300 ms after the slot.
    let slot = next_run_after(&f, slot).await;
    f.clock.set(slot + chrono::TimeDelta::milliseconds(300));
    let e = next_end(&mut f).await;
    assert_eq!(
        (e.started, e.timer_lateness),
        (slot + chrono::TimeDelta::milliseconds(300), Some(Duration::from_millis(300)))
    );
    // A run by hand has no slot to be late for.
    f.engine.trigger_job(&id, super::Trigger::Manual).unwrap();
    assert_eq!(next_end(&mut f).await.timer_lateness, None);
    // A catch-up after a jump of hours is not counted as hours late.
    f.clock.advance(Duration::from_secs(3 * 3600));
    assert_eq!(next_end(&mut f).await.timer_lateness, Some(Duration::ZERO));
    assert_eq!(runs.load(Ordering::SeqCst), 4);
    f.engine.shutdown().await;
}
