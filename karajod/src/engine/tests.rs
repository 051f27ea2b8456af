//! Engine tests with a manual clock and closure jobs: timer logic, queueing,
//! slots, pause and cancel, without waiting for real minutes. Waits poll a
//! condition with a deadline; only "nothing happened" checks give the
//! engine a short real moment to prove itself wrong.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use proto::{JobId, JobKind, JobStatus};
use tokio::sync::{Semaphore, broadcast};

use super::*;
use crate::config::{Config, JobConfig, JobHttpConfig, Timer};
use crate::library;

pub(crate) const LIMIT: Duration = Duration::from_secs(10);

pub(crate) fn start_time() -> DateTime<Utc> {
    // Whole seconds near the real time, so log mtimes and the clock agree.
    Utc::now().duration_trunc(TimeDelta::seconds(1)).unwrap()
}

pub(crate) struct Fixture {
    pub dir: tempfile::TempDir,
    pub clock: Arc<ManualClock>,
    pub engine: Engine,
    pub ended: broadcast::Receiver<RunEnded>,
}

pub(crate) fn config(dir: &std::path::Path, jobs: Vec<JobConfig>, http_jobs: Vec<JobHttpConfig>) -> Config {
    let mut server = library::server(dir);
    server.secret = crate::config::Secret::new("s3cret");
    Config {
        server,
        jobs: jobs.into_iter().map(Arc::new).collect(),
        http_jobs: http_jobs.into_iter().map(Arc::new).collect(),
        notifs: Default::default(),
        webhooks: Default::default(),
        checks: vec![],
        users: vec![],
        tokens: vec![],
    }
}

pub(crate) fn fixture_in(
    dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
    config: Config,
    calls: HashMap<JobId, JobCall>,
) -> Fixture {
    let mut opts = EngineOptions::new("http://127.0.0.1:9");
    opts.clock = clock.clone();
    opts.calls = calls;
    opts.shutdown_grace = Duration::from_secs(2);
    let engine = Engine::new(config, opts).unwrap();
    let ended = engine.subscribe_ended();
    engine.start();
    Fixture { dir, clock, engine, ended }
}

/// A closure job that counts its runs and waits for a permit of `gate` (if given).
pub(crate) fn gated(runs: Arc<AtomicUsize>, gate: Option<Arc<Semaphore>>) -> JobCall {
    JobCall::new(move |ctx, log, _| {
        let (runs, gate) = (runs.clone(), gate.clone());
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            log.line(format!("run {} by {}", ctx.counter, ctx.trigger)).await;
            if let Some(g) = gate {
                tokio::select! {
                    p = g.acquire() => p.unwrap().forget(),
                    _ = ctx.cancel.cancelled() => {}
                }
            }
            Ok(())
        }
    })
}

pub(crate) fn timed(name: &str, timer: Option<Timer>) -> JobConfig {
    let mut j = library::job(name);
    j.common.timer = timer;
    j
}

pub(crate) fn every_minute() -> Option<Timer> {
    Some(Timer::Interval(Duration::from_secs(60)))
}

pub(crate) async fn next_end(f: &mut Fixture) -> RunEnded {
    tokio::time::timeout(LIMIT, f.ended.recv()).await.expect("a run ended in time").unwrap()
}

pub(crate) async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(start.elapsed() < LIMIT, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn one_job(name: &str, timer: Option<Timer>, call: JobCall, t0: DateTime<Utc>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), vec![timed(name, timer)], vec![]);
    let calls = HashMap::from([(JobId::from_name(name), call)]);
    fixture_in(dir, Arc::new(ManualClock::new(t0)), cfg, calls)
}

fn id(s: &str) -> JobId {
    JobId::from_name(s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interval_job_runs_at_once_then_every_interval() {
    let t0 = start_time();
    let runs = Arc::new(AtomicUsize::new(0));
    let mut f = one_job("tick", every_minute(), gated(runs.clone(), None), t0);
    let e = next_end(&mut f).await;
    assert_eq!((e.counter, e.status, e.started), (1, JobStatus::Success, t0));
    wait_until("next run set", || f.engine.job(&id("tick")).unwrap().base.next_run == Some(t0 + TimeDelta::minutes(1)))
        .await;
    for minute in 1..=5 {
        f.clock.advance(Duration::from_secs(60));
        let e = next_end(&mut f).await;
        assert_eq!((e.counter, e.started), (minute + 1, t0 + TimeDelta::minutes(minute as i64)));
    }
    assert_eq!(runs.load(Ordering::SeqCst), 6);
    let job = f.engine.job(&id("tick")).unwrap();
    assert_eq!(job.base.logs.len(), 5, "log_retention 5 keeps the 5 latest");
    assert_eq!(job.base.logs[0].counter, 2);
    let log = f.engine.log(JobKind::Job, &id("tick"), 6).unwrap();
    let text = String::from_utf8(log.content).unwrap();
    assert!(text.contains("job: tick: run 6 by timer\n"), "{text}");
    assert!(text.trim_end().ends_with("job: tick: === DONE"), "{text}");
    f.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_refuses_ticks_without_logs_and_next_run_advances() {
    let t0 = start_time();
    let runs = Arc::new(AtomicUsize::new(0));
    let mut f = one_job("p", every_minute(), gated(runs.clone(), None), t0);
    next_end(&mut f).await;
    let paused = f.engine.pause(JobKind::Job, &id("p")).unwrap();
    assert_eq!(serde_json::to_value(&paused).unwrap()["status"], "paused");
    assert!(matches!(f.engine.trigger_job(&id("p"), Trigger::Manual), Err(EngineError::Paused)));
    for minute in 1..=3 {
        f.clock.advance(Duration::from_secs(60));
        let want = Some(t0 + TimeDelta::minutes(minute + 1));
        wait_until("next run advanced", || f.engine.job(&id("p")).unwrap().base.next_run == want).await;
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let dir = crate::store::log::log_dir(f.dir.path(), JobKind::Job, &id("p"));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no log for refused ticks");
    let resumed = f.engine.resume(JobKind::Job, &id("p")).unwrap();
    assert_eq!(serde_json::to_value(&resumed).unwrap()["status"], "success");
    f.clock.advance(Duration::from_secs(60));
    assert_eq!(next_end(&mut f).await.counter, 2);
    f.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interval_after_restart_continues_from_the_last_log() {
    let t0 = start_time();
    let dir = tempfile::tempdir().unwrap();
    let log_dir = crate::store::log::log_dir(dir.path(), JobKind::Job, &id("r"));
    std::fs::create_dir_all(&log_dir).unwrap();
    let last = log_dir.join("r.7.success");
    std::fs::write(&last, "x\n").unwrap();
    let ran_at = t0 - TimeDelta::seconds(10);
    std::fs::File::options().write(true).open(&last).unwrap().set_modified(ran_at.into()).unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let cfg = config(dir.path(), vec![timed("r", every_minute())], vec![]);
    let calls = HashMap::from([(id("r"), gated(runs.clone(), None))]);
    let mut f = fixture_in(dir, Arc::new(ManualClock::new(t0)), cfg, calls);
    let want = Some(ran_at + TimeDelta::minutes(1));
    wait_until("next run from the log's time", || f.engine.job(&id("r")).unwrap().base.next_run == want).await;
    let job = f.engine.job(&id("r")).unwrap();
    assert_eq!((job.base.status, job.base.last_run), (JobStatus::Success, Some(ran_at)));
    f.clock.advance(Duration::from_secs(50));
    let e = next_end(&mut f).await;
    assert_eq!(e.counter, 8, "counters continue after the highest found");
    f.engine.shutdown().await;

    // Overdue after a long stop: runs at once.
    let (dir, clock) = (f.dir, f.clock);
    clock.advance(Duration::from_secs(3600));
    let cfg = config(dir.path(), vec![timed("r", every_minute())], vec![]);
    let calls = HashMap::from([(id("r"), gated(runs.clone(), None))]);
    let mut f = fixture_in(dir, clock, cfg, calls);
    assert_eq!(next_end(&mut f).await.counter, 9);
    f.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trigger_queues_and_the_next_is_refused() {
    let gate = Arc::new(Semaphore::new(0));
    let runs = Arc::new(AtomicUsize::new(0));
    let mut f = one_job("q", None, gated(runs.clone(), Some(gate.clone())), start_time());
    f.engine.trigger_job(&id("q"), Trigger::Manual).unwrap();
    wait_until("running", || f.engine.job(&id("q")).unwrap().base.status == JobStatus::Running).await;
    f.engine.trigger_job(&id("q"), Trigger::Http { body: "{}".into() }).unwrap();
    let refused = f.engine.trigger_job(&id("q"), Trigger::Manual);
    assert!(matches!(refused, Err(EngineError::AlreadyQueued)), "{refused:?}");
    gate.add_permits(2);
    assert_eq!(next_end(&mut f).await.counter, 1);
    assert_eq!(next_end(&mut f).await.counter, 2);
    let text = String::from_utf8(f.engine.log(JobKind::Job, &id("q"), 2).unwrap().content).unwrap();
    assert!(text.contains("run 2 by http"), "{text}");
    wait_until("idle", || f.engine.running_count() == 0).await;
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    f.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tick_while_running_is_dropped() {
    let t0 = start_time();
    let gate = Arc::new(Semaphore::new(0));
    let runs = Arc::new(AtomicUsize::new(0));
    let mut f = one_job("d", every_minute(), gated(runs.clone(), Some(gate.clone())), t0);
    wait_until("running", || f.engine.job(&id("d")).unwrap().base.status == JobStatus::Running).await;
    f.clock.advance(Duration::from_secs(60));
    let want = Some(t0 + TimeDelta::minutes(2));
    wait_until("tick passed", || f.engine.job(&id("d")).unwrap().base.next_run == want).await;
    gate.add_permits(10);
    assert_eq!(next_end(&mut f).await.counter, 1);
    wait_until("idle", || f.engine.running_count() == 0).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the dropped tick was not queued");
    f.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_slot_never_runs_two_jobs_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (now, max) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut calls = HashMap::new();
    let mut jobs = Vec::new();
    for n in 0..4 {
        let name = format!("s{n}");
        jobs.push(timed(&name, None));
        let (now, max) = (now.clone(), max.clone());
        calls.insert(
            id(&name),
            JobCall::new(move |_, _, _| {
                let (now, max) = (now.clone(), max.clone());
                async move {
                    let c = now.fetch_add(1, Ordering::SeqCst) + 1;
                    max.fetch_max(c, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    now.fetch_sub(1, Ordering::SeqCst);
                    Ok(())
                }
            }),
        );
    }
    let cfg = config(dir.path(), jobs, vec![]);
    let mut f = fixture_in(dir, Arc::new(ManualClock::new(start_time())), cfg, calls);
    for n in 0..4 {
        f.engine.trigger_job(&id(&format!("s{n}")), Trigger::Manual).unwrap();
    }
    for _ in 0..4 {
        let e = next_end(&mut f).await;
        assert_eq!(e.status, JobStatus::Success);
    }
    assert_eq!(max.load(Ordering::SeqCst), 1);
    f.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_ends_a_run_as_canceled_and_is_a_no_op_when_idle() {
    let gate = Arc::new(Semaphore::new(0));
    let mut f = one_job("c", None, gated(Arc::new(AtomicUsize::new(0)), Some(gate)), start_time());
    let (_, canceled) = f.engine.cancel(JobKind::Job, &id("c")).unwrap();
    assert_eq!(canceled, super::Canceled::NotRunning);
    f.engine.trigger_job(&id("c"), Trigger::Manual).unwrap();
    wait_until("running", || f.engine.job(&id("c")).unwrap().base.status == JobStatus::Running).await;
    let (_, canceled) = f.engine.cancel(JobKind::Job, &id("c")).unwrap();
    assert_eq!(canceled, super::Canceled::Run);
    let e = next_end(&mut f).await;
    assert_eq!(e.status, JobStatus::Canceled);
    assert!(e.log_path.ends_with("c.1.canceled"), "{}", e.log_path.display());
    let follow = f.engine.follow_log(JobKind::Job, &id("c"), None).unwrap();
    assert_eq!(follow.progress.borrow().1, RunState::Ended(JobStatus::Canceled));
    f.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_stop_at_the_first_failure() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = library::job("cmd");
    j.commands = vec!["echo \"$KARAJO_JOB_TRIGGER $KARAJO_JOB_COUNTER\"".into(), "exit 3".into(), "echo never".into()];
    let cfg = config(dir.path(), vec![j], vec![]);
    let mut f = fixture_in(dir, Arc::new(ManualClock::new(start_time())), cfg, HashMap::new());
    f.engine.trigger_job(&id("cmd"), Trigger::Manual).unwrap();
    let e = next_end(&mut f).await;
    assert_eq!(e.status, JobStatus::Failed);
    let text = std::fs::read_to_string(&e.log_path).unwrap();
    assert!(text.contains("job: cmd: manual 1\n"), "{text}");
    assert!(text.contains("--- Execute  1: exit 3\n"), "{text}");
    assert!(text.contains("exit status 3"), "{text}");
    assert!(!text.contains("never"), "{text}");
    f.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_encoded_environment_is_reused_until_a_job_changes() {
    let t0 = start_time();
    let runs = Arc::new(AtomicUsize::new(0));
    let mut f = one_job("env", every_minute(), gated(runs, None), t0);
    let fresh = |f: &Fixture| serde_json::to_vec(&proto::Response::ok(f.engine.environment())).unwrap();
    next_end(&mut f).await;
    wait_until("next run set", || f.engine.job(&id("env")).unwrap().base.next_run == Some(t0 + TimeDelta::minutes(1)))
        .await;
    // The cache lives in the HTTP layer; what it relies on is the engine's state version.
    use crate::http::environment::{Encoding::Identity, EnvironmentCache};
    let cache = EnvironmentCache::default();
    let a = cache.answer(&f.engine, Identity).unwrap();
    let b = cache.answer(&f.engine, Identity).unwrap();
    assert!(a.body.is_same(&b.body), "nothing changed: the same answer is sent again");
    assert!(a.body.chunks().len() > 1, "the plain form is sent in chunks");
    assert_eq!(a.body.to_bytes(), fresh(&f));
    assert!(cache.unchanged(&f.engine, Identity).is_some_and(|k| k.body.is_same(&a.body)), "kept and at hand");

    f.engine.pause(JobKind::Job, &id("env")).unwrap();
    assert!(cache.unchanged(&f.engine, Identity).is_none(), "after a pause the kept answer is stale");
    let paused = cache.answer(&f.engine, Identity).unwrap().body.to_bytes();
    assert_ne!(paused, a.body.to_bytes(), "a pause shows at once");
    assert_eq!(paused, fresh(&f));
    assert!(std::str::from_utf8(&paused).unwrap().contains(r#""status":"paused""#));

    f.clock.advance(Duration::from_secs(60));
    let want = Some(t0 + TimeDelta::minutes(2));
    wait_until("next run advanced", || f.engine.job(&id("env")).unwrap().base.next_run == want).await;
    let ticked = cache.answer(&f.engine, Identity).unwrap().body.to_bytes();
    assert_ne!(ticked, paused, "a timer tick moves next_run");
    assert_eq!(ticked, fresh(&f));

    f.engine.resume(JobKind::Job, &id("env")).unwrap();
    f.engine.trigger_job(&id("env"), Trigger::Manual).unwrap();
    next_end(&mut f).await;
    let ran = cache.answer(&f.engine, Identity).unwrap().body.to_bytes();
    assert_eq!(ran, fresh(&f), "a run's end and its log show");
    assert!(std::str::from_utf8(&ran).unwrap().contains(r#""counter":2"#));
    f.engine.shutdown().await;
}

#[tokio::test]
async fn the_gzip_form_is_kept_with_the_answer_and_goes_with_it() {
    use crate::http::environment::{Encoding, EnvironmentCache};
    use std::io::Read;
    let t0 = start_time();
    let runs = Arc::new(AtomicUsize::new(0));
    let mut f = one_job("env", every_minute(), gated(runs, None), t0);
    next_end(&mut f).await;
    let cache = EnvironmentCache::default();
    let gunzip = |gz: &[u8]| {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(gz).read_to_end(&mut out).unwrap();
        out
    };
    assert!(cache.unchanged(&f.engine, Encoding::Gzip).is_none(), "nothing kept yet");
    let json = cache.answer(&f.engine, Encoding::Identity).unwrap().body.to_bytes();
    assert!(cache.unchanged(&f.engine, Encoding::Gzip).is_none(), "compressed only when asked for");
    let gz = cache.answer(&f.engine, Encoding::Gzip).unwrap().body;
    assert_eq!(gunzip(&gz.to_bytes()), json.to_vec());
    let kept = cache.unchanged(&f.engine, Encoding::Gzip).expect("kept once made");
    assert!(kept.body.is_same(&gz), "the same bytes are sent again");
    f.engine.pause(JobKind::Job, &id("env")).unwrap();
    assert!(cache.unchanged(&f.engine, Encoding::Gzip).is_none(), "a change makes the gzip form stale too");
    let paused = gunzip(&cache.answer(&f.engine, Encoding::Gzip).unwrap().body.to_bytes());
    assert!(std::str::from_utf8(&paused).unwrap().contains(r#""status":"paused""#));
    f.engine.shutdown().await;
}

/// A start with enough jobs for several recovery threads, from one listing
/// of the shared folders: every job gets its own logs, its pause flag and
/// its folders, in config order, as the one-job-at-a-time path gives them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_with_many_jobs_gives_each_its_own_logs_flag_and_folders() {
    const JOBS: usize = 3 * super::build::JOBS_PER_THREAD + 7;
    let dir = tempfile::tempdir().unwrap();
    let name = |i: usize| format!("j{i:04}");
    for i in 0..JOBS {
        let jid = id(&name(i));
        let logs = crate::store::log::log_dir(dir.path(), JobKind::Job, &jid);
        // Every fifth job has no log folder yet, every seventh no folder of its own.
        if i % 5 != 0 {
            std::fs::create_dir_all(&logs).unwrap();
            for c in 1..=(i % 4) as u64 {
                let status = if c == 3 {
                    "running"
                } else if c % 2 == 0 {
                    "failed"
                } else {
                    "success"
                };
                std::fs::write(logs.join(format!("{}.{c}.{status}", jid.as_str())), "x\n").unwrap();
            }
        }
        if i % 7 != 0 {
            std::fs::create_dir_all(dir.path().join("var/lib/karajo/job").join(jid.as_str())).unwrap();
        }
        if i % 11 == 0 {
            crate::store::state::set_paused(dir.path(), JobKind::Job, &jid, true).unwrap();
        }
    }
    let jobs = (0..JOBS).map(|i| timed(&name(i), None)).collect();
    let cfg = config(dir.path(), jobs, vec![]);
    let engine = Engine::new(cfg, EngineOptions::new("http://127.0.0.1:9")).unwrap();
    let listed: Vec<String> = engine.entries().iter().map(|e| e.id.as_str().to_string()).collect();
    assert_eq!(listed, (0..JOBS).map(name).collect::<Vec<_>>(), "config order");
    for i in 0..JOBS {
        let jid = id(&name(i));
        let job = engine.job(&jid).unwrap();
        let logs = if i % 5 == 0 { 0 } else { i % 4 };
        assert_eq!(job.base.logs.len(), logs, "{jid}: its own logs");
        let want = match (i % 11 == 0, logs) {
            (true, _) => JobStatus::Paused,
            (false, 0) => JobStatus::Started,
            // The third log was `running`: a daemon stop, marked failed.
            (false, 2 | 3) => JobStatus::Failed,
            (false, _) => JobStatus::Success,
        };
        assert_eq!(job.base.status, want, "{jid}");
        assert!(crate::store::log::log_dir(dir.path(), JobKind::Job, &jid).is_dir(), "{jid}: log folder");
        assert!(dir.path().join("var/lib/karajo/job").join(jid.as_str()).is_dir(), "{jid}: its folder");
    }
    engine.shutdown().await;
}
