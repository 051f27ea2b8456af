//! The daemon's life: serve an engine until a shutdown signal, reload on
//! SIGHUP (or `POST /karajo/api/reload`, through the same [`Reloader`]).
//! `serve` and `serve_with_control` take a built engine, bound listeners
//! and a shutdown future so main, tests and the library API can drive it.
//! Every part runs on the engine's clock.
//!
//! Shutdown order: stop accepting (warp drains its connections) while the
//! engine stops its timers, lets runs finish within the grace period and
//! cancels the rest.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio_util::sync::CancellationToken;

mod alerts;
#[cfg(test)]
mod tests_net;
mod transports;

pub use transports::{Serving, start};

use crate::auth::audit::Audit;
use crate::engine::Engine;
use crate::http;
use crate::reload::{ReloadError, Reloader};

/// The audit log, under `dir_base` (SPEC 21).
pub const AUDIT_LOG: &str = "var/log/karajo/audit.log";

/// Serves an engine already built (the library API builds its own):
/// starts it, serves, and on `shutdown` stops both.
pub async fn serve(
    engine: Engine,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    reload_from: Option<PathBuf>,
) {
    serve_with_control(engine, crate::serve::Listener::Tcp(listener), None, shutdown, reload_from).await
}

/// [`serve`] plus the control socket, already bound; `listener` is the
/// TCP API, plain or TLS.
pub async fn serve_with_control(
    engine: Engine,
    listener: crate::serve::Listener,
    control: Option<crate::control::ControlSocket>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    reload_from: Option<PathBuf>,
) {
    let hup = match &reload_from {
        Some(_) => hangup_signal(),
        None => None,
    };
    engine.open_checks().await;
    let feeds = alerts::Feeds {
        started: engine.subscribe_started(),
        ended: engine.subscribe_ended(),
        missed: engine.subscribe_missed(),
        checks: engine.checks().map(|c| c.subscribe()),
    };
    let notify_counts = Arc::new(crate::notify::Counts::default());
    engine.start();
    let stop = CancellationToken::new();
    let engine_done = CancellationToken::new();
    let stop_on_signal = {
        let stop = stop.clone();
        async move {
            shutdown.await;
            stop.cancel();
        }
    };
    let reloader = reload_from.map(|path| Arc::new(Reloader::new(engine.clone(), path)));
    let mut audit = Audit::file(engine.config().server.dir_base.join(AUDIT_LOG));
    if let Some(history) = engine.history() {
        audit = audit.with_sink(Box::new(crate::auth::audit_db::DbAudit::spawn(history.clone())));
    }
    let state = http::State::new(
        Arc::new(engine.clone()),
        http::StateOptions {
            clock: engine.clock(),
            shutdown: stop.clone(),
            reloader: reloader.clone(),
            audit: Arc::new(audit),
            notify_counts: notify_counts.clone(),
            ..Default::default()
        },
    );
    let tls = match &listener {
        crate::serve::Listener::Tls(_, source) => Some(source.clone()),
        _ => None,
    };
    let serving = start(state.clone(), listener, control, crate::serve::Limits::default());
    crate::sd::ready(); // systemd Type=notify: every listener is up and the engine started
    let server = async {
        stop.cancelled().await;
        serving.stop().await;
    };
    let engine_stop = async {
        stop.cancelled().await;
        engine.shutdown().await;
        if let Some(checks) = engine.checks() {
            checks.flush(CHECKS_FLUSH_TIMEOUT).await;
        }
        engine_done.cancel();
    };
    let notify = alerts::watch(&engine, feeds, notify_counts, &engine_done);
    let reload = async {
        if let Some(reloader) = &reloader {
            let follow = follow_reloads(reloader, &state, tls.clone(), &stop);
            match hup {
                Some(hup) => tokio::join!(reload_on_sighup(reloader, &state, hup, &stop), follow).0,
                None => follow.await,
            }
        }
    };
    tokio::join!(stop_on_signal, server, engine_stop, reload, notify);
}

/// How long the last check pings may take to be written at shutdown.
const CHECKS_FLUSH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The URL HTTP jobs use to reach this daemon (`http_url = /path`).
pub fn self_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

fn hangup_signal() -> Option<Signal> {
    match signal(SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::error!(error = %e, "cannot handle SIGHUP; reload disabled");
            None
        }
    }
}

/// Reloads on every SIGHUP until `stop`.
async fn reload_on_sighup(reloader: &Reloader, state: &http::State, mut hup: Signal, stop: &CancellationToken) {
    loop {
        tokio::select! {
            _ = hup.recv() => {}
            _ = stop.cancelled() => return,
        }
        tracing::info!(config = %reloader.path().display(), "SIGHUP received, reloading");
        let result = reloader.reload().await;
        audit_sighup(state, &result);
        match result {
            Ok(report) => {
                for w in &report.warnings {
                    tracing::warn!("config: {w}");
                }
            }
            Err(e) => {
                if let ReloadError::Refused(refused) = &e {
                    for w in &refused.warnings {
                        tracing::warn!("config: {w}");
                    }
                }
                tracing::error!("{e}");
            }
        }
    }
}

/// The audit entry of a reload by SIGHUP: the signal is its actor.
fn audit_sighup(state: &http::State, result: &Result<proto::ReloadReport, ReloadError>) {
    let result = result.as_ref().map_err(|e| match e {
        ReloadError::Refused(r) => http::error::ApiError::ConfigRefused(r.clone()),
        ReloadError::Failed(_) => http::error::ApiError::Internal,
    });
    state.record_from("signal", "-".into(), "signal:SIGHUP".into(), "reload", "", &result);
}

/// Applies every reload (SIGHUP or API) to the HTTP side until `stop`.
/// The engine has the new config before this wakes, and the notifier
/// follows the engine's config by itself (see `alerts::watch`).
async fn follow_reloads(
    reloader: &Reloader,
    state: &http::State,
    tls: Option<Arc<crate::tls::TlsSource>>,
    stop: &CancellationToken,
) {
    let mut applied = reloader.subscribe();
    loop {
        tokio::select! {
            r = applied.changed() => if r.is_err() { return },
            _ = stop.cancelled() => return,
        }
        state.apply_reload();
        if let Some(tls) = tls.clone() {
            let files = state.backend.config().server.tls.clone();
            // Off the async workers: it reads two files.
            let reloaded = tokio::task::spawn_blocking(move || {
                tls.reload(files.as_ref().map(|t| (t.cert.as_path(), t.key.as_path())))
            });
            let _ = reloaded.await;
        }
    }
}

/// Resolves on the first SIGTERM or SIGINT. The handlers are installed
/// at the call, not at the first poll, so a signal that comes while the
/// engine is still being built is not fatal.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    let mut term = signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("installing a SIGINT handler");
    async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received, stopping"),
            _ = int.recv() => tracing::info!("SIGINT received, stopping"),
        }
        crate::sd::stopping(); // systemd shows "deactivating" during the grace period
    }
}
