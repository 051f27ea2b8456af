//! The daemon's life: bind the listeners, serve until a shutdown signal,
//! reload on SIGHUP. `run` takes bound listeners and a shutdown future so
//! tests and the library API can drive it.

use std::future::Future;

use tokio::net::TcpListener;

use crate::config::Loaded;
use crate::http;

/// Serves until `shutdown` resolves, then stops in order.
pub async fn run(
    loaded: Loaded,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let _ = loaded;
    let serving = warp::serve(http::routes())
        .incoming(listener)
        .graceful(shutdown);
    crate::sd::ready(); // packaging: after every listener is bound and the engine started
    serving.run().await;
}

/// Resolves on the first SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("installing a SIGINT handler");
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received, stopping"),
        _ = int.recv() => tracing::info!("SIGINT received, stopping"),
    }
    crate::sd::stopping(); // packaging: systemd shows "deactivating" during the grace period
}
