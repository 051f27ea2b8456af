//! The library API: configure karajo by code. Build an environment, add
//! jobs whose body is an async Rust closure (or commands), add HTTP jobs,
//! merge a file config in, then start and stop it.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use karajod::library::{self, Karajo};
//! let mut k = Karajo::new("/tmp/karajo");
//! k.server().secret = karajod::config::Secret::new("s3cret");
//! let mut job = library::job("Hello");
//! library::set_interval(&mut job, Duration::from_secs(60));
//! k.add_call_job(job, |ctx, log, _body| async move {
//!     log.line(format!("hello from run #{}", ctx.counter)).await;
//!     Ok(())
//! });
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let running = k.start(listener).await?;
//! running.stop().await;
//! # Ok(()) }
//! ```
//!
//! Invariant: what `build` hands the engine has passed the same checks as
//! a file config (`config::validate`: unique IDs and webhook paths, a body
//! for every job, the global secret where a job has none).

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use proto::JobId;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::*;
use crate::engine::{CallError, Clock, Engine, EngineError, EngineOptions, JobCall, JobContext, LogWriter};
use crate::store::history::{History, Location, SQLITE_FILE};

/// Why a code-built environment was refused.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    /// `ERR_JOB_EMPTY_COMMANDS_OR_CALL`.
    #[error("job {0}: needs commands or a call")]
    EmptyCommandsOrCall(String),
    #[error("{kind} ID {id} is defined twice")]
    DuplicateId { kind: &'static str, id: JobId },
    #[error("webhook path {0} is used by two jobs")]
    DuplicatePath(String),
    #[error("invalid configuration file:\n{0}")]
    Config(#[from] ConfigErrors),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("cannot read the listener's address: {0}")]
    Listener(std::io::Error),
    #[error(transparent)]
    History(#[from] crate::store::history::HistoryError),
}

/// A `[karajo]` section with the documented defaults, rooted at `dir_base`,
/// and a random secret (as an empty `secret` gets).
pub fn server(dir_base: impl Into<PathBuf>) -> ServerConfig {
    let dir_base = dir_base.into();
    ServerConfig {
        name: "karajo".into(),
        listen_address: DEFAULT_LISTEN_ADDRESS.into(),
        listen_addr: DEFAULT_LISTEN_ADDRESS.parse().expect("a valid default"),
        http_timeout: DEFAULT_HTTP_TIMEOUT,
        control_socket: dir_base.join("var/run/karajo/karajod.sock"),
        dir_base,
        dir_public: None,
        secret: Secret::new(generate_secret()),
        secret_generated: true,
        max_job_running: 1,
        history_retention: crate::config::DEFAULT_HISTORY_RETENTION,
        replay_window: None,
        metrics_token: None,
        is_development: false,
        timezone: crate::schedule::Tz::UTC,
        classic_signatures: true,
        tls: None,
    }
}

/// A `[job]` with the defaults of a file section; no timer, no commands.
/// An empty secret means the global one.
pub fn job(name: &str) -> JobConfig {
    JobConfig {
        common: JobCommon::named(name),
        path: None,
        auth_kind: AuthKind::HmacSha256,
        commands: Vec::new(),
        timeout: None,
        leave_processes: false,
        exec: Exec::default(),
    }
}

/// A `[job.http]` sending `method` to `url`, query type, the global timeout.
pub fn http_job(name: &str, method: HttpMethod, url: &str) -> JobHttpConfig {
    JobHttpConfig {
        common: JobCommon::named(name),
        http_method: method,
        http_url: url.into(),
        http_request_type: RequestType::Query,
        http_headers: Vec::new(),
        http_timeout: Some(DEFAULT_HTTP_TIMEOUT),
        http_insecure: false,
    }
}

/// Sets an interval timer (raised to [`MIN_INTERVAL`], as in files).
pub fn set_interval(job: &mut JobConfig, every: Duration) {
    job.common.timer = Some(Timer::Interval(every.max(MIN_INTERVAL)));
    job.common.timer_text = String::new();
}

/// The same for an HTTP job.
pub fn set_http_interval(job: &mut JobHttpConfig, every: Duration) {
    job.common.timer = Some(Timer::Interval(every.max(MIN_INTERVAL)));
    job.common.timer_text = String::new();
}

/// An environment being built by code.
pub struct Karajo {
    config: Config,
    calls: HashMap<JobId, JobCall>,
    clock: Option<Arc<dyn Clock>>,
    shutdown_grace: Duration,
    /// Where [`Karajo::start`] keeps the run history, when not the default
    /// place under `dir_base` (`Some(None)`: no database).
    history: Option<Option<Location>>,
}

impl Karajo {
    /// An empty environment under `dir_base` with default settings.
    pub fn new(dir_base: impl Into<PathBuf>) -> Karajo {
        let config = Config {
            server: server(dir_base),
            jobs: Vec::new(),
            http_jobs: Vec::new(),
            notifs: Default::default(),
            webhooks: Default::default(),
            checks: Vec::new(),
            users: Vec::new(),
            tokens: Vec::new(),
        };
        Karajo::from_config(config)
    }

    /// Starts from a validated config (e.g. `config::load`'s).
    pub fn from_config(config: Config) -> Karajo {
        Karajo {
            config,
            calls: HashMap::new(),
            clock: None,
            shutdown_grace: crate::engine::DEFAULT_SHUTDOWN_GRACE,
            history: None,
        }
    }

    /// Loads a config file and merges it in: its `[karajo]` settings
    /// replace these, its jobs join the ones added by code.
    pub fn merge_file(&mut self, path: &Path) -> Result<&mut Karajo, LibraryError> {
        let loaded = load(path)?;
        self.merge(loaded.config);
        Ok(self)
    }

    /// Merges a config in: its server settings win, jobs are added, and
    /// secrets of code jobs left empty follow the new global secret.
    pub fn merge(&mut self, other: Config) -> &mut Karajo {
        self.config.server = other.server;
        self.config.jobs.extend(other.jobs);
        self.config.http_jobs.extend(other.http_jobs);
        self.config.notifs.extend(other.notifs);
        self.config.users.extend(other.users);
        self
    }

    /// The `[karajo]` settings, to change.
    pub fn server(&mut self) -> &mut ServerConfig {
        &mut self.config.server
    }

    /// Uses another clock (tests, simulations).
    pub fn clock(&mut self, clock: Arc<dyn Clock>) -> &mut Karajo {
        self.clock = Some(clock);
        self
    }

    /// Where [`Karajo::start`] keeps the run history (SPEC 15): by default
    /// the daemon's SQLite file under `dir_base`; `None` keeps none (the
    /// runs API then answers 503). [`Karajo::engine`] never opens one.
    pub fn history(&mut self, at: Option<Location>) -> &mut Karajo {
        self.history = Some(at);
        self
    }

    /// How long runs may finish at stop before they are canceled.
    pub fn shutdown_grace(&mut self, grace: Duration) -> &mut Karajo {
        self.shutdown_grace = grace;
        self
    }

    /// Adds a job whose body is `call`; its `commands` are ignored.
    pub fn add_call_job<F, Fut>(&mut self, job: JobConfig, call: F) -> &mut Karajo
    where
        F: Fn(JobContext, LogWriter, Option<Bytes>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), CallError>> + Send + 'static,
    {
        self.calls.insert(job.common.id.clone(), JobCall::new(call));
        self.config.jobs.push(Arc::new(job));
        self
    }

    /// Adds a job that runs commands.
    pub fn add_job(&mut self, job: JobConfig) -> &mut Karajo {
        self.config.jobs.push(Arc::new(job));
        self
    }

    /// Adds an HTTP job.
    pub fn add_http_job(&mut self, job: JobHttpConfig) -> &mut Karajo {
        self.config.http_jobs.push(Arc::new(job));
        self
    }

    /// Checks everything and fills the defaults that depend on the whole
    /// (job secrets from the global one); returns the final config.
    /// The first problem found is the error.
    pub fn build(&self) -> Result<Config, LibraryError> {
        let mut config = self.config.clone();
        match validate(&mut config, &|id| self.calls.contains_key(id)).into_iter().next() {
            None => Ok(config),
            Some(Invalid::EmptyJob { at }) => Err(LibraryError::EmptyCommandsOrCall(at.name)),
            Some(Invalid::DuplicateId { kind, id, .. }) => Err(LibraryError::DuplicateId { kind: kind.label(), id }),
            Some(Invalid::DuplicatePath { path, .. }) => Err(LibraryError::DuplicatePath(path)),
        }
    }

    /// Builds the engine (not started), for callers with their own transport.
    pub fn engine(&self, self_url: &str) -> Result<Engine, LibraryError> {
        self.engine_with(self_url, None)
    }

    fn engine_with(&self, self_url: &str, history: Option<History>) -> Result<Engine, LibraryError> {
        let mut opts = EngineOptions::new(self_url);
        opts.history = history;
        opts.calls = self.calls.clone();
        opts.shutdown_grace = self.shutdown_grace;
        if let Some(c) = &self.clock {
            opts.clock = c.clone();
        }
        Ok(Engine::new(self.build()?, opts)?)
    }

    /// Opens the run history (see [`Karajo::history`]), starts the engine
    /// and serves the HTTP routes on `listener`, in the background, until
    /// [`Running::stop`].
    pub async fn start(self, listener: TcpListener) -> Result<Running, LibraryError> {
        let addr = listener.local_addr().map_err(LibraryError::Listener)?;
        let url = crate::app::self_url(addr);
        let default = || Some(Location::Sqlite(self.config.server.dir_base.join(SQLITE_FILE)));
        let history = match self.history.clone().unwrap_or_else(default) {
            Some(at) => {
                self.build()?; // a bad config is refused before the database is touched
                if let Location::Sqlite(p) = &at
                    && let Some(dir) = p.parent()
                {
                    crate::store::ensure_dir(dir).map_err(EngineError::from)?;
                }
                Some(History::open(&at).await?)
            }
            None => None,
        };
        let engine = self.engine_with(&url, history)?;
        engine.reconcile_history().await?;
        let stop = CancellationToken::new();
        let task = tokio::spawn(crate::app::serve(engine.clone(), listener, stop.clone().cancelled_owned(), None));
        Ok(Running { engine, url, stop, task })
    }
}

/// A started environment.
pub struct Running {
    pub engine: Engine,
    /// `http://ADDR` of its HTTP server.
    pub url: String,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops serving, lets runs finish within the grace period, cancels the rest.
    pub async fn stop(self) {
        self.stop.cancel();
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "the server task failed");
        }
    }
}
