//! The HTTP transport: the routes of the API, webhooks, dashboard, metrics
//! and public files, wired onto shared [`State`]. The same router serves
//! the TCP listener and the control socket (both through the accept loop
//! in `crate::serve`); [`auth::Caller`], set by that loop, tells them
//! apart. This module never imports `control`: `app` wires the two.
//!
//! Invariants: handlers decode, call the engine, encode; access is decided
//! by the filters in [`auth`] before a handler runs; every failure is a
//! wrapped JSON error with an `ERR_*` name (see [`error`]).

pub mod api;
pub mod audit;
pub mod auth;
pub mod backend;
pub mod checks;
pub mod env_pieces;
pub mod environment;
pub mod error;
pub mod input;
pub mod limit;
pub mod login;
pub mod metrics;
pub mod public;
pub mod reload;
pub mod replay;
mod routes;
pub mod runs;
pub mod session;
pub mod sse;
pub mod status;
pub mod trim;
pub mod ui;
pub mod upcoming;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

pub use backend::Backend;
use ed25519_dalek::VerifyingKey;
pub use routes::router;
use tokio_util::sync::CancellationToken;

use crate::engine::{Clock, SystemClock};

/// The default bound of any request body (webhooks included).
pub const MAX_BODY_BYTES: u64 = 1024 * 1024;

/// Everything the handlers share. Configuration is read from the engine on
/// each request, so a reload (new users, secret, replay window) applies at once.
pub struct State {
    pub backend: Arc<dyn Backend>,
    pub sessions: session::SessionStore,
    pub session_ttl: Duration,
    pub login_limiter: limit::LoginLimiter,
    pub replay: replay::ReplayGuard,
    pub sourcehut_key: VerifyingKey,
    pub metrics: Arc<metrics::Metrics>,
    pub max_body_bytes: u64,
    /// The encoded `/environment` answer, kept until the engine state moves.
    pub environment: environment::EnvironmentCache,
    /// Bounds the costly reads built at once (one per core; see `routes.rs`).
    pub heavy_reads: tokio::sync::Semaphore,
    /// Gives their memory back once those reads stop.
    pub trimmer: Arc<trim::Trimmer>,
    /// Cancelled at shutdown: ends live streams so connections can close.
    pub shutdown: CancellationToken,
    /// The reload path, when the daemon runs from a configuration file.
    pub reloader: Option<Arc<crate::reload::Reloader>>,
    /// When serving began, on the injected clock and as an uptime base.
    pub started: (chrono::DateTime<chrono::Utc>, std::time::Instant),
    /// Bounds the open log streams.
    pub streams: Arc<sse::StreamSlots>,
    /// Where audited requests go (see `crate::auth::audit`).
    pub audit: Arc<crate::auth::audit::Audit>,
    /// The injected clock, for audit times.
    pub clock: Arc<dyn Clock>,
    /// Notification deliveries by name and result, for the metrics.
    pub notify_counts: Arc<crate::notify::Counts>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State").field("sessions", &self.sessions).finish_non_exhaustive()
    }
}

/// The injected parts of [`State`]. The daemon passes the engine's clock,
/// so sessions, the login limiter and the replay guard run on the same
/// time as the schedules.
pub struct StateOptions {
    pub clock: Arc<dyn Clock>,
    pub session_ttl: Duration,
    pub sourcehut_key: VerifyingKey,
    pub max_body_bytes: u64,
    pub shutdown: CancellationToken,
    pub reloader: Option<Arc<crate::reload::Reloader>>,
    pub audit: Arc<crate::auth::audit::Audit>,
    pub notify_counts: Arc<crate::notify::Counts>,
}

impl Default for StateOptions {
    fn default() -> Self {
        StateOptions {
            clock: Arc::new(SystemClock),
            session_ttl: session::SESSION_TTL,
            sourcehut_key: webhook::sourcehut_key(),
            max_body_bytes: MAX_BODY_BYTES,
            shutdown: CancellationToken::new(),
            reloader: None,
            audit: Arc::new(crate::auth::audit::Audit::none()),
            notify_counts: Arc::default(),
        }
    }
}

impl State {
    pub fn new(backend: Arc<dyn Backend>, opts: StateOptions) -> Arc<State> {
        let started = (opts.clock.now(), std::time::Instant::now());
        Arc::new(State {
            backend,
            sessions: session::SessionStore::new(opts.clock.clone(), opts.session_ttl),
            session_ttl: opts.session_ttl,
            login_limiter: limit::LoginLimiter::new(opts.clock.clone()),
            replay: replay::ReplayGuard::new(opts.clock.clone()),
            sourcehut_key: opts.sourcehut_key,
            metrics: Arc::new(metrics::Metrics::default()),
            max_body_bytes: opts.max_body_bytes,
            environment: environment::EnvironmentCache::default(),
            heavy_reads: tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())),
            trimmer: Arc::new(trim::Trimmer::default()),
            shutdown: opts.shutdown,
            reloader: opts.reloader,
            started,
            streams: Arc::default(),
            audit: opts.audit,
            clock: opts.clock,
            notify_counts: opts.notify_counts,
        })
    }

    /// Brings what the HTTP side keeps in memory in line with the config
    /// in force after a reload: sessions the new users refuse are freed.
    /// (They are already refused per request; see `session.rs`.)
    pub fn apply_reload(&self) {
        self.sessions.retain_valid(&self.backend.config().users);
    }

    /// Feeds the metrics from the engine until shutdown; spawn it once.
    pub fn metrics_task(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        metrics::collect(self.metrics.clone(), self.backend.subscribe_ended(), self.shutdown.clone())
    }
}

#[cfg(test)]
pub(crate) mod tests;
