//! Building the registry from a config (with each job's history recovered
//! from disk), starting timers, and applying a reloaded config.
//!
//! Start-up order: the processes of the runs a killed daemon left are
//! ended first, then what a killed daemon left half-written (temporary
//! pause flags, request bodies) goes, then every job's logs are recovered
//! (by a few threads, from one listing of the folders all jobs share).
//!
//! Invariant: disk work (recovery, directories) happens before any lock is
//! taken; the registry lock is held only to swap entries in or out. A job
//! removed by a reload while it runs stays `retired` until its run ends;
//! re-added meanwhile, it is that same entry again (its `.running` log is
//! never recovered, its counter goes on).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, RwLock};

use proto::{JobId, JobKind};
use tokio::sync::{Semaphore, broadcast};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::registry::{Entry, EntryState, Spec};
use super::{Engine, EngineError, EngineOptions, Inner, process, timer};
use crate::config::Config;
use crate::store::{self, log, state};

/// How many run ends a slow subscriber may lag behind before it misses some.
const ENDED_BACKLOG: usize = 1024;

pub(super) fn new(config: Config, opts: EngineOptions) -> Result<Engine, EngineError> {
    let dir_base = config.server.dir_base.clone();
    for sub in ["var/lib/karajo/job", "var/lib/karajo/job_http", "var/log/karajo/job", "var/log/karajo/job_http"] {
        store::ensure_dir(&dir_base.join(sub))?;
    }
    let processes = Arc::new(process::Processes::new(&dir_base, opts.process)?);
    super::off_workers(|| process::end_old_runs(&dir_base, opts.process.kill_grace));
    state::remove_temp_files(&dir_base);
    remove_request_bodies(&dir_base);
    let mut jobs = BTreeMap::new();
    let changes = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let specs: Vec<Spec> = specs(&config).collect();
    for entry in recover_all(&dir_base, specs, opts.clock.now(), &changes)? {
        jobs.insert((entry.kind, entry.id.clone()), Arc::new(entry));
    }
    let slots = config.server.max_job_running;
    let inner = Inner {
        config: RwLock::new(Arc::new(config)),
        jobs: RwLock::new(jobs),
        dir_base,
        clock: opts.clock,
        shutdown_grace: opts.shutdown_grace,
        self_url: opts.self_url,
        calls: opts.calls,
        processes,
        retired: std::sync::Mutex::new(BTreeMap::new()),
        clients: Default::default(),
        slots: Arc::new(Semaphore::new(slots as usize)),
        slot_count: std::sync::Mutex::new(slots),
        tracker: TaskTracker::new(),
        timers: CancellationToken::new(),
        stopping: CancellationToken::new(),
        started: AtomicBool::new(false),
        ended: broadcast::channel(ENDED_BACKLOG).0,
        run_started: broadcast::channel(ENDED_BACKLOG).0,
        run_missed: broadcast::channel(ENDED_BACKLOG).0,
        running: AtomicUsize::new(0),
        reloads: std::sync::atomic::AtomicU64::new(0),
        changes,
        dropped: Default::default(),
        history: opts.history,
        checks: Default::default(),
        timer_runtime: opts.timer_runtime,
        db_runtime: opts.db_runtime,
    };
    Ok(Engine { inner: Arc::new(inner) })
}

fn specs(config: &Config) -> impl Iterator<Item = Spec> + '_ {
    let jobs = config.jobs.iter().map(|j| Spec::Job(j.clone()));
    jobs.chain(config.http_jobs.iter().map(|j| Spec::Http(j.clone())))
}

/// Request bodies of runs a killed daemon never finished: no run reads them.
fn remove_request_bodies(dir_base: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(super::run::request_dir(dir_base)) else { return };
    for e in entries.flatten() {
        if let Err(err) = std::fs::remove_file(e.path()) {
            tracing::warn!(path = %e.path().display(), error = %err, "cannot remove a stale request body");
        }
    }
}

/// Every job's entry, in `specs` order: each job's folder is read by one
/// of a few threads (the `readdir`s were a third of a 10,000-job start, on
/// one core), from one listing of the folders they share.
fn recover_all(
    dir_base: &std::path::Path,
    mut specs: Vec<Spec>,
    now: chrono::DateTime<chrono::Utc>,
    changes: &Arc<std::sync::atomic::AtomicU64>,
) -> Result<Vec<Entry>, EngineError> {
    let found = Found::read(dir_base);
    let share = specs.len().div_ceil(recovery_threads(specs.len())).max(1);
    let mut parts = Vec::new();
    while specs.len() > share {
        let rest = specs.split_off(share);
        parts.push(std::mem::replace(&mut specs, rest));
    }
    parts.push(specs);
    let recovered: Vec<Vec<Result<Entry, EngineError>>> = std::thread::scope(|scope| {
        let workers: Vec<_> = parts
            .into_iter()
            .map(|part| {
                let found = found.as_ref();
                scope.spawn(move || part.into_iter().map(|spec| recover(dir_base, spec, now, changes, found)).collect())
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    });
    recovered.into_iter().flatten().collect()
}

/// Jobs one recovery thread takes at least: below that a thread costs
/// more than it saves.
pub(super) const JOBS_PER_THREAD: usize = 256;

/// How many threads read the jobs' folders at start-up: one per core, at
/// most four, and one for a small config.
fn recovery_threads(jobs: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.min(4).min(jobs / JOBS_PER_THREAD).max(1)
}

/// The folders every job has an entry in, listed once at start-up: with
/// 10,000 jobs, 50,000 `mkdir` and `stat` calls fewer on the way to
/// listening (SPEC 23).
struct Found {
    /// `var/lib/karajo/job`: each job's own folder.
    work: store::Listing,
    /// The log folders of jobs and of HTTP jobs.
    logs: [store::Listing; 2],
    /// The pause flags of jobs and of HTTP jobs.
    paused: [store::Listing; 2],
}

impl Found {
    /// `None` when a folder cannot be listed: each job then asks for itself.
    fn read(dir_base: &std::path::Path) -> Option<Found> {
        let list = |dir: std::path::PathBuf| match store::Listing::read(&dir) {
            Ok(l) => Some(l),
            Err(e) => {
                tracing::warn!(error = %e, "start-up looks at each job's folders one by one");
                None
            }
        };
        let logs = |kind: JobKind| list(log::kind_dir(dir_base, kind));
        Some(Found {
            work: list(dir_base.join("var/lib/karajo/job"))?,
            logs: [logs(JobKind::Job)?, logs(JobKind::JobHttp)?],
            paused: [
                list(state::state_dir(dir_base, JobKind::Job))?,
                list(state::state_dir(dir_base, JobKind::JobHttp))?,
            ],
        })
    }
}

/// Index of a kind in [`Found`]'s pairs.
fn slot_of(kind: JobKind) -> usize {
    match kind {
        JobKind::Job => 0,
        JobKind::JobHttp => 1,
    }
}

/// A fresh entry with its history from disk; `found`: the start-up's
/// listing of the shared folders, else each is asked about this job.
fn recover(
    dir_base: &std::path::Path,
    spec: Spec,
    now: chrono::DateTime<chrono::Utc>,
    changes: &Arc<std::sync::atomic::AtomicU64>,
    found: Option<&Found>,
) -> Result<Entry, EngineError> {
    let (kind, id) = (spec.kind(), spec.id().clone());
    if kind == JobKind::Job && !found.is_some_and(|f| f.work.has_dir(id.as_str())) {
        store::ensure_dir(&dir_base.join("var/lib/karajo/job").join(id.as_str()))?;
    }
    let dir = log::log_dir(dir_base, kind, &id);
    if !found.is_some_and(|f| f.logs[slot_of(kind)].has_dir(id.as_str())) {
        store::ensure_dir(&dir)?;
    }
    let r = log::recover(&dir, kind, &id, now)?;
    let paused = match found {
        Some(f) => f.paused[slot_of(kind)].has_file(id.as_str()),
        None => state::is_paused(dir_base, kind, &id),
    };
    let last = r.logs.last();
    Ok(Entry::new(
        EntryState {
            paused,
            last_status: last.map(|l| l.status),
            counter: last.map_or(0, |l| l.counter),
            last_run: r.last_run,
            last_slot: None,
            next_run: None,
            logs: r.logs,
            active: None,
            queued: Default::default(),
            timer: CancellationToken::new(),
            removed: false,
            recent: Default::default(),
            spec,
        },
        changes.clone(),
    ))
}

/// Starts an entry's timer (if it has one) under a fresh token.
pub(super) fn start_timer(engine: &Engine, entry: &Arc<Entry>) {
    timer::spawn(engine, arm_timer(engine, entry).into_iter().collect());
}

/// Ends the entry's timer, if any, and gives what its new one needs: its
/// schedule and the token that stops it (`None`: the job has no timer).
pub(super) fn arm_timer(engine: &Engine, entry: &Arc<Entry>) -> Option<timer::Armed> {
    let mut st = entry.lock();
    st.timer.cancel();
    st.timer = engine.inner.timers.child_token();
    st.next_run = None;
    let timer = st.spec.timer().cloned()?;
    Some(timer::Armed { entry: entry.clone(), timer, token: st.timer.clone() })
}

/// Applies a new config: entries added, removed, changed in place (their
/// history and any run in progress kept).
pub(super) fn reload(engine: &Engine, config: Config) {
    let inner = &engine.inner;
    resize_slots(engine, config.server.max_job_running);
    let old: BTreeMap<(JobKind, JobId), Arc<Entry>> = super::read(&inner.jobs).clone();
    let mut retired = take_retired(engine);
    let mut next = BTreeMap::new();
    let mut fresh = Vec::new();
    for spec in specs(&config) {
        let key = (spec.kind(), spec.id().clone());
        if let Some(entry) = retired.remove(&key) {
            // Its run is still going: this is the same job again.
            {
                let mut st = entry.lock();
                st.removed = false;
                st.spec = spec;
            }
            tracing::info!(job.id = %key.1, "job re-added by reload while its run goes on");
            fresh.push(entry.clone());
            next.insert(key, entry);
            continue;
        }
        match old.get(&key) {
            Some(entry) => {
                let changed = {
                    let mut st = entry.lock();
                    let timer_changed = st.spec.timer() != spec.timer();
                    st.spec = spec;
                    timer_changed
                };
                if changed && inner.started.load(std::sync::atomic::Ordering::SeqCst) {
                    start_timer(engine, entry);
                }
                next.insert(key, entry.clone());
            }
            None => {
                match super::off_workers(|| recover(&inner.dir_base, spec, inner.clock.now(), &inner.changes, None)) {
                    Ok(entry) => {
                        let entry = Arc::new(entry);
                        super::history::reconcile_later(engine, entry.clone());
                        fresh.push(entry.clone());
                        next.insert(key, entry);
                    }
                    Err(e) => tracing::error!(job.id = %key.1, error = %e, "cannot add the job"),
                }
            }
        }
    }
    for (key, entry) in &old {
        if !next.contains_key(key) {
            let mut st = entry.lock();
            st.removed = true;
            st.timer.cancel();
            if st.active.is_some() {
                retired.insert(key.clone(), entry.clone());
            }
            tracing::info!(job.id = %key.1, "job removed by reload");
        }
    }
    *inner.retired.lock().unwrap_or_else(|e| e.into_inner()) = retired;
    let (added, total) = (fresh.len(), next.len());
    *inner.jobs.write().unwrap_or_else(|e| e.into_inner()) = next;
    *inner.config.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(config);
    // Other jobs, other settings: the state version moves (see `Engine::state_version`).
    inner.reloads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    if inner.started.load(std::sync::atomic::Ordering::SeqCst) {
        for entry in &fresh {
            start_timer(engine, entry);
        }
    }
    tracing::info!(jobs = total, added, "configuration reloaded");
}

/// The removed entries whose run still goes on (the idle ones are dropped).
fn take_retired(engine: &Engine) -> BTreeMap<(JobKind, JobId), Arc<Entry>> {
    let mut retired = std::mem::take(&mut *engine.inner.retired.lock().unwrap_or_else(|e| e.into_inner()));
    retired.retain(|_, e| e.lock().active.is_some());
    retired
}

/// Follows a changed `max_job_running`: more permits at once, fewer as
/// runs give theirs back.
fn resize_slots(engine: &Engine, want: u32) {
    let inner = &engine.inner;
    let have = std::mem::replace(&mut *inner.slot_count.lock().unwrap_or_else(|e| e.into_inner()), want);
    if want > have {
        inner.slots.add_permits((want - have) as usize);
    } else if want < have {
        let slots = inner.slots.clone();
        inner.tracker.spawn(async move {
            if let Ok(p) = slots.acquire_many_owned(have - want).await {
                p.forget();
            }
        });
    }
}
