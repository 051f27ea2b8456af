//! Email notifications for finished runs (`[notif]`, SPEC 10).
//!
//! Owns one SMTP transport per notification and the background sending of
//! mail. Invariants: [`Notifier::run_ended`] never blocks and never fails a
//! run; at most [`QUEUE_CAPACITY`] emails wait at once (more are dropped
//! with a warning); every send is bounded by [`SEND_TIMEOUT`]; a failure is
//! logged with the notification name and a [`FailReason`] code, never a
//! panic; passwords reach neither logs nor `Debug`.

mod mail;
mod transport;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use proto::{JobId, JobKind, JobStatus};
use tokio::sync::{Semaphore, watch};
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::config::model::NotifConfig;

pub use mail::{MAX_BODY_BYTES, MailError, log_body, message, read_tail, subject};
pub use transport::FailReason;
use transport::Transport;

/// How many emails may wait to be sent; a burst beyond this is dropped
/// rather than held in memory without bound.
pub const QUEUE_CAPACITY: usize = 64;
/// The longest one email may take, connection to QUIT.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the start-up check waits for each server.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(10);
/// How many runs' emails are sent at once; the rest wait in the queue.
const SEND_CONCURRENCY: usize = 4;

/// Sends the emails of finished runs. Cheap to clone: clones share the
/// transports, the queue and the counters.
#[derive(Clone)]
pub struct Notifier {
    inner: Arc<Inner>,
}

struct Inner {
    targets: BTreeMap<String, Target>,
    /// Emails queued or being sent; `flush` waits for it to reach zero.
    pending: watch::Sender<usize>,
    send_slots: Arc<Semaphore>,
    tracker: TaskTracker,
    sent: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
}

struct Target {
    cfg: NotifConfig,
    /// `Err` holds why the transport could not be built (e.g. no TLS
    /// provider); each send then fails with that reason, logged.
    transport: Result<Transport, String>,
}

/// Counters since start, for metrics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NotifyStats {
    /// Emails waiting or being sent now.
    pub pending: usize,
    pub sent: u64,
    pub failed: u64,
    /// Emails never queued: queue full, unknown name, or no runtime.
    pub dropped: u64,
}

impl Notifier {
    /// Builds transports for every notification; an unreachable server is
    /// not an error here (see [`Notifier::check_reachable`]).
    pub fn new(notifs: &BTreeMap<String, NotifConfig>) -> Notifier {
        let targets = notifs
            .iter()
            .map(|(name, cfg)| {
                let transport = transport::build(cfg, SEND_TIMEOUT).map_err(|e| {
                    tracing::warn!(notif = %name, error = %e, "cannot set up the SMTP transport");
                    e.to_string()
                });
                (name.clone(), Target { cfg: cfg.clone(), transport })
            })
            .collect();
        Notifier {
            inner: Arc::new(Inner {
                targets,
                pending: watch::Sender::new(0),
                send_slots: Arc::new(Semaphore::new(SEND_CONCURRENCY)),
                tracker: TaskTracker::new(),
                sent: AtomicU64::new(0),
                failed: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
            }),
        }
    }

    /// Queues one email per named notification for a finished run and
    /// returns at once. The body (the log's last [`MAX_BODY_BYTES`]) is read
    /// from `log_path` in the background, once for all names. Must be called
    /// inside a Tokio runtime; outside one the emails are dropped and logged.
    pub fn run_ended(
        &self,
        names: &[String],
        kind: JobKind,
        id: &JobId,
        counter: u64,
        status: JobStatus,
        log_path: PathBuf,
    ) {
        let span = tracing::info_span!("notify", job.kind = kind.as_str(), job.id = %id, run.counter = counter);
        let _enter = span.enter();
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(count = names.len(), "no async runtime: notification emails dropped");
            self.inner.dropped.fetch_add(names.len() as u64, Ordering::Relaxed);
            return;
        };
        let mut queued = Vec::with_capacity(names.len());
        for name in names {
            if !self.inner.targets.contains_key(name) {
                // Config validation refuses such names; a code-built config may not.
                tracing::warn!(notif = %name, "no such notification: email dropped");
                self.inner.dropped.fetch_add(1, Ordering::Relaxed);
            } else if let Some(ticket) = Ticket::take(&self.inner) {
                queued.push((name.clone(), ticket));
            } else {
                tracing::warn!(notif = %name, capacity = QUEUE_CAPACITY, "notification queue full: email dropped");
                self.inner.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        if queued.is_empty() {
            return;
        }
        let inner = Arc::clone(&self.inner);
        let subject = subject(kind, id, counter, status);
        let task = async move {
            let Ok(_slot) = Arc::clone(&inner.send_slots).acquire_owned().await else {
                return;
            };
            let body = log_body(&log_path).await;
            for (name, _ticket) in queued {
                inner.send_one(&name, &subject, body.clone()).await;
            }
        };
        handle.spawn(self.inner.tracker.track_future(task.instrument(span.clone())));
    }

    /// Logs a warning for each server that cannot be reached (or refuses
    /// the credentials) now. For start-up; never fatal. Servers are checked
    /// at once, each bounded by [`CHECK_TIMEOUT`].
    pub async fn check_reachable(&self) {
        let mut checks = tokio::task::JoinSet::new();
        for (name, target) in &self.inner.targets {
            let Ok(transport) = target.transport.clone() else {
                continue; // already warned by `new`
            };
            let (name, scheme) = (name.clone(), target.cfg.scheme);
            let addr = format!("{}:{}", target.cfg.host, target.cfg.port);
            checks.spawn(self.inner.tracker.track_future(async move {
                match tokio::time::timeout(CHECK_TIMEOUT, transport.test_connection()).await {
                    Ok(Ok(true)) => tracing::debug!(notif = %name, server = %addr, "SMTP server reachable"),
                    Ok(Ok(false)) => tracing::warn!(notif = %name, server = %addr, reason = %FailReason::Other, "SMTP server not answering NOOP"),
                    Ok(Err(e)) => {
                        tracing::warn!(notif = %name, server = %addr, reason = %FailReason::of(&e, scheme), error = %e, "SMTP server not usable")
                    }
                    Err(_) => tracing::warn!(notif = %name, server = %addr, reason = %FailReason::Timeout, "SMTP server not answering"),
                }
            }));
        }
        while checks.join_next().await.is_some() {}
    }

    /// Waits until every queued email is sent or has failed, or `timeout`
    /// passes (then logs how many are left). For shutdown and tests.
    pub async fn flush(&self, timeout: Duration) {
        let mut pending = self.inner.pending.subscribe();
        if tokio::time::timeout(timeout, pending.wait_for(|n| *n == 0)).await.is_err() {
            tracing::warn!(pending = *pending.borrow(), "notification emails still unsent at flush timeout");
        }
    }

    /// Counters since start.
    pub fn stats(&self) -> NotifyStats {
        NotifyStats {
            pending: *self.inner.pending.borrow(),
            sent: self.inner.sent.load(Ordering::Relaxed),
            failed: self.inner.failed.load(Ordering::Relaxed),
            dropped: self.inner.dropped.load(Ordering::Relaxed),
        }
    }

    /// The sending tasks, for a shutdown that wants to wait on or close them.
    pub fn tracker(&self) -> &TaskTracker {
        &self.inner.tracker
    }
}

impl Inner {
    async fn send_one(&self, name: &str, subject: &str, body: String) {
        let Some(target) = self.targets.get(name) else {
            return;
        };
        let scheme = target.cfg.scheme;
        let result = match (&target.transport, message(&target.cfg, subject, body)) {
            (Err(e), _) => Err((FailReason::Other, e.clone())),
            (_, Err(e)) => Err((FailReason::Message, e.to_string())),
            (Ok(transport), Ok(msg)) => {
                use lettre::AsyncTransport as _;
                match tokio::time::timeout(SEND_TIMEOUT, transport.send(msg)).await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) => Err((FailReason::of(&e, scheme), e.to_string())),
                    Err(_) => Err((FailReason::Timeout, format!("no answer within {SEND_TIMEOUT:?}"))),
                }
            }
        };
        match result {
            Ok(()) => {
                self.sent.fetch_add(1, Ordering::Relaxed);
                tracing::info!(notif = %name, "notification email sent");
            }
            Err((reason, error)) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(notif = %name, server = %format_args!("{}:{}", target.cfg.host, target.cfg.port), %reason, %error, "notification email not sent");
            }
        }
    }
}

/// One place in the queue; given back on drop, so a send that ends any way
/// (sent, failed, cancelled with the runtime) frees it.
struct Ticket {
    pending: watch::Sender<usize>,
}

impl Ticket {
    fn take(inner: &Inner) -> Option<Ticket> {
        let taken = inner.pending.send_if_modified(|n| {
            let free = *n < QUEUE_CAPACITY;
            if free {
                *n += 1;
            }
            free
        });
        taken.then(|| Ticket { pending: inner.pending.clone() })
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.pending.send_modify(|n| *n -= 1);
    }
}

impl fmt::Debug for Notifier {
    /// Names and servers only: the configs hold passwords.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let servers: BTreeMap<&str, String> = self
            .inner
            .targets
            .iter()
            .map(|(name, t)| (name.as_str(), format!("{:?}://{}:{}", t.cfg.scheme, t.cfg.host, t.cfg.port)))
            .collect();
        f.debug_struct("Notifier").field("servers", &servers).field("stats", &self.stats()).finish()
    }
}
