//! Catch-up (SPEC 17) on a manual clock with a real SQLite history file,
//! across restarts of the engine: 0, 1 and 100 missed slots for each
//! mode, the exact slots each run gets (`KARAJO_JOB_SLOT` / the closure's
//! `slot`), `missed` rows for the slots not run, the window, and a resume.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use proto::{JobId, JobKind};

use super::call::JobCall;
use super::tests::{LIMIT, config, timed, wait_until};
use super::{Engine, EngineOptions, ManualClock};
use crate::config::{CatchUp, CatchUpMode, Timer};
use crate::store::history::{History, Location, RunQuery};

type Seen = Arc<Mutex<Vec<(String, Option<DateTime<Utc>>)>>>;

/// A closure job recording each run's trigger and slot.
fn recorder(seen: Seen) -> JobCall {
    JobCall::new(move |ctx, _, _| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().push((ctx.trigger.to_string(), ctx.slot));
            Ok(())
        }
    })
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap()
}

/// One engine life on `dir` at `now`: a job `c` on a minute schedule.
async fn start(
    dir: &std::path::Path,
    now: DateTime<Utc>,
    mode: Option<CatchUpMode>,
    seen: Seen,
) -> (Engine, Arc<ManualClock>) {
    let mut job = timed("c", Some(Timer::Schedule("minutely".parse().unwrap())));
    if let Some(mode) = mode {
        job.common.catch_up = CatchUp { mode, window: Duration::from_secs(3600), explicit: true };
    }
    let cfg = config(dir, vec![job], vec![]);
    let mut opts = EngineOptions::new("http://127.0.0.1:9");
    let clock = ManualClock::at(now);
    opts.clock = clock.clone();
    opts.calls = HashMap::from([(JobId::from_name("c"), recorder(seen))]);
    opts.history = Some(History::open(&Location::Sqlite(dir.join("karajo.db"))).await.unwrap());
    let engine = Engine::new(cfg, opts).unwrap();
    engine.reconcile_history().await.unwrap();
    engine.start();
    (engine, clock)
}

/// Statuses of the job's rows, oldest first, with their slots.
async fn rows(dir: &std::path::Path) -> Vec<(String, Option<DateTime<Utc>>)> {
    let h = History::open(&Location::Sqlite(dir.join("karajo.db"))).await.unwrap();
    let id = JobId::from_name("c");
    let q = RunQuery { kind: JobKind::Job, job_id: &id, limit: 1000, before: None, status: None };
    let mut rows: Vec<_> = h.runs(&q).await.unwrap().into_iter().map(|r| (r.status, r.slot)).collect();
    h.close().await;
    rows.reverse();
    rows
}

/// The first life fires the slot at t0 (the clock starts exactly on it,
/// then moves a second on); the second starts `missed` minutes later.
async fn two_lives(
    mode: Option<CatchUpMode>,
    missed: i64,
) -> (Vec<(String, Option<DateTime<Utc>>)>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let seen: Seen = Default::default();
    let (first, clock) = start(dir.path(), t0() - TimeDelta::seconds(1), mode, seen.clone()).await;
    wait_until("the timer sleeps", || first.job(&JobId::from_name("c")).unwrap().base.next_run == Some(t0())).await;
    clock.set(t0());
    wait_until("the first slot ran", || seen.lock().unwrap().len() == 1).await;
    wait_until("idle", || first.job(&JobId::from_name("c")).unwrap().base.logs.len() == 1).await;
    first.shutdown().await;
    drop(first);
    seen.lock().unwrap().clear();
    let later = t0() + TimeDelta::minutes(missed) + TimeDelta::seconds(30);
    let (second, _clock) = start(dir.path(), later, mode, seen.clone()).await;
    wait_until("the timer is past catch-up", || second.job(&JobId::from_name("c")).unwrap().base.next_run.is_some())
        .await;
    let want = match mode {
        Some(CatchUpMode::All) => missed.min(60) as usize,
        Some(CatchUpMode::Latest) => usize::from(missed > 0),
        _ => 0,
    };
    wait_until("the catch-up runs", || seen.lock().unwrap().len() == want).await;
    wait_until("idle", || second.job(&JobId::from_name("c")).unwrap().base.status != proto::JobStatus::Running).await;
    second.shutdown().await;
    let got = seen.lock().unwrap().clone();
    (got, dir)
}

fn minute(n: i64) -> DateTime<Utc> {
    t0() + TimeDelta::minutes(n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_runs_each_missed_slot_in_the_window_in_order() {
    for missed in [0, 1, 100] {
        let (runs, dir) = two_lives(Some(CatchUpMode::All), missed).await;
        // A 1 h window: of 100 missed minutes, the last 60 run.
        let first_run = (missed - 59).max(1);
        let want: Vec<_> = (first_run..=missed).map(|m| ("catch_up".to_string(), Some(minute(m)))).collect();
        assert_eq!(runs, want, "{missed} missed");
        let rows = rows(dir.path()).await;
        let missed_rows: Vec<_> = rows.iter().filter(|r| r.0 == "missed").map(|r| r.1.unwrap()).collect();
        let want_missed: Vec<_> = (1..first_run).map(minute).collect();
        assert_eq!(missed_rows, want_missed, "{missed} missed: slots outside the window are rows");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_runs_the_newest_slot_and_records_the_rest() {
    for missed in [0, 1, 100] {
        let (runs, dir) = two_lives(Some(CatchUpMode::Latest), missed).await;
        let want: Vec<_> = (missed > 0).then(|| ("catch_up".to_string(), Some(minute(missed)))).into_iter().collect();
        assert_eq!(runs, want, "{missed} missed");
        let rows = rows(dir.path()).await;
        let n = rows.iter().filter(|r| r.0 == "missed").count();
        assert_eq!(n as i64, (missed - 1).max(0), "{missed} missed: {rows:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_by_default_runs_nothing_missed_but_records_it() {
    for mode in [None, Some(CatchUpMode::None)] {
        for missed in [0, 1, 100] {
            let (runs, dir) = two_lives(mode, missed).await;
            assert!(runs.is_empty(), "{mode:?} {missed}: {runs:?}");
            let rows = rows(dir.path()).await;
            let slots: Vec<_> = rows.iter().filter(|r| r.0 == "missed").map(|r| r.1.unwrap()).collect();
            assert_eq!(slots, (1..=missed).map(minute).collect::<Vec<_>>(), "{mode:?} {missed}");
            assert_eq!(rows[0], ("success".to_string(), Some(t0())), "the first life's timer run has its slot");
        }
    }
}

/// `catch_up = all` on `dir`: the slot at t0 ran, then the job was paused.
async fn paused_after_t0(dir: &std::path::Path, seen: &Seen) -> (Engine, Arc<ManualClock>, JobId) {
    let (e, clock) = start(dir, t0() - TimeDelta::seconds(1), Some(CatchUpMode::All), seen.clone()).await;
    let id = JobId::from_name("c");
    wait_until("the timer sleeps", || e.job(&id).unwrap().base.next_run == Some(t0())).await;
    clock.set(t0());
    wait_until("the first slot ran", || seen.lock().unwrap().len() == 1).await;
    wait_until("idle", || e.job(&id).unwrap().base.logs.len() == 1).await;
    e.pause(JobKind::Job, &id).unwrap();
    (e, clock, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_runs_the_slots_refused_while_paused() {
    let dir = tempfile::tempdir().unwrap();
    let seen: Seen = Default::default();
    let (e, clock, id) = paused_after_t0(dir.path(), &seen).await;
    for m in 1..=3 {
        clock.set(minute(m));
        wait_until("the tick refused", || e.job(&id).unwrap().base.next_run == Some(minute(m + 1))).await;
    }
    assert_eq!(seen.lock().unwrap().len(), 1, "nothing runs while paused");
    e.resume(JobKind::Job, &id).unwrap();
    wait_until("the three refused slots ran", || seen.lock().unwrap().len() == 4).await;
    let runs = seen.lock().unwrap().clone();
    assert_eq!(&runs[1..], &(1..=3).map(|m| ("catch_up".to_string(), Some(minute(m)))).collect::<Vec<_>>()[..]);
    tokio::time::timeout(LIMIT, e.shutdown()).await.unwrap();
}

/// A resume snapshots its window before the timer handles a newer tick:
/// the clock moving on at once (the next slot fires, perhaps before the
/// catch-up task is scheduled) must not hide the refused slots; and a
/// second pause and resume right after never runs a slot twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumes_in_quick_succession_run_each_refused_slot_once() {
    let dir = tempfile::tempdir().unwrap();
    let seen: Seen = Default::default();
    let (e, clock, id) = paused_after_t0(dir.path(), &seen).await;
    let refuse = |m: i64| {
        clock.set(minute(m));
        let e = e.clone();
        let id = id.clone();
        async move { wait_until("the tick refused", || e.job(&id).unwrap().base.next_run == Some(minute(m + 1))).await }
    };
    for m in 1..=3 {
        refuse(m).await;
    }
    e.resume(JobKind::Job, &id).unwrap();
    e.pause(JobKind::Job, &id).unwrap();
    refuse(4).await;
    e.resume(JobKind::Job, &id).unwrap();
    clock.set(minute(5)); // the next slot is due at once
    wait_until("every refused slot ran", || seen.lock().unwrap().iter().filter(|(t, _)| t == "catch_up").count() >= 4)
        .await;
    wait_until("idle", || e.job(&id).unwrap().base.status != proto::JobStatus::Running).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let runs = seen.lock().unwrap().clone();
    let caught: Vec<_> = runs.iter().filter(|(t, _)| t == "catch_up").map(|(_, s)| s.unwrap()).collect();
    assert_eq!(caught, (1..=4).map(minute).collect::<Vec<_>>(), "each refused slot once, in order: {runs:?}");
    assert!(runs.iter().all(|(t, s)| t != "timer" || *s == Some(t0()) || *s == Some(minute(5))), "{runs:?}");
    tokio::time::timeout(LIMIT, e.shutdown()).await.unwrap();
}
