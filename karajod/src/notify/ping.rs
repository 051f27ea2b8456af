//! `ping_url` (SPEC 18, the healthchecks.io convention): `GET URL/start`
//! when a run starts, `POST URL` on success and `POST URL/fail` on failure
//! with the log's last [`PING_BODY_BYTES`] as the body.
//!
//! Invariants: pinging never blocks or fails a run; pings go out in order
//! through one bounded queue (the oldest dropped when full), each bounded
//! by [`PING_TIMEOUT`]; a failure is logged, not retried (the next run
//! pings again).

use std::path::PathBuf;
use std::sync::Arc;

use std::time::Duration;

use tokio_util::task::TaskTracker;

use super::queue::Queue;
use super::read_tail;

/// The most of a run's log a ping carries.
pub const PING_BODY_BYTES: u64 = 10 * 1024;
/// How long one ping may take.
pub const PING_TIMEOUT: Duration = Duration::from_secs(10);
/// Pings that may wait; more push out the oldest.
pub const PING_QUEUE_CAPACITY: usize = 256;

/// Which ping of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PingKind {
    Start,
    Success,
    Fail,
}

/// One ping to send.
#[derive(Debug, Clone)]
pub struct Ping {
    /// The job's `ping_url`, without a trailing `/`.
    pub url: String,
    pub kind: PingKind,
    /// The run's log, whose tail is the body of a success or fail ping.
    pub log_path: PathBuf,
    pub job_id: String,
    pub counter: u64,
}

impl Ping {
    /// The method and URL this ping is sent to.
    pub fn target(&self) -> (reqwest::Method, String) {
        match self.kind {
            PingKind::Start => (reqwest::Method::GET, format!("{}/start", self.url)),
            PingKind::Success => (reqwest::Method::POST, self.url.clone()),
            PingKind::Fail => (reqwest::Method::POST, format!("{}/fail", self.url)),
        }
    }
}

/// Sends pings in the background, in order. Dropping it lets the worker
/// finish what is queued and end.
pub struct Pinger {
    queue: Arc<Queue<Ping>>,
}

impl Pinger {
    /// Starts the worker on the current runtime, tracked by `tracker`.
    pub fn start(tracker: &TaskTracker) -> Pinger {
        let queue = Arc::new(Queue::new(PING_QUEUE_CAPACITY));
        let worker = queue.clone();
        tracker.spawn(async move { work(worker, super::http_client()).await });
        Pinger { queue }
    }

    /// Queues a ping; returns at once.
    pub fn ping(&self, ping: Ping) {
        if let Some(old) = self.queue.push(ping) {
            tracing::warn!(job.id = %old.job_id, run.counter = old.counter, "ping queue full: the oldest ping was dropped");
        }
    }
}

impl Drop for Pinger {
    fn drop(&mut self) {
        self.queue.close();
    }
}

async fn work(queue: Arc<Queue<Ping>>, client: reqwest::Client) {
    while let Some(ping) = queue.pop().await {
        let (method, url) = ping.target();
        let mut req = client.request(method, &url).timeout(PING_TIMEOUT);
        if ping.kind != PingKind::Start {
            let body = read_tail(&ping.log_path, PING_BODY_BYTES).await.unwrap_or_default();
            req = req.header("Content-Type", "text/plain; charset=utf-8").body(body);
        }
        let span = tracing::info_span!("ping", job.id = %ping.job_id, run.counter = ping.counter);
        match req.send().await {
            Ok(resp) if resp.status().is_success() => span.in_scope(|| tracing::debug!("ping sent")),
            Ok(resp) => span.in_scope(|| tracing::warn!(status = resp.status().as_u16(), "ping_url refused the ping")),
            Err(e) => span.in_scope(|| tracing::warn!(error = %e.without_url(), "ping_url not reached")),
        }
    }
}
