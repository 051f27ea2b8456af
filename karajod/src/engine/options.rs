//! What the engine is built with that is not configuration: the clock,
//! grace periods, the daemon's own URL, closure bodies and process
//! tracking, injected by main, tests and the library API. The binary may
//! take the process-control knobs from its environment ([`EngineOptions::with_env`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use proto::JobId;

use super::call::JobCall;
use super::clock::{Clock, SystemClock};
use super::process::{ProcessOptions, Tracking};

/// Options that are not configuration: injected parts.
pub struct EngineOptions {
    pub clock: Arc<dyn Clock>,
    /// How long running jobs may finish at shutdown before they are canceled.
    pub shutdown_grace: Duration,
    /// This daemon's own base URL (`http://127.0.0.1:PORT`), for HTTP jobs
    /// whose `http_url` is a path.
    pub self_url: String,
    /// Bodies written in Rust for jobs defined by code, by job ID.
    pub calls: HashMap<JobId, JobCall>,
    /// How a run's processes are found and ended.
    pub process: ProcessOptions,
    /// The run-history database; `None` keeps history in memory and logs only.
    pub history: Option<crate::store::history::History>,
    /// Where the timers, and the runs their ticks start, are polled: a
    /// runtime of their own (the daemon's) keeps a due run from waiting
    /// behind API work on the caller's workers. `None` = the runtime
    /// [`super::Engine::start`] is called on.
    pub timer_runtime: Option<tokio::runtime::Handle>,
    /// Where runs' database work is polled when not on the runtime of the
    /// run: the daemon gives its API runtime when the timer runtime's
    /// worker runs at realtime priority, which then never blocks on
    /// sqlx's SQLite channel behind a thread of normal priority. Without
    /// realtime there is no such inversion, and the hop to another
    /// runtime only costs (100 runs on the same second: p50 21 ms against
    /// 13). `None` = the run's own runtime.
    pub db_runtime: Option<tokio::runtime::Handle>,
}

/// The default grace period at shutdown.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

impl EngineOptions {
    /// The real clock, the default grace, no closure jobs.
    pub fn new(self_url: impl Into<String>) -> EngineOptions {
        EngineOptions {
            clock: Arc::new(SystemClock),
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            self_url: self_url.into(),
            calls: HashMap::new(),
            process: ProcessOptions::default(),
            history: None,
            timer_runtime: None,
            db_runtime: None,
        }
    }

    /// Reads the operators' knobs from the environment (README, "Process
    /// control"): `KARAJOD_PROCESS_TRACKING` = `auto` | `cgroup` |
    /// `subreaper`, `KARAJOD_KILL_GRACE` and `KARAJOD_SHUTDOWN_GRACE`
    /// (durations like `5s`). Unset keeps the value already set.
    pub fn with_env(mut self) -> Result<EngineOptions, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        if let Some(v) = var("KARAJOD_PROCESS_TRACKING") {
            self.process.tracking = Tracking::parse(&v).ok_or_else(|| {
                format!("environment KARAJOD_PROCESS_TRACKING={v:?}: expected auto, cgroup or subreaper")
            })?;
        }
        let duration = |name: &str, v: &str| match crate::config::duration::parse(v) {
            Ok(n) if n >= 0 => Ok(Duration::from_nanos(n as u64)),
            _ => Err(format!("environment {name}={v:?}: expected a duration like 5s or 500ms")),
        };
        if let Some(v) = var("KARAJOD_KILL_GRACE") {
            self.process.kill_grace = duration("KARAJOD_KILL_GRACE", &v)?;
        }
        if let Some(v) = var("KARAJOD_SHUTDOWN_GRACE") {
            self.shutdown_grace = duration("KARAJOD_SHUTDOWN_GRACE", &v)?;
        }
        Ok(self)
    }
}
