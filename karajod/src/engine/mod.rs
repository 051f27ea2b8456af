//! The job engine: the registry of jobs and HTTP jobs, the global run slots
//! (`max_job_running`), triggers (timer, webhook, manual), pause/resume,
//! cancel, and read-only snapshots for the API.
//!
//! INTERFACE SKELETON: the signatures below are the contract the transports
//! (HTTP API, control socket, library API) are written against. The engine
//! branch fills in the bodies; keep the signatures stable, add rather than change.
//!
//! Invariants: snapshots never wait on a run or a disk write; at most one
//! run per job and one queued trigger; no lock is held across an await,
//! a process spawn or disk I/O.

pub mod clock;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use proto::{Environment, Job, JobHttp, JobId, JobKind, JobLogContent, JobStatus};

use crate::config::{AuthKind, Config, Secret};
pub use clock::{Clock, SystemClock};

/// Why a run was started; exported to commands as `KARAJO_JOB_TRIGGER`.
#[derive(Debug, Clone)]
pub enum Trigger {
    /// The job's interval or schedule.
    Timer,
    /// An authorised webhook; the body is handed to the run.
    Http { body: Bytes },
    /// The dashboard, karajoctl or the API's run-now.
    Manual,
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
    /// 429 `ERR_JOB_ALREADY_RUN`: one run active and one already queued.
    #[error("job already run")]
    AlreadyQueued,
    /// 404: `log #N not found`.
    #[error("log #{0} not found")]
    LogNotFound(u64),
    /// A file operation failed; says which file and what was being done.
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// The engine is shutting down and takes no new runs.
    #[error("shutting down")]
    ShuttingDown,
}

/// How a run ended, or that it is still going: what a log follower sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    Running,
    Ended(JobStatus),
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

/// A finished run, as seen by notifications and metrics.
#[derive(Debug, Clone)]
pub struct RunEnded {
    pub kind: JobKind,
    pub id: JobId,
    pub counter: u64,
    pub status: JobStatus,
    pub log_path: PathBuf,
    pub started: chrono::DateTime<chrono::Utc>,
    pub duration: Duration,
    pub queue_wait: Duration,
}

/// Options that are not configuration: injected parts.
pub struct EngineOptions {
    pub clock: Arc<dyn Clock>,
    /// How long running jobs may finish at shutdown before they are canceled.
    pub shutdown_grace: Duration,
}

/// The engine handle; cheap to clone, shared by every transport.
#[derive(Clone)]
pub struct Engine {}

impl Engine {
    /// Builds the engine from a validated config: creates the directories,
    /// rebuilds every job's state from disk (counters, last status,
    /// last_run, pause flags; `.running` leftovers marked failed).
    pub fn new(_config: Config, _opts: EngineOptions) -> Result<Engine, EngineError> {
        todo!()
    }

    /// Starts the timers. Runs spawned from here are tracked for shutdown.
    pub fn start(&self) {
        todo!()
    }

    /// Stops timers, lets runs finish within the grace period, cancels the
    /// rest, waits for every task.
    pub async fn shutdown(&self) {
        todo!()
    }

    /// Applies a new config: jobs added, removed, changed; running runs untouched.
    pub fn reload(&self, _config: Config) {
        todo!()
    }

    /// The config in force.
    pub fn config(&self) -> Arc<Config> {
        todo!()
    }

    /// `/environment`: every job and HTTP job as it is now.
    pub fn environment(&self) -> Environment {
        todo!()
    }

    pub fn job(&self, _id: &JobId) -> Option<Job> {
        todo!()
    }

    pub fn http_job(&self, _id: &JobId) -> Option<JobHttp> {
        todo!()
    }

    /// The job whose webhook `path` (leading `/`) this is.
    pub fn webhook(&self, _path: &str) -> Option<WebhookAuth> {
        todo!()
    }

    /// Starts or queues a run. `Paused` and `AlreadyQueued` as the API needs.
    /// Returns the job as it is once the run is queued.
    pub fn trigger_job(&self, _id: &JobId, _trigger: Trigger) -> Result<Job, EngineError> {
        todo!()
    }

    pub fn trigger_http_job(&self, _id: &JobId) -> Result<JobHttp, EngineError> {
        todo!()
    }

    /// Pause/resume/cancel, for both kinds; return the job's view afterwards
    /// as JSON-ready values (`Job` or `JobHttp` by kind).
    pub fn pause(&self, _kind: JobKind, _id: &JobId) -> Result<serde_json::Value, EngineError> {
        todo!()
    }

    pub fn resume(&self, _kind: JobKind, _id: &JobId) -> Result<serde_json::Value, EngineError> {
        todo!()
    }

    /// Cancels the running run (TERM, KILL after 5 s); a no-op if none runs.
    /// The bool says whether a run was canceled.
    pub fn cancel(
        &self,
        _kind: JobKind,
        _id: &JobId,
    ) -> Result<(serde_json::Value, bool), EngineError> {
        todo!()
    }

    /// One run's whole log (a finished or running run).
    pub fn log(
        &self,
        _kind: JobKind,
        _id: &JobId,
        _counter: u64,
    ) -> Result<JobLogContent, EngineError> {
        todo!()
    }

    /// Follows a run's log; `None` = the latest run.
    pub fn follow_log(
        &self,
        _kind: JobKind,
        _id: &JobId,
        _counter: Option<u64>,
    ) -> Result<LogFollow, EngineError> {
        todo!()
    }

    /// Every run's end, for notifications and metrics.
    pub fn subscribe_ended(&self) -> tokio::sync::broadcast::Receiver<RunEnded> {
        todo!()
    }

    /// Runs in progress now, for metrics.
    pub fn running_count(&self) -> usize {
        todo!()
    }

    /// True while the scheduler loop is alive (`/karajo/health`).
    pub fn is_alive(&self) -> bool {
        todo!()
    }
}
