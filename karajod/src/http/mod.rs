//! The HTTP transport: the routes of the API, webhooks, dashboard, metrics
//! and public files, wired onto shared [`State`]. The same router serves
//! the TCP listener and the control socket; [`auth::Caller`] (set by the
//! accept loop in [`server`]) tells them apart.
//!
//! Invariants: handlers decode, call the engine, encode; access is decided
//! by the filters in [`auth`] before a handler runs; every failure is a
//! wrapped JSON error with an `ERR_*` name (see [`error`]).

pub mod api;
pub mod auth;
pub mod backend;
pub mod error;
pub mod input;
pub mod limit;
pub mod login;
pub mod metrics;
pub mod public;
pub mod replay;
mod routes;
pub mod server;
pub mod session;
pub mod sse;
pub mod trim;
pub mod ui;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

pub use backend::Backend;
use ed25519_dalek::VerifyingKey;
pub use routes::{refuse_pathless, router};
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
    /// Bounds the costly reads built at once (one per core; see `routes.rs`).
    pub heavy_reads: tokio::sync::Semaphore,
    /// Gives their memory back once those reads stop.
    pub trimmer: Arc<trim::Trimmer>,
    /// Cancelled at shutdown: ends live streams so connections can close.
    pub shutdown: CancellationToken,
    /// Bounds the open log streams.
    pub streams: Arc<sse::StreamSlots>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State").field("sessions", &self.sessions).finish_non_exhaustive()
    }
}

/// The injected parts of [`State`].
pub struct StateOptions {
    pub clock: Arc<dyn Clock>,
    pub session_ttl: Duration,
    pub sourcehut_key: VerifyingKey,
    pub max_body_bytes: u64,
    pub shutdown: CancellationToken,
}

impl Default for StateOptions {
    fn default() -> Self {
        StateOptions {
            clock: Arc::new(SystemClock),
            session_ttl: session::SESSION_TTL,
            sourcehut_key: webhook::sourcehut_key(),
            max_body_bytes: MAX_BODY_BYTES,
            shutdown: CancellationToken::new(),
        }
    }
}

impl State {
    pub fn new(backend: Arc<dyn Backend>, opts: StateOptions) -> Arc<State> {
        Arc::new(State {
            backend,
            sessions: session::SessionStore::new(opts.clock.clone(), opts.session_ttl),
            session_ttl: opts.session_ttl,
            login_limiter: limit::LoginLimiter::new(opts.clock.clone()),
            replay: replay::ReplayGuard::new(opts.clock),
            sourcehut_key: opts.sourcehut_key,
            metrics: Arc::new(metrics::Metrics::default()),
            max_body_bytes: opts.max_body_bytes,
            heavy_reads: tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())),
            trimmer: Arc::new(trim::Trimmer::default()),
            shutdown: opts.shutdown,
            streams: Arc::default(),
        })
    }

    /// Feeds the metrics from the engine until shutdown; spawn it once.
    pub fn metrics_task(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        metrics::collect(self.metrics.clone(), self.backend.subscribe_ended(), self.shutdown.clone())
    }
}

/// Health and a JSON 404 only: what app.rs serves until the engine is
/// wired in (then it serves [`router`] through [`server`]).
pub fn routes() -> impl warp::Filter<Extract = (impl warp::Reply,), Error = std::convert::Infallible> + Clone {
    use warp::Filter;
    warp::path!("karajo" / "health")
        .and(warp::get())
        .map(|| error::json_with_status(&serde_json::json!({"status": "ok"}), warp::http::StatusCode::OK))
        .recover(error::recover)
}

#[cfg(test)]
mod tests;

/// The running transports: the TCP API, the control socket and the
/// metrics feed, stopped together.
#[derive(Debug)]
pub struct Serving {
    stop: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Starts serving the API on `tcp` and, when given, the control socket.
/// Must run inside the tokio runtime.
pub fn start(
    state: Arc<State>,
    tcp: tokio::net::TcpListener,
    control: Option<crate::control::ControlSocket>,
    limits: server::Limits,
) -> Serving {
    let r = router(state.clone());
    let stop = state.shutdown.clone();
    let mut tasks = vec![
        tokio::spawn(state.metrics_task()),
        tokio::spawn(state.trimmer.clone().run(stop.clone())),
        tokio::spawn(server::serve(server::Listener::Tcp(tcp), r.clone(), limits, stop.clone())),
    ];
    if let Some(control) = control {
        tasks.push(tokio::spawn(control.serve(r, limits, stop.clone())));
    }
    Serving { stop, tasks }
}

impl Serving {
    /// Stops accepting, ends live streams, lets open requests finish within
    /// the grace period, removes the control socket.
    pub async fn stop(self) {
        self.stop.cancel();
        for t in self.tasks {
            if let Err(e) = t.await {
                tracing::error!("a transport task failed: {e}");
            }
        }
    }
}
