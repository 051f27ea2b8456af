//! Schedule timers on a manual clock: many ticks, each run starting exactly
//! at its slot, a paused job skipping slots while `next_run` moves on, and
//! missed slots not replayed after a jump in time, and each timer run's
//! lateness measured from its slot; a year of a cron schedule in a DST
//! zone, seconds schedules firing at their second, and jitter.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use proto::{JobId, JobKind};

use super::ManualClock;
use super::tests::{Fixture, config, fixture_in, gated, next_end, timed, wait_until};
use crate::config::Timer;
use crate::schedule::Tz;

fn schedule_job(text: &str, t0: DateTime<Utc>, runs: Arc<AtomicUsize>) -> Fixture {
    zoned_job(text, Tz::UTC, Duration::ZERO, t0, runs)
}

fn zoned_job(text: &str, tz: Tz, jitter: Duration, t0: DateTime<Utc>, runs: Arc<AtomicUsize>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let schedule: crate::schedule::Schedule = text.parse().unwrap();
    let mut job = timed("sched", Some(Timer::Schedule(schedule.in_zone(tz))));
    (job.common.timezone, job.common.jitter) = (tz, jitter);
    let cfg = config(dir.path(), vec![job], vec![]);
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

/// Runs the timer through `n` slots, each by setting the clock to the
/// `next_run` the timer shows; returns the instants the runs started.
async fn run_slots(f: &mut Fixture, t0: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
    let mut last = t0;
    let mut started = Vec::new();
    for _ in 0..n {
        let slot = next_run_after(f, last).await;
        f.clock.set(slot);
        let e = next_end(f).await;
        // Start times are kept to the millisecond, as the history rows keep them.
        assert_eq!(e.started, chrono::SubsecRound::trunc_subsecs(slot, 3), "a run starts at its next_run");
        started.push(slot);
        last = slot;
    }
    started
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_year_of_a_cron_schedule_in_berlin_runs_each_sunday_once_across_both_dst_changes() {
    let t0 = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let mut f = zoned_job("30 2 * * SUN", chrono_tz::Europe::Berlin, Duration::ZERO, t0, runs.clone());
    let wall = std::time::Instant::now();
    let started = run_slots(&mut f, t0, 52).await;
    let berlin = |u: &DateTime<Utc>| u.with_timezone(&chrono_tz::Europe::Berlin).format("%F %T %Z").to_string();
    let local: Vec<String> = started.iter().map(berlin).collect();
    // 2024-03-31 skips 02:00-03:00: the run is at 03:00 CEST. 2024-10-27
    // shows 02:30 twice: the run is at the first, CEST.
    assert!(local.contains(&"2024-03-31 03:00:00 CEST".to_string()), "{local:#?}");
    assert!(local.contains(&"2024-10-27 02:30:00 CEST".to_string()), "{local:#?}");
    assert!(!local.contains(&"2024-10-27 02:30:00 CET".to_string()), "{local:#?}");
    let others = local.iter().filter(|l| l.contains(" 02:30:00 ")).count();
    assert_eq!(others, 51, "every other Sunday at 02:30 local: {local:#?}");
    assert_eq!(local.last().unwrap(), "2024-12-29 02:30:00 CET");
    assert_eq!(runs.load(Ordering::SeqCst), 52);
    eprintln!("a year of Sundays on the manual clock took {:?}", wall.elapsed());
    f.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seconds_schedule_fires_at_its_seconds() {
    let t0 = Utc.with_ymd_and_hms(2024, 3, 31, 0, 59, 31).unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let mut f = zoned_job("*/20 * * * * *", chrono_tz::Europe::Berlin, Duration::ZERO, t0, runs.clone());
    let started = run_slots(&mut f, t0, 4).await;
    let want = ["2024-03-31T00:59:40Z", "2024-03-31T01:00:00Z", "2024-03-31T01:00:20Z", "2024-03-31T01:00:40Z"];
    let got: Vec<String> = started.iter().map(|t| t.format("%FT%TZ").to_string()).collect();
    assert_eq!(got, want);
    f.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jitter_delays_each_run_by_its_fixed_offset_and_next_run_shows_it() {
    let t0 = Utc.with_ymd_and_hms(2024, 6, 1, 12, 0, 10).unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let jitter = Duration::from_secs(30);
    let mut f = zoned_job("*/5 * * * *", Tz::UTC, jitter, t0, runs.clone());
    let started = run_slots(&mut f, t0, 6).await;
    let id = JobId::from_name("sched");
    for (i, at) in started.iter().enumerate() {
        let slot = Utc.with_ymd_and_hms(2024, 6, 1, 12, 5 * (i as u32 + 1), 0).unwrap();
        let offset = crate::schedule::jitter::offset(id.as_str(), slot, jitter);
        assert_eq!(*at, slot + chrono::TimeDelta::from_std(offset).unwrap(), "run {i}");
        assert!(offset < jitter);
    }
    let offsets: std::collections::HashSet<i64> = started.iter().map(|t| t.timestamp() % 300).collect();
    assert!(offsets.len() > 1, "offsets differ between slots: {started:?}");
    f.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jitter_on_an_interval_never_adds_up_from_run_to_run() {
    let t0 = Utc.with_ymd_and_hms(2024, 6, 1, 12, 0, 0).unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let dir = tempfile::tempdir().unwrap();
    let jitter = Duration::from_secs(30);
    let mut job = timed("sched", Some(Timer::Interval(Duration::from_secs(300))));
    job.common.jitter = jitter;
    let cfg = config(dir.path(), vec![job], vec![]);
    let calls = HashMap::from([(JobId::from_name("sched"), gated(runs, None))]);
    let mut f = fixture_in(dir, Arc::new(ManualClock::new(t0)), cfg, calls);
    let id = JobId::from_name("sched");
    let mut last = t0 - chrono::TimeDelta::seconds(1);
    for k in 0..8 {
        let slot = t0 + chrono::TimeDelta::minutes(5 * k);
        let at =
            slot + chrono::TimeDelta::from_std(crate::schedule::jitter::offset(id.as_str(), slot, jitter)).unwrap();
        let next = next_run_after(&f, last).await;
        assert_eq!(next, at, "tick {k}: its slot is t0 + {k} x 5m, plus that slot's offset");
        f.clock.set(next);
        let e = next_end(&mut f).await;
        assert_eq!(e.started, chrono::SubsecRound::trunc_subsecs(at, 3), "tick {k} (rows keep milliseconds)");
        last = next;
    }
    f.engine.shutdown().await;
}
