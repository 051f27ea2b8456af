//! Notifications (`[notif]`, SPEC 10 and 18): emails and webhooks for the
//! events of runs and checks.
//!
//! Owns one SMTP transport per email notification, one queue and worker per
//! webhook notification (`hooks`), the `ping_url` pinger (`ping`) and the
//! delivery counters. Invariants: [`Notifier::notify`] never blocks and
//! never fails a run; at most [`QUEUE_CAPACITY`] emails wait at once (more
//! are dropped with a warning) and at most [`HOOK_QUEUE_CAPACITY`]
//! deliveries per webhook (the oldest is dropped); every send is bounded by
//! a timeout; a failure is logged with the notification name and a reason,
//! never a panic; passwords and secrets reach neither logs nor `Debug`.

mod counts;
mod event;
mod hooks;
mod mail;
pub mod ping;
mod queue;
mod transport;
pub mod webhook;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{DateTime, Utc};
use proto::{JobId, JobKind, JobStatus};
use tokio::sync::{Semaphore, watch};
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::config::model::{JobCommon, NotifConfig, WebhookConfig};

pub use counts::Counts;
pub use event::{Alert, Event};
pub use hooks::HOOK_QUEUE_CAPACITY;
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

/// Sends the notifications of runs and checks. Cheap to clone: clones
/// share the transports, the queues and the counters.
#[derive(Clone)]
pub struct Notifier {
    inner: Arc<Inner>,
}

struct Inner {
    targets: BTreeMap<String, Target>,
    hooks: BTreeMap<String, hooks::Hook>,
    /// Emails and webhook deliveries queued or being sent; `flush` waits for it to reach zero.
    pending: watch::Sender<usize>,
    send_slots: Arc<Semaphore>,
    tracker: TaskTracker,
    shared: hooks::Shared,
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
    /// Emails and deliveries waiting or being sent now.
    pub pending: usize,
    pub sent: u64,
    pub failed: u64,
    /// Never queued (queue full, unknown name, no runtime) or pushed out of a full queue.
    pub dropped: u64,
}

impl Notifier {
    /// Email notifications only, with counters of their own.
    pub fn new(notifs: &BTreeMap<String, NotifConfig>) -> Notifier {
        Notifier::with(notifs, &BTreeMap::new(), Arc::default())
    }

    /// Builds transports for every email notification and a queue and
    /// worker for every webhook; an unreachable server is not an error here
    /// (see [`Notifier::check_reachable`]). `counts` outlive this notifier.
    pub fn with(
        notifs: &BTreeMap<String, NotifConfig>,
        webhooks: &BTreeMap<String, WebhookConfig>,
        counts: Arc<Counts>,
    ) -> Notifier {
        let shared = hooks::Shared {
            client: http_client(),
            counts,
            sent: Arc::default(),
            failed: Arc::default(),
            dropped: Arc::default(),
        };
        let tracker = TaskTracker::new();
        let hooks = webhooks
            .iter()
            .filter_map(|(name, cfg)| Some((name.clone(), hooks::Hook::start(cfg, &shared, &tracker)?)))
            .collect();
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
                hooks,
                pending: watch::Sender::new(0),
                send_slots: Arc::new(Semaphore::new(SEND_CONCURRENCY)),
                tracker,
                shared,
            }),
        }
    }

    /// Queues one email per named notification for a finished run (SPEC
    /// 10's subject and body) and returns at once.
    pub fn run_ended(
        &self,
        names: &[String],
        kind: JobKind,
        id: &JobId,
        counter: u64,
        status: JobStatus,
        log_path: PathBuf,
    ) {
        let event = if status == JobStatus::Success { Event::Success } else { Event::Failed };
        let alert = Alert {
            event,
            kind: kind.as_str(),
            job_id: id.to_string(),
            job_name: id.to_string(),
            counter,
            status: status.as_str().into(),
            trigger: String::new(),
            attempts: 1,
            started_at: None,
            ended_at: None,
            duration_ms: None,
            log_url: String::new(),
            log_path: Some(log_path),
        };
        self.notify(names, alert);
    }

    /// `notif_on_missed` of a job (SPEC 17): a timer slot that was not run
    /// (catch-up skipped it or it fell outside the window). Returns at once.
    pub fn missed(&self, kind: JobKind, job: &JobCommon, slot: DateTime<Utc>) {
        let alert = Alert {
            event: Event::Missed,
            kind: kind.as_str(),
            job_id: job.id.to_string(),
            job_name: job.name.clone(),
            counter: 0,
            status: Event::Missed.as_str().into(),
            trigger: "timer".into(),
            attempts: 0,
            started_at: Some(slot),
            ended_at: None,
            duration_ms: None,
            log_url: String::new(),
            log_path: None,
        };
        self.notify(&job.alerts.notif_on_missed, alert);
    }

    /// Queues `alert` for every named notification, email or webhook, and
    /// returns at once. Email bodies (the log's last [`MAX_BODY_BYTES`]) are
    /// read in the background, once for all names. Outside a Tokio runtime
    /// everything is dropped and logged.
    pub fn notify(&self, names: &[String], alert: Alert) {
        let span = tracing::info_span!("notify", job.kind = alert.kind, job.id = %alert.job_id, run.counter = alert.counter, event = alert.event.as_str());
        let _enter = span.enter();
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(count = names.len(), "no async runtime: notifications dropped");
            self.drop_all(names);
            return;
        };
        let alert = Arc::new(alert);
        let mut queued = Vec::with_capacity(names.len());
        for name in names {
            if let Some(hook) = self.inner.hooks.get(name) {
                let delivery = hooks::Delivery { alert: alert.clone(), _ticket: Ticket::force(&self.inner) };
                hook.push(delivery, &self.inner.shared);
            } else if !self.inner.targets.contains_key(name) {
                // Config validation refuses such names; a code-built config may not.
                tracing::warn!(notif = %name, "no such notification: dropped");
                self.drop_one(name);
            } else if let Some(ticket) = Ticket::take(&self.inner) {
                queued.push((name.clone(), ticket));
            } else {
                tracing::warn!(notif = %name, capacity = QUEUE_CAPACITY, "notification queue full: email dropped");
                self.drop_one(name);
            }
        }
        if queued.is_empty() {
            return;
        }
        let inner = Arc::clone(&self.inner);
        let task = async move {
            let Ok(_slot) = Arc::clone(&inner.send_slots).acquire_owned().await else {
                return;
            };
            let body = match &alert.log_path {
                Some(path) => log_body(path).await,
                None => format!("{}\n", alert.subject()),
            };
            for (name, _ticket) in queued {
                inner.send_one(&name, &alert.subject(), body.clone()).await;
            }
        };
        handle.spawn(self.inner.tracker.track_future(task.instrument(span.clone())));
    }

    fn drop_one(&self, name: &str) {
        self.inner.shared.dropped.fetch_add(1, Ordering::Relaxed);
        self.inner.shared.counts.add(name, counts::DROPPED);
    }

    fn drop_all(&self, names: &[String]) {
        for name in names {
            self.drop_one(name);
        }
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
            sent: self.inner.shared.sent.load(Ordering::Relaxed),
            failed: self.inner.shared.failed.load(Ordering::Relaxed),
            dropped: self.inner.shared.dropped.load(Ordering::Relaxed),
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
                self.shared.sent.fetch_add(1, Ordering::Relaxed);
                self.shared.counts.add(name, counts::DELIVERED);
                tracing::info!(notif = %name, "notification email sent");
            }
            Err((reason, error)) => {
                self.shared.failed.fetch_add(1, Ordering::Relaxed);
                self.shared.counts.add(name, counts::FAILED);
                tracing::warn!(notif = %name, server = %format_args!("{}:{}", target.cfg.host, target.cfg.port), %reason, %error, "notification email not sent");
            }
        }
    }
}

/// One place in the queue; given back on drop, so a send that ends any way
/// (sent, failed, dropped, cancelled with the runtime) frees it.
struct Ticket {
    pending: watch::Sender<usize>,
}

impl Ticket {
    /// A place outside the email bound: webhook queues bound themselves.
    fn force(inner: &Inner) -> Ticket {
        inner.pending.send_modify(|n| *n += 1);
        Ticket { pending: inner.pending.clone() }
    }

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
        let hooks: Vec<&str> = self.inner.hooks.keys().map(String::as_str).collect();
        f.debug_struct("Notifier")
            .field("servers", &servers)
            .field("webhooks", &hooks)
            .field("stats", &self.stats())
            .finish()
    }
}

/// The client of webhook deliveries and pings: no redirects followed (a
/// receiver that moved should be configured anew, and a redirect would
/// resend the signed body elsewhere).
pub(crate) fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(concat!("karajo/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("the TLS backend initialises")
}
