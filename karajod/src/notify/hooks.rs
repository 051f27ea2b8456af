//! The delivery side of webhook notifications: one bounded queue and one
//! worker task per `[notif] kind = webhook`, so a receiver that hangs
//! delays only its own deliveries, never a run, a timer or another
//! notification.
//!
//! Invariants: at most [`HOOK_QUEUE_CAPACITY`] deliveries wait per
//! notification (when full the oldest is dropped and counted); the worker
//! ends once its queue is closed (the [`super::Notifier`] dropped, e.g. at a
//! reload) and drained.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio_util::task::TaskTracker;

use super::counts::{self, Counts};
use super::event::Alert;
use super::queue::Queue;
use super::webhook::{self, LOG_TAIL_BYTES};
use super::{Ticket, read_tail};
use crate::config::model::WebhookConfig;

/// Deliveries that may wait per webhook notification.
pub const HOOK_QUEUE_CAPACITY: usize = 64;

/// One pending delivery; the ticket keeps `flush` waiting until it is done.
pub(super) struct Delivery {
    pub alert: Arc<Alert>,
    pub _ticket: Ticket,
}

/// One webhook notification's queue; the worker holds the other end.
pub(super) struct Hook {
    pub cfg: Arc<WebhookConfig>,
    pub queue: Arc<Queue<Delivery>>,
}

/// What a worker shares with the rest of the notifier.
#[derive(Clone)]
pub(super) struct Shared {
    pub client: reqwest::Client,
    pub counts: Arc<Counts>,
    pub sent: Arc<AtomicU64>,
    pub failed: Arc<AtomicU64>,
    pub dropped: Arc<AtomicU64>,
}

impl Hook {
    /// The queue of `cfg` and its worker, tracked by `tracker`. Without a
    /// runtime there is no worker: deliveries are then dropped at `push`.
    pub fn start(cfg: &WebhookConfig, shared: &Shared, tracker: &TaskTracker) -> Option<Hook> {
        let handle = tokio::runtime::Handle::try_current().ok()?;
        let hook = Hook { cfg: Arc::new(cfg.clone()), queue: Arc::new(Queue::new(HOOK_QUEUE_CAPACITY)) };
        let (cfg, queue, shared) = (hook.cfg.clone(), hook.queue.clone(), shared.clone());
        handle.spawn(tracker.track_future(async move { work(cfg, queue, shared).await }));
        Some(hook)
    }

    /// Queues a delivery, pushing out the oldest one if the queue is full.
    pub fn push(&self, delivery: Delivery, shared: &Shared) {
        if self.queue.push(delivery).is_some() {
            shared.dropped.fetch_add(1, Ordering::Relaxed);
            shared.counts.add(&self.cfg.name, counts::DROPPED);
            tracing::warn!(notif = %self.cfg.name, capacity = HOOK_QUEUE_CAPACITY, "webhook queue full: the oldest delivery was dropped");
        }
    }
}

impl Drop for Hook {
    fn drop(&mut self) {
        self.queue.close();
    }
}

async fn work(cfg: Arc<WebhookConfig>, queue: Arc<Queue<Delivery>>, shared: Shared) {
    let mut txn = 0u64;
    while let Some(d) = queue.pop().await {
        txn += 1;
        let tail = match &d.alert.log_path {
            Some(p) => read_tail(p, LOG_TAIL_BYTES).await.unwrap_or_default(),
            None => String::new(),
        };
        let req = webhook::request(&cfg, &d.alert, &tail, txn);
        let span = tracing::info_span!("notify", notif = %cfg.name, job.id = %d.alert.job_id, run.counter = d.alert.counter, event = d.alert.event.as_str());
        match webhook::deliver(&shared.client, &cfg, &req).await {
            Ok(()) => {
                shared.sent.fetch_add(1, Ordering::Relaxed);
                shared.counts.add(&cfg.name, counts::DELIVERED);
                span.in_scope(|| tracing::info!("webhook notification delivered"));
            }
            Err(e) => {
                shared.failed.fetch_add(1, Ordering::Relaxed);
                shared.counts.add(&cfg.name, counts::FAILED);
                span.in_scope(|| tracing::warn!(error = %e, "webhook notification not delivered"));
            }
        }
    }
}
