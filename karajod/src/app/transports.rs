//! Starting and stopping the transports together: the TCP API, the
//! control socket and the HTTP side's background tasks (metrics feed,
//! memory trimmer). Here, not in `http`, because it is the one place that
//! knows both transports; `http` and `control` never import each other.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::control::ControlSocket;
use crate::http::{State, router};
use crate::serve::{self, Limits, Listener};

/// The running transports, stopped together.
#[derive(Debug)]
pub struct Serving {
    stop: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Starts serving the API on `tcp` and, when given, the control socket.
/// Must run inside the tokio runtime.
pub fn start(state: Arc<State>, tcp: Listener, control: Option<ControlSocket>, limits: Limits) -> Serving {
    let r = router(state.clone());
    let stop = state.shutdown.clone();
    let mut tasks = vec![
        tokio::spawn(state.metrics_task()),
        tokio::spawn(state.trimmer.clone().run(stop.clone())),
        tokio::spawn(serve::serve(tcp, r.clone(), limits, stop.clone())),
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
