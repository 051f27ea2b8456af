//! The daemon's watcher of runs for notifications (SPEC 10 and 18): it
//! follows the engine's run-start and run-end broadcasts and turns them into
//! the events `success`, `failed`, `recovered`, `late`, `long_running` and
//! `missed`, sent to the notifications each job names, plus the job's
//! `ping_url` pings; and the checks' `down` and `up` (SPEC 18).
//!
//! Invariants: nothing here can hold up a run (the engine only broadcasts;
//! deliveries are queued in [`Notifier`]); `long_running` fires at most
//! once per run, on the engine's clock, and only while the run goes on;
//! the notifier is rebuilt when a reload changes the configuration, the
//! delivery counters are kept.

use std::collections::HashMap;
use std::sync::Arc;

use proto::{JobId, JobKind, JobStatus};
use tokio::sync::broadcast::{Receiver, error::RecvError};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::checks::CheckEvent;
use crate::config::{Config, JobCommon};
use crate::engine::{Engine, RunEnded, RunMissed, RunStarted};
use crate::notify::ping::{Ping, PingKind, Pinger};
use crate::notify::{Alert, Counts, Event, Notifier};
use crate::store::history::RunQuery;

/// How long queued notifications may take to go out at shutdown.
const FLUSH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A run: kind, job and counter.
type RunKey = (JobKind, JobId, u64);

/// The broadcasts the watcher follows.
pub struct Feeds {
    pub started: Receiver<RunStarted>,
    pub ended: Receiver<RunEnded>,
    pub missed: Receiver<RunMissed>,
    /// `None`: the engine has no checks.
    pub checks: Option<Receiver<CheckEvent>>,
}

struct Watcher<'a> {
    engine: &'a Engine,
    config: Arc<Config>,
    notifier: Notifier,
    counts: Arc<Counts>,
    pinger: Pinger,
    /// Runs watched for `long_running`, until they end or fire it.
    running: HashMap<RunKey, RunStarted>,
    overdue: JoinSet<RunKey>,
    base_url: String,
}

/// Runs until the engine has stopped (runs ending in the grace period
/// are notified too), then flushes what is queued.
pub async fn watch(engine: &Engine, mut feeds: Feeds, counts: Arc<Counts>, done: &CancellationToken) {
    let config = engine.config();
    let notifier = Notifier::with(&config.notifs, &config.webhooks, counts.clone());
    let check = notifier.clone();
    tokio::spawn(async move { check.check_reachable().await });
    let pings = TaskTracker::new();
    let base_url = engine.self_url().trim_end_matches('/').to_string();
    let mut w = Watcher {
        engine,
        config,
        notifier,
        counts,
        pinger: Pinger::start(&pings),
        running: HashMap::new(),
        overdue: JoinSet::new(),
        base_url,
    };
    loop {
        tokio::select! {
            r = feeds.ended.recv() => match received(r, "run ends") {
                Some(Some(run)) => {
                    // A run's start was announced before its end: both may
                    // be waiting here (a fast run), and select! picks at
                    // random, so the starts go first, the start ping before the end's.
                    w.started_before_end(&mut feeds.started);
                    w.ended(run).await
                }
                Some(None) => {}
                None => break,
            },
            r = feeds.started.recv() => if let Some(Some(run)) = received(r, "run starts") { w.started(run) },
            r = feeds.missed.recv() => if let Some(Some(m)) = received(r, "missed slots") { w.missed(m) },
            r = next_check(&mut feeds.checks) => if let Some(Some(e)) = received(r, "check transitions") { w.check(e) },
            Some(Ok(key)) = w.overdue.join_next() => w.overdue(key),
            _ = done.cancelled() => match feeds.ended.try_recv() {
                Ok(run) => {
                    w.started_before_end(&mut feeds.started);
                    w.ended(run).await
                }
                Err(_) => break,
            },
        }
    }
    w.overdue.abort_all();
    w.notifier.flush(FLUSH_TIMEOUT).await;
    drop(w.pinger);
    pings.close();
    let _ = tokio::time::timeout(FLUSH_TIMEOUT, pings.wait()).await;
}

/// The next check transition; never, without checks.
async fn next_check(rx: &mut Option<Receiver<CheckEvent>>) -> Result<CheckEvent, RecvError> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// `None`: the feed is closed; `Some(None)`: items were missed (logged).
fn received<T>(r: Result<T, RecvError>, what: &str) -> Option<Option<T>> {
    match r {
        Ok(item) => Some(Some(item)),
        Err(RecvError::Lagged(n)) => {
            tracing::warn!(missed = n, "notifications fell behind; {n} {what} were not notified");
            Some(None)
        }
        Err(RecvError::Closed) => None,
    }
}

impl Watcher<'_> {
    /// Handles every run start already announced.
    fn started_before_end(&mut self, started: &mut Receiver<RunStarted>) {
        loop {
            match started.try_recv() {
                Ok(run) => self.started(run),
                Err(tokio::sync::broadcast::error::TryRecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "notifications fell behind; {n} run starts were not notified");
                }
                Err(_) => return,
            }
        }
    }

    /// The config in force, the notifier following it.
    fn refresh(&mut self) {
        let now = self.engine.config();
        if !Arc::ptr_eq(&now, &self.config) {
            self.notifier = Notifier::with(&now.notifs, &now.webhooks, self.counts.clone());
            self.config = now;
        }
    }

    fn job(&self, kind: JobKind, id: &JobId) -> Option<JobCommon> {
        match kind {
            JobKind::Job => self.config.job(id).map(|j| j.common.clone()),
            JobKind::JobHttp => self.config.http_job(id).map(|j| j.common.clone()),
        }
    }

    fn started(&mut self, run: RunStarted) {
        self.refresh();
        let Some(job) = self.job(run.kind, &run.id) else { return };
        let a = &job.alerts;
        if let Some(url) = &a.ping_url {
            self.pinger.ping(ping(url, PingKind::Start, &run));
        }
        if let Some(max) = a.max_duration.filter(|_| !a.notif_on_long_running.is_empty()) {
            let key = (run.kind, run.id.clone(), run.counter);
            self.running.insert(key.clone(), run.clone());
            let at = run.started + chrono::TimeDelta::from_std(max).unwrap_or(chrono::TimeDelta::MAX);
            let sleep = self.engine.clock().sleep_until(at);
            self.overdue.spawn(async move {
                sleep.await;
                key
            });
        }
        let late = run.due.and_then(|due| (run.started - due).to_std().ok()).filter(|late| *late > a.late_after);
        if late.is_some() && !a.notif_on_late.is_empty() {
            let alert = self.alert(Event::Late, &job, &run, "running");
            self.notifier.notify(&a.notif_on_late, alert);
        }
    }

    fn overdue(&mut self, key: RunKey) {
        // Not there: it ended in time.
        let Some(run) = self.running.remove(&key) else { return };
        let Some(job) = self.job(run.kind, &run.id) else { return };
        let alert = self.alert(Event::LongRunning, &job, &run, "running");
        self.notifier.notify(&job.alerts.notif_on_long_running, alert);
    }

    async fn ended(&mut self, run: RunEnded) {
        self.refresh();
        self.running.remove(&(run.kind, run.id.clone(), run.counter));
        let Some(job) = self.job(run.kind, &run.id) else { return };
        let a = &job.alerts;
        if let Some(url) = &a.ping_url {
            let kind = if run.status == JobStatus::Success { PingKind::Success } else { PingKind::Fail };
            let ping = Ping {
                url: url.clone(),
                kind,
                log_path: run.log_path.clone(),
                job_id: run.id.to_string(),
                counter: run.counter,
            };
            self.pinger.ping(ping);
        }
        let (event, names) = match run.status {
            JobStatus::Success => (Event::Success, &job.notif_on_success),
            JobStatus::Failed => (Event::Failed, &job.notif_on_failed),
            _ => return,
        };
        let wants_recovered = event == Event::Success && !a.notif_on_recovered.is_empty();
        if names.is_empty() && !wants_recovered {
            return;
        }
        let (attempts, previous) = self.history_of(&run).await;
        let mut alert = self.ended_alert(event, &job, &run, attempts);
        if !names.is_empty() {
            self.notifier.notify(names, alert.clone());
        }
        if wants_recovered && previous == Some(JobStatus::Failed) {
            alert.event = Event::Recovered;
            self.notifier.notify(&a.notif_on_recovered, alert);
        }
    }

    fn missed(&mut self, m: RunMissed) {
        self.refresh();
        if let Some(job) = self.job(m.kind, &m.id) {
            self.notifier.missed(m.kind, &job, m.slot);
        }
    }

    /// `notif_on_down` / `notif_on_up` of a check that changed.
    fn check(&mut self, e: CheckEvent) {
        self.refresh();
        let Some(c) = self.config.checks.iter().find(|c| c.id.as_str() == e.id) else { return };
        let (event, names) = if e.down { (Event::Down, &c.notif_on_down) } else { (Event::Up, &c.notif_on_up) };
        if names.is_empty() {
            return;
        }
        let alert = Alert {
            event,
            kind: "check",
            job_id: e.id.clone(),
            job_name: e.name.clone(),
            counter: e.counter,
            status: event.as_str().into(),
            trigger: "ping".into(),
            attempts: 0,
            started_at: Some(e.at),
            ended_at: None,
            duration_ms: None,
            log_url: format!("{}/karajo/api/check?name={}", self.base_url, e.id),
            log_path: e.log_path,
        };
        self.notifier.notify(names, alert);
    }

    /// The run's attempts, and the status of the run before it that
    /// ended success or failed (what "recovered" is decided on), from the
    /// history; without a history, one attempt and no previous run.
    async fn history_of(&self, run: &RunEnded) -> (u32, Option<JobStatus>) {
        let Some(history) = self.engine.history() else { return (1, None) };
        let q = RunQuery { kind: run.kind, job_id: &run.id, limit: 20, before: Some(run.counter + 1), status: None };
        let rows = match history.runs(&q).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(job.id = %run.id, error = %e, "cannot read the history for a notification");
                return (1, None);
            }
        };
        let attempts = rows.iter().find(|r| r.counter == run.counter).map_or(1, |r| r.attempts.max(1));
        let previous = rows.iter().filter(|r| r.counter < run.counter).find_map(|r| match r.status.as_str() {
            "success" => Some(JobStatus::Success),
            "failed" => Some(JobStatus::Failed),
            _ => None,
        });
        (attempts, previous)
    }

    fn log_url(&self, kind: JobKind, id: &JobId, counter: u64) -> String {
        let route = match kind {
            JobKind::Job => "job_exec",
            JobKind::JobHttp => "job_http",
        };
        format!("{}/karajo/api/{route}/log?id={id}&counter={counter}", self.base_url)
    }

    fn alert(&self, event: Event, job: &JobCommon, run: &RunStarted, status: &str) -> Alert {
        Alert {
            event,
            kind: run.kind.as_str(),
            job_id: run.id.to_string(),
            job_name: job.name.clone(),
            counter: run.counter,
            status: status.into(),
            trigger: run.trigger.into(),
            attempts: 1,
            started_at: Some(run.started),
            ended_at: None,
            duration_ms: None,
            log_url: self.log_url(run.kind, &run.id, run.counter),
            log_path: Some(run.log_path.clone()),
        }
    }

    fn ended_alert(&self, event: Event, job: &JobCommon, run: &RunEnded, attempts: u32) -> Alert {
        let duration = chrono::TimeDelta::from_std(run.duration).unwrap_or_default();
        let start = RunStarted {
            kind: run.kind,
            id: run.id.clone(),
            counter: run.counter,
            trigger: run.trigger,
            log_path: run.log_path.clone(),
            started: run.started,
            due: None,
        };
        Alert {
            attempts,
            ended_at: Some(run.started + duration),
            duration_ms: Some(duration.num_milliseconds()),
            ..self.alert(event, job, &start, run.status.as_str())
        }
    }
}

fn ping(url: &str, kind: PingKind, run: &RunStarted) -> Ping {
    Ping {
        url: url.to_string(),
        kind,
        log_path: run.log_path.clone(),
        job_id: run.id.to_string(),
        counter: run.counter,
    }
}
