//! The job engine: the registry of jobs and HTTP jobs, the global run slots
//! (`max_job_running`), triggers (timer, webhook, manual), pause/resume,
//! cancel, and read-only snapshots for the API.
//!
//! The signatures here are the contract the transports (HTTP API, control
//! socket, library API) are written against: add rather than change.
//! Parts: `registry` (entries and views), `build` (from config, reload),
//! `timer`, `run` (the run task), `runner` (a run's commands), `process`
//! (finding and ending every process of a run), `job_http`, `call`
//! (closure jobs), `logs` (reading and following run logs), `history`
//! (each run's row in the history database, reconciled with the logs at
//! start), `options`.
//!
//! Invariants: snapshots never wait on a run or a disk write; at most one
//! run per job and one queued trigger; no lock is held across an await,
//! a process spawn or disk I/O.

mod attempt;
mod build;
pub mod call;
mod catch_up;
mod census;
pub mod clock;
mod history;
mod job_http;
mod logs;
mod options;
mod overlap;
mod parts;
mod process;
mod registry;
mod run;
mod runner;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_catch_up;
#[cfg(test)]
mod tests_env;
#[cfg(test)]
mod tests_http;
#[cfg(test)]
mod tests_process;
#[cfg(test)]
mod tests_retry;
#[cfg(test)]
mod tests_schedule;
mod timer;
mod upcoming;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use proto::{AnyJob, Environment, Job, JobHttp, JobId, JobKind, JobLogContent, JobStatus};

use crate::config::{AuthKind, Config, Secret};
use crate::store::IoError;
pub use crate::store::log::RunState;
pub use call::{CallError, JobCall, JobContext, LogWriter};
pub use census::Census;
pub use clock::{Clock, ManualClock, SystemClock};
pub use history::HistoryRead;
pub use logs::LogFile;
pub use options::{DEFAULT_SHUTDOWN_GRACE, EngineOptions};
use overlap::Admitted;
pub use overlap::DroppedCount;
pub use parts::{EnvPart, EnvParts};
pub use process::{KILL_GRACE, ProcessOptions, TAG_ENV, Tracking};
use registry::{ActiveRun, Entry};
pub use runner::JOB_PATH;
pub(crate) use timer::next_due;
use tokio::sync::{Semaphore, broadcast};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
pub(crate) use upcoming::slots;

/// Why a run was started; exported to commands as `KARAJO_JOB_TRIGGER`.
#[derive(Debug, Clone)]
pub enum Trigger {
    /// The job's interval or schedule.
    Timer,
    /// An authorised webhook; the body is handed to the run.
    Http { body: Bytes },
    /// The dashboard, karajoctl or the API's run-now.
    Manual,
    /// A timer slot missed while karajod was down or the job paused (`catch_up`).
    CatchUp { slot: chrono::DateTime<chrono::Utc> },
}

impl Trigger {
    /// The nominal slot the run is for: a catch-up's own; a timer run's comes with its [`Due`].
    pub fn slot(&self, due: Option<Due>) -> Option<chrono::DateTime<chrono::Utc>> {
        match self {
            Trigger::Timer => due.map(|d| d.slot),
            Trigger::CatchUp { slot } => Some(*slot),
            _ => None,
        }
    }
}

/// When a timer tick was due: its nominal slot, and the instant it was to
/// start (the slot plus jitter), which its lateness is measured from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    pub slot: chrono::DateTime<chrono::Utc>,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// What the webhook layer needs to authenticate a request to a job's path.
#[derive(Debug, Clone)]
pub struct WebhookAuth {
    pub id: JobId,
    pub auth_kind: AuthKind,
    pub header_sign: String,
    pub secret: Secret,
}

/// Errors the transports map to status codes and `ERR_*` names.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// 404 `ERR_JOB_NOT_FOUND` (jobs) / 400 `ERR_INVALID_JOB_ID` (HTTP jobs).
    #[error("job not found: {0}")]
    JobNotFound(String),
    /// 412 `ERR_JOB_PAUSED`.
    #[error("job is paused")]
    Paused,
    /// 429 `ERR_JOB_ALREADY_RUN`: the job is active and its `overlap` refuses
    /// another trigger (the queue is full, or `skip`).
    #[error("job already run")]
    AlreadyQueued,
    /// 404: `log #N not found`.
    #[error("log #{0} not found")]
    LogNotFound(u64),
    /// A file operation failed; says which file and what was being done.
    #[error("{op} {path}: {source}")]
    Io { op: &'static str, path: PathBuf, source: std::io::Error },
    /// The engine is shutting down and takes no new runs.
    #[error("shutting down")]
    ShuttingDown,
}

impl From<process::ProcessError> for EngineError {
    fn from(e: process::ProcessError) -> EngineError {
        EngineError::Io { op: e.what, path: e.path, source: e.source }
    }
}

impl From<IoError> for EngineError {
    fn from(e: IoError) -> EngineError {
        EngineError::Io { op: e.op, path: e.path, source: e.source }
    }
}

/// A live view of one run's log for streaming (SSE, `karajoctl logs -f`):
/// read the file from the start, then wait on `progress` for more bytes
/// until it says the run ended. Nothing of the log is held in memory.
pub struct LogFollow {
    pub job_id: JobId,
    pub counter: u64,
    /// The log file, opened before any rename so the handle stays valid.
    pub file: std::fs::File,
    /// Bytes written so far and the run's state; `None` sender = already ended.
    pub progress: tokio::sync::watch::Receiver<(u64, RunState)>,
}

/// A run that has just started (its row and log exist), as seen by the
/// alerts: `notif_on_late`, `notif_on_long_running` and `ping_url`.
#[derive(Debug, Clone)]
pub struct RunStarted {
    pub kind: JobKind,
    pub id: JobId,
    pub counter: u64,
    pub trigger: &'static str,
    pub log_path: PathBuf,
    pub started: chrono::DateTime<chrono::Utc>,
    /// The instant a timer run was due; `None` for other triggers.
    pub due: Option<chrono::DateTime<chrono::Utc>>,
}

/// A timer slot that was not run (SPEC 17), for `notif_on_missed`.
#[derive(Debug, Clone)]
pub struct RunMissed {
    pub kind: JobKind,
    pub id: JobId,
    /// The nominal instant of the slot.
    pub slot: chrono::DateTime<chrono::Utc>,
}

/// A finished run, as seen by notifications and metrics.
#[derive(Debug, Clone)]
pub struct RunEnded {
    pub kind: JobKind,
    pub id: JobId,
    pub counter: u64,
    pub status: JobStatus,
    pub trigger: &'static str,
    pub log_path: PathBuf,
    pub started: chrono::DateTime<chrono::Utc>,
    pub duration: Duration,
    pub queue_wait: Duration,
    /// For a timer-triggered run: how long after its scheduled instant it
    /// started (slot taken, log created). `None` for other triggers.
    pub timer_lateness: Option<Duration>,
}

/// What a cancel did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Canceled {
    /// No run was going: nothing to do.
    NotRunning,
    /// The running run is being ended.
    Run,
    /// The running run is being ended and the trigger queued behind it dropped.
    RunAndQueued,
}

impl Canceled {
    /// True when a run was canceled.
    pub fn ran(self) -> bool {
        self != Canceled::NotRunning
    }
}

/// The engine handle; cheap to clone, shared by every transport.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    config: RwLock<Arc<Config>>,
    jobs: RwLock<BTreeMap<(JobKind, JobId), Arc<Entry>>>,
    dir_base: PathBuf,
    clock: Arc<dyn Clock>,
    shutdown_grace: Duration,
    self_url: String,
    calls: HashMap<JobId, JobCall>,
    processes: Arc<process::Processes>,
    /// Jobs a reload removed while they ran, until their run ends.
    retired: std::sync::Mutex<BTreeMap<(JobKind, JobId), Arc<Entry>>>,
    clients: job_http::Clients,
    slots: Arc<Semaphore>,
    /// How many permits `slots` stands for (max_job_running).
    slot_count: std::sync::Mutex<u32>,
    tracker: TaskTracker,
    /// Parent of every timer's token.
    timers: CancellationToken,
    /// No new runs: set at shutdown.
    stopping: CancellationToken,
    started: std::sync::atomic::AtomicBool,
    ended: broadcast::Sender<RunEnded>,
    run_started: broadcast::Sender<RunStarted>,
    run_missed: broadcast::Sender<RunMissed>,
    running: AtomicUsize,
    /// Configurations loaded since start (the set of entries changes only then).
    reloads: AtomicU64,
    /// Every entry's changes, counted together (each entry counts its own
    /// too): the state's version without a walk over the entries.
    changes: Arc<AtomicU64>,
    /// Triggers refused or dropped by `overlap`, for the metrics.
    dropped: overlap::Dropped,
    history: Option<crate::store::history::History>,
    /// The passive checks, once [`Engine::open_checks`] made them.
    checks: std::sync::OnceLock<Arc<crate::checks::Checks>>,
    /// See [`EngineOptions::timer_runtime`].
    timer_runtime: Option<tokio::runtime::Handle>,
    /// See [`EngineOptions::db_runtime`] and `history::spawn_db`.
    db_runtime: Option<tokio::runtime::Handle>,
}

impl Inner {
    /// Spawns `work`, tracked, on `rt`, or on the current runtime without one.
    fn spawn_on<T: Send + 'static>(
        &self,
        rt: Option<&tokio::runtime::Handle>,
        work: impl std::future::Future<Output = T> + Send + 'static,
    ) -> tokio::task::JoinHandle<T> {
        match rt {
            Some(rt) => self.tracker.spawn_on(work, rt),
            None => self.tracker.spawn(work),
        }
    }
}

/// The version of the whole engine state, from [`Engine::state_version`]:
/// the reload count, and the count of every entry's changes plus the
/// checks' version. Both only grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateVersion {
    reloads: u64,
    entries: u64,
}

/// `reloads-entries` in hex: what an `ETag` of the state is made from.
impl std::fmt::Display for StateVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:x}-{:x}", self.reloads, self.entries)
    }
}

/// A read lock that survives a panic elsewhere.
fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

impl Engine {
    /// Builds the engine from a validated config: creates the directories,
    /// rebuilds every job's state from disk (counters, last status,
    /// last_run, pause flags; `.running` leftovers marked failed).
    pub fn new(config: Config, opts: EngineOptions) -> Result<Engine, EngineError> {
        build::new(config, opts)
    }

    /// Starts the timers. Runs spawned from here are tracked for shutdown.
    /// Brings the history rows and the logs on disk into agreement (SPEC 15)
    /// and takes counters, `last_run` and recent runs from the rows. Call
    /// once after [`Engine::new`], before [`Engine::start`].
    pub async fn reconcile_history(&self) -> Result<(), crate::store::history::HistoryError> {
        let Some(h) = &self.inner.history else { return Ok(()) };
        self.reconcile_from(Self::read_history(h).await?).await
    }

    /// What [`Engine::reconcile_from`] needs of the database, read before
    /// the engine exists: a start runs it beside [`Engine::new`]'s scan of
    /// the log folders (with 10,000 jobs each is a few hundred ms). Nothing
    /// may write `h` between this read and the reconcile.
    pub async fn read_history(
        h: &crate::store::history::History,
    ) -> Result<history::HistoryRead, crate::store::history::HistoryError> {
        history::read_all(h).await
    }

    /// [`Engine::reconcile_history`] with the rows [`Engine::read_history`] read.
    pub async fn reconcile_from(&self, read: history::HistoryRead) -> Result<(), crate::store::history::HistoryError> {
        history::reconcile_all(self, read).await
    }

    /// The history database, if the engine has one (the runs API reads it).
    pub fn history(&self) -> Option<&crate::store::history::History> {
        self.inner.history.as_ref()
    }

    pub fn start(&self) {
        if self.inner.started.swap(true, Ordering::SeqCst) {
            return;
        }
        let armed = self.entries().iter().filter_map(|entry| build::arm_timer(self, entry)).collect();
        timer::spawn(self, armed);
        let reaper = self.inner.processes.clone().reap_on_sigchld(self.inner.stopping.clone());
        self.inner.tracker.spawn(reaper);
    }

    /// Stops timers, lets runs finish within the grace period, cancels the
    /// rest (each ends within the kill grace + 1 s, every process of it
    /// gone), waits for every task.
    pub async fn shutdown(&self) {
        let inner = &self.inner;
        inner.timers.cancel();
        inner.stopping.cancel();
        inner.tracker.close();
        if tokio::time::timeout(inner.shutdown_grace, inner.tracker.wait()).await.is_err() {
            tracing::warn!(grace = ?inner.shutdown_grace, "runs still going after the grace period; canceling them");
            for entry in self.entries() {
                if let Some(a) = &entry.lock().active {
                    a.cancel.cancel();
                }
            }
            inner.tracker.wait().await;
        }
        inner.processes.close();
    }

    /// Applies a new config: jobs added, removed, changed; running runs untouched.
    pub fn reload(&self, config: Config) {
        let checks = config.checks.clone();
        build::reload(self, config);
        if let Some(c) = self.inner.checks.get() {
            c.reload(&checks);
        }
    }

    /// Builds the passive checks of the config, their state read back from
    /// the history (SPEC 18). Call once, before [`Engine::start`]; without
    /// it the engine has no checks (the library API may leave them out).
    pub async fn open_checks(&self) {
        if self.inner.checks.get().is_some() {
            return;
        }
        let config = self.config();
        let c = crate::checks::Checks::start(
            &config.checks,
            self.inner.clock.clone(),
            self.inner.history.clone(),
            self.inner.dir_base.clone(),
            self.inner.stopping.clone(),
        )
        .await;
        let _ = self.inner.checks.set(c);
    }

    /// The passive checks, if [`Engine::open_checks`] made them.
    pub fn checks(&self) -> Option<&Arc<crate::checks::Checks>> {
        self.inner.checks.get()
    }

    /// The clock the engine runs on; every other part of the daemon takes
    /// its time from here too.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.inner.clock.clone()
    }

    /// How this daemon reaches itself (`http_url = /path`), also the base
    /// of the links notifications carry.
    pub fn self_url(&self) -> &str {
        &self.inner.self_url
    }

    /// The config in force.
    pub fn config(&self) -> Arc<Config> {
        read(&self.inner.config).clone()
    }

    fn entries(&self) -> Vec<Arc<Entry>> {
        read(&self.inner.jobs).values().cloned().collect()
    }

    fn entry(&self, kind: JobKind, id: &JobId) -> Result<Arc<Entry>, EngineError> {
        read(&self.inner.jobs).get(&(kind, id.clone())).cloned().ok_or_else(|| EngineError::JobNotFound(id.to_string()))
    }

    /// `/environment`: every job and HTTP job as it is now.
    pub fn environment(&self) -> Environment {
        let mut env = self.environment_head();
        for entry in self.entries() {
            let st = entry.lock();
            if let Some(j) = st.job_view() {
                env.jobs.insert(j.base.name.clone(), j);
            } else if let Some(j) = st.http_view() {
                env.http_jobs.insert(j.base.name.clone(), j);
            }
        }
        env
    }

    /// Where the state shown by [`Engine::environment`] stands: equal
    /// versions mean nothing changed in between (no run, pause, timer tick
    /// or reload), so a transport may send an answer it kept. Read it
    /// before building the view: a change made meanwhile then makes the
    /// next version differ rather than hide behind a stale answer.
    pub fn state_version(&self) -> StateVersion {
        let reloads = self.inner.reloads.load(Ordering::SeqCst);
        let entries = self.inner.changes.load(Ordering::SeqCst);
        let entries = entries.wrapping_add(self.checks().map_or(0, |c| c.version()));
        StateVersion { reloads, entries }
    }

    pub fn job(&self, id: &JobId) -> Option<Job> {
        self.entry(JobKind::Job, id).ok()?.lock().job_view()
    }

    pub fn http_job(&self, id: &JobId) -> Option<JobHttp> {
        self.entry(JobKind::JobHttp, id).ok()?.lock().http_view()
    }

    /// The job whose webhook `path` (leading `/`) this is.
    pub fn webhook(&self, path: &str) -> Option<WebhookAuth> {
        let config = self.config();
        let j = config.jobs.iter().find(|j| j.path.as_deref() == Some(path))?;
        Some(WebhookAuth {
            id: j.common.id.clone(),
            auth_kind: j.auth_kind,
            header_sign: j.common.header_sign.clone(),
            secret: j.common.secret.clone(),
        })
    }

    /// Starts or queues a run. `Paused` and `AlreadyQueued` as the API needs.
    /// Returns the job as it is once the run is queued.
    pub fn trigger_job(&self, id: &JobId, trigger: Trigger) -> Result<Job, EngineError> {
        self.trigger_job_as(id, trigger, None)
    }

    /// [`Engine::trigger_job`] on behalf of `actor` (SPEC 21's form, kept
    /// in the run's row).
    pub fn trigger_job_as(&self, id: &JobId, trigger: Trigger, actor: Option<String>) -> Result<Job, EngineError> {
        let entry = self.entry(JobKind::Job, id)?;
        self.trigger_entry_as(&entry, trigger, None, actor)?;
        Ok(entry.lock().job_view().expect("a job entry"))
    }

    /// Runs an HTTP job now (or queues it).
    pub fn trigger_http_job(&self, id: &JobId) -> Result<JobHttp, EngineError> {
        self.trigger_http_job_as(id, None)
    }

    /// [`Engine::trigger_http_job`] on behalf of `actor`.
    pub fn trigger_http_job_as(&self, id: &JobId, actor: Option<String>) -> Result<JobHttp, EngineError> {
        let entry = self.entry(JobKind::JobHttp, id)?;
        self.trigger_entry_as(&entry, Trigger::Manual, None, actor)?;
        Ok(entry.lock().http_view().expect("an HTTP job entry"))
    }

    /// A run the daemon itself asks for (timer, catch-up): no actor.
    /// `due` is a timer tick's instant, so the run can say how late it
    /// started. Timer ticks are never queued, so `due` only ever belongs
    /// to the run spawned here.
    fn trigger_entry_due(&self, entry: &Arc<Entry>, trigger: Trigger, due: Option<Due>) -> Result<(), EngineError> {
        self.trigger_entry_as(entry, trigger, due, None)
    }

    /// The one place a run is started or queued. A timer tick while the
    /// job is active is dropped; another trigger takes the queue's one
    /// place, with its `actor`.
    fn trigger_entry_as(
        &self,
        entry: &Arc<Entry>,
        trigger: Trigger,
        due: Option<Due>,
        actor: Option<String>,
    ) -> Result<(), EngineError> {
        if self.inner.stopping.is_cancelled() {
            return Err(EngineError::ShuttingDown);
        }
        let cancel = {
            let mut st = entry.lock();
            if st.removed {
                return Err(EngineError::JobNotFound(entry.id.to_string()));
            }
            if st.paused {
                return Err(EngineError::Paused);
            }
            if st.active.is_some() {
                let policy = st.spec.common().overlap;
                let (admitted, dropped) = overlap::admit(policy, &mut st.queued, (trigger, actor));
                if let Some(reason) = dropped {
                    self.inner.dropped.count(entry.kind, &entry.id, reason);
                }
                return match admitted {
                    Admitted::Queued | Admitted::Dropped => Ok(()),
                    Admitted::Refused => Err(EngineError::AlreadyQueued),
                    Admitted::Replace => {
                        let next = st.counter + 1;
                        if let Some(a) = st.active.as_mut() {
                            a.replaced_by = Some(next);
                            a.cancel.cancel();
                        }
                        Ok(())
                    }
                };
            }
            let cancel = CancellationToken::new();
            st.active = Some(ActiveRun { cancel: cancel.clone(), running: None, replaced_by: None, retry_wait: None });
            cancel
        };
        run::spawn(self, entry.clone(), (trigger, actor), due, cancel);
        Ok(())
    }

    /// Pause/resume/cancel, for both kinds; return the job's view afterwards.
    pub fn pause(&self, kind: JobKind, id: &JobId) -> Result<AnyJob, EngineError> {
        self.set_paused(kind, id, true)
    }

    pub fn resume(&self, kind: JobKind, id: &JobId) -> Result<AnyJob, EngineError> {
        self.set_paused(kind, id, false)
    }

    fn set_paused(&self, kind: JobKind, id: &JobId, paused: bool) -> Result<AnyJob, EngineError> {
        let entry = self.entry(kind, id)?;
        // One writer of this job's flag at a time, from the disk write to
        // the state: the last flag written is the last state set, so
        // concurrent pauses and resumes leave both equal.
        let _order = entry.flag_order();
        // The flag on disk first: a pause that is not durable is not reported.
        off_workers(|| crate::store::state::set_paused(&self.inner.dir_base, kind, id, paused))?;
        let mut st = entry.lock();
        let resumed = st.paused && !paused;
        st.paused = paused;
        // A run waiting for its next attempt makes none.
        if let Some(wait) = st.active.as_ref().and_then(|a| a.retry_wait.as_ref()).filter(|_| paused) {
            wait.cancel();
        }
        let view = st.any_view();
        drop(st);
        if resumed {
            catch_up::after_resume(self, &entry);
        }
        Ok(view)
    }

    /// Cancels the running run (TERM, KILL after the grace) and drops the
    /// trigger queued behind it; a no-op if none runs. The bool says
    /// whether a run was canceled.
    pub fn cancel(&self, kind: JobKind, id: &JobId) -> Result<(AnyJob, Canceled), EngineError> {
        let entry = self.entry(kind, id)?;
        let mut st = entry.lock();
        let canceled = match &st.active {
            None => Canceled::NotRunning,
            Some(a) => {
                a.cancel.cancel();
                let dropped = !st.queued.is_empty();
                st.queued.clear();
                if dropped { Canceled::RunAndQueued } else { Canceled::Run }
            }
        };
        Ok((st.any_view(), canceled))
    }

    /// One run's whole log (a finished or running run), in memory.
    pub fn log(&self, kind: JobKind, id: &JobId, counter: u64) -> Result<JobLogContent, EngineError> {
        logs::content(&self.entry(kind, id)?, counter)
    }

    /// One run's log opened for streaming (a finished or running run).
    pub fn open_log(&self, kind: JobKind, id: &JobId, counter: u64) -> Result<LogFile, EngineError> {
        logs::open_read(&self.entry(kind, id)?, counter)
    }

    /// Follows a run's log; `None` = the latest run.
    pub fn follow_log(&self, kind: JobKind, id: &JobId, counter: Option<u64>) -> Result<LogFollow, EngineError> {
        logs::follow(&self.entry(kind, id)?, counter)
    }

    /// Every run's end, for notifications and metrics.
    pub fn subscribe_ended(&self) -> tokio::sync::broadcast::Receiver<RunEnded> {
        self.inner.ended.subscribe()
    }

    /// Every run's start, for the alerts that watch running runs.
    pub fn subscribe_started(&self) -> tokio::sync::broadcast::Receiver<RunStarted> {
        self.inner.run_started.subscribe()
    }

    /// Every missed slot, for `notif_on_missed`.
    pub fn subscribe_missed(&self) -> tokio::sync::broadcast::Receiver<RunMissed> {
        self.inner.run_missed.subscribe()
    }

    /// Tells the notifications that `slot` of a job was not run: catch-up
    /// (SPEC 17) calls it for each slot it records as `missed`.
    pub fn announce_missed(&self, kind: JobKind, id: &JobId, slot: chrono::DateTime<chrono::Utc>) {
        // No subscriber is fine: notifications may be off.
        let _ = self.inner.run_missed.send(RunMissed { kind, id: id.clone(), slot });
    }

    /// Runs in progress now, for metrics.
    pub fn running_count(&self) -> usize {
        self.inner.running.load(Ordering::SeqCst)
    }

    /// Triggers `overlap` refused or dropped since start.
    pub fn dropped_triggers(&self) -> Vec<DroppedCount> {
        self.inner.dropped.all()
    }

    /// True while the scheduler is up (`/karajo/health`): until shutdown begins.
    pub fn is_alive(&self) -> bool {
        !self.inner.stopping.is_cancelled()
    }
}

/// Runs blocking disk work called from a synchronous engine function
/// without stalling the async worker it was called on: the worker's other
/// tasks move to another thread meanwhile (multi-thread runtime; on a
/// current-thread runtime there is no other worker to keep free).
fn off_workers<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}
