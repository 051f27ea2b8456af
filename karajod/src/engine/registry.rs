//! The registry's entries: one per job or HTTP job, holding its config and
//! its live state (status, counter, last and next run, logs, the active run
//! and the one queued trigger), and the JSON views built from them (where
//! credentials of HTTP jobs are hidden, see `proto::redact`).
//!
//! Invariants: `state` is a `std::sync::Mutex` held only for quick reads
//! and updates, never across an await, a spawn or disk I/O. At most one
//! run task exists per entry (`active`), with at most `queue_size` triggers
//! queued (`overlap`, see `overlap.rs`).

use std::ops::{Deref, DerefMut};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use proto::words::When;
use proto::{Job, JobBase, JobHttp, JobId, JobKind, JobLog, JobStatus};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::Trigger;
use crate::config::{JobCommon, JobConfig, JobHttpConfig, Timer};
use crate::store::log::{LogFile, RunState};

/// A job's configuration, by kind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Spec {
    Job(Arc<JobConfig>),
    Http(Arc<JobHttpConfig>),
}

impl Spec {
    pub fn kind(&self) -> JobKind {
        match self {
            Spec::Job(_) => JobKind::Job,
            Spec::Http(_) => JobKind::JobHttp,
        }
    }

    /// What both kinds share.
    pub fn common(&self) -> &JobCommon {
        match self {
            Spec::Job(j) => &j.common,
            Spec::Http(j) => &j.common,
        }
    }

    pub fn id(&self) -> &JobId {
        &self.common().id
    }

    pub fn timer(&self) -> Option<&Timer> {
        self.common().timer.as_ref()
    }
}

/// The run being written: what followers and the `logs` list need.
#[derive(Debug, Clone)]
pub(crate) struct RunInfo {
    pub counter: u64,
    pub path: PathBuf,
    pub progress: watch::Receiver<(u64, RunState)>,
}

/// A run task: waiting for a slot (`running` None) or running.
#[derive(Debug)]
pub(crate) struct ActiveRun {
    pub cancel: CancellationToken,
    pub running: Option<RunInfo>,
    /// Set when `overlap = replace` canceled it: the counter of the run after it.
    pub replaced_by: Option<u64>,
    /// Set while the run waits for its next attempt: a pause cancels it.
    pub retry_wait: Option<CancellationToken>,
}

/// The mutable part of an entry.
#[derive(Debug)]
pub(crate) struct EntryState {
    pub spec: Spec,
    pub paused: bool,
    /// The status of the last finished run; `None` = never ran.
    pub last_status: Option<JobStatus>,
    /// The highest counter ever used (the next run takes + 1).
    pub counter: u64,
    pub last_run: Option<DateTime<Utc>>,
    /// The newest timer slot handled (run, dropped or refused): catch-up counts from it.
    pub last_slot: Option<DateTime<Utc>>,
    pub next_run: Option<DateTime<Utc>>,
    /// Finished runs' logs, sorted by counter.
    pub logs: Vec<LogFile>,
    pub active: Option<ActiveRun>,
    /// Triggers waiting behind the active run, oldest first (`overlap`),
    /// each with who asked for it (the row's `actor`).
    pub queued: std::collections::VecDeque<(Trigger, Option<String>)>,
    /// Stops this entry's timer task (on reload or removal).
    pub timer: CancellationToken,
    /// Set when a reload removed the job: triggers are refused.
    pub removed: bool,
    /// What the history rows add to the views (SPEC 15).
    pub recent: super::history::Recent,
}

impl EntryState {
    /// What clients see: paused wins, then running, then the last outcome.
    pub fn status(&self) -> JobStatus {
        if self.paused {
            JobStatus::Paused
        } else if self.active.as_ref().is_some_and(|a| a.running.is_some()) {
            JobStatus::Running
        } else {
            self.last_status.unwrap_or(JobStatus::Started)
        }
    }

    /// Whether a trigger waits: queued behind the active run, or the
    /// active run itself still waiting for a global slot.
    pub fn waits(&self) -> bool {
        !self.queued.is_empty() || self.active.as_ref().is_some_and(|a| a.running.is_none())
    }

    /// The running run, if any.
    pub fn running(&self) -> Option<&RunInfo> {
        self.active.as_ref().and_then(|a| a.running.as_ref())
    }

    fn log_views(&self) -> Vec<JobLog> {
        let id = self.spec.id();
        let view = |counter: u64, status: JobStatus| {
            let row = self.recent.row(counter);
            let row = row.as_ref();
            JobLog {
                job_id: id.clone(),
                name: proto::log_name(id, counter, status),
                status,
                counter,
                started_at: row.and_then(|r| r.started_at),
                ended_at: row.and_then(|r| r.ended_at),
                duration_ms: row.and_then(|r| r.duration_ms),
                trigger: row.and_then(|r| r.trigger.as_deref().map(str::to_string)),
                attempts: row.map(|r| r.attempts),
            }
        };
        let mut logs: Vec<JobLog> = self.logs.iter().map(|l| view(l.counter, l.status)).collect();
        logs.extend(self.running().map(|r| view(r.counter, JobStatus::Running)));
        logs
    }

    fn timer_fields(&self) -> (String, i64) {
        match self.spec.timer() {
            Some(Timer::Schedule(_)) => (self.spec.common().timer_text.clone(), 0),
            Some(Timer::Interval(d)) => (String::new(), d.as_nanos() as i64),
            None => (String::new(), 0),
        }
    }

    /// When the job runs, in words: the API's `schedule_text`.
    fn schedule_text(&self) -> String {
        let when = match self.spec.timer() {
            Some(Timer::Schedule(s)) => return s.describe(),
            Some(Timer::Interval(d)) => When::Interval(d.as_nanos() as i64),
            None if matches!(&self.spec, Spec::Job(c) if c.path.is_some()) => When::Webhook,
            None => When::Manual,
        };
        when.to_string()
    }

    /// What the views of both kinds share.
    fn base_view(&self) -> JobBase {
        let c = self.spec.common();
        let (schedule, interval) = self.timer_fields();
        JobBase {
            id: c.id.clone(),
            name: c.name.clone(),
            description: c.description.clone(),
            description_html: c.description_html.clone(),
            status: self.status(),
            queued: self.waits(),
            schedule,
            interval,
            schedule_text: self.schedule_text(),
            timezone: c.timezone.name().to_string(),
            jitter: c.jitter.as_nanos() as i64,
            last_run: self.last_run,
            next_run: self.next_run,
            header_sign: c.header_sign.clone(),
            log_retention: c.log_retention,
            notif_on_success: c.notif_on_success.clone(),
            notif_on_failed: c.notif_on_failed.clone(),
            alerts: c.alerts.view(),
            logs: self.log_views(),
            history_retention: c.history_retention,
            last_duration_ms: self.recent.last_duration_ms(),
            success_rate: self.recent.success_rate(),
            overlap: c.overlap.as_str().into(),
            queue_size: c.overlap.queue_size(),
            retry: c.retry.times,
            retry_delay: nanos(c.retry.delay),
            retry_backoff: c.retry.backoff,
            retry_max_delay: nanos(c.retry.max_delay),
            retry_on: c.retry.on_text(),
            catch_up: c.catch_up.mode.as_str().into(),
            catch_up_window: nanos(c.catch_up.window),
        }
    }

    /// The `[job]` view; `None` for an HTTP job.
    pub fn job_view(&self) -> Option<Job> {
        let Spec::Job(c) = &self.spec else { return None };
        Some(Job {
            base: self.base_view(),
            path: c.path.clone().unwrap_or_default(),
            auth_kind: c.auth_kind.as_str().into(),
            commands: c.commands.clone(),
            leave_processes: c.leave_processes,
            env_names: c.exec.env_names(),
            env_file: c.exec.env_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
            dir: c.exec.dir.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
            user: c.exec.run_as.as_ref().map(|r| r.user.clone()).unwrap_or_default(),
            group: c.exec.run_as.as_ref().map(|r| r.group.clone()).unwrap_or_default(),
        })
    }

    /// The `[job.http]` view; `None` for a job.
    pub fn http_view(&self) -> Option<JobHttp> {
        let Spec::Http(c) = &self.spec else { return None };
        Some(JobHttp {
            base: self.base_view(),
            http_method: c.http_method.as_str().into(),
            http_url: proto::redact::url(&c.http_url).into_owned(),
            http_request_type: c.http_request_type.as_str().into(),
            http_headers: c.http_headers.iter().map(crate::config::HttpHeader::shown).collect(),
            http_timeout: c.http_timeout.map_or(-1, |d| d.as_nanos() as i64),
            http_insecure: c.http_insecure,
        })
    }

    /// The view of whichever kind this is (pause/resume/cancel answers).
    pub fn any_view(&self) -> proto::AnyJob {
        match (self.job_view(), self.http_view()) {
            (Some(j), _) => proto::AnyJob::Job(j),
            (None, Some(h)) => proto::AnyJob::Http(h),
            (None, None) => unreachable!("an entry is a job or an HTTP job"),
        }
    }
}

/// One job or HTTP job in the registry.
#[derive(Debug)]
pub(crate) struct Entry {
    pub kind: JobKind,
    pub id: JobId,
    state: Mutex<EntryState>,
    /// Orders writes of the pause flag; held across that one file's write
    /// only, never with `state` held first.
    flag: Mutex<()>,
    /// Counts the times the state was opened for writing: a reader that
    /// saw the same version twice saw the same state (the encoded
    /// `/environment` is reused on that).
    version: AtomicU64,
    /// The engine's count of all entries' changes, moved with `version`.
    changes: Arc<AtomicU64>,
    /// One catch-up at a time (a start, resumes): held while it runs, it
    /// keeps the newest slot a catch-up ran or recorded, so the next one
    /// begins after it and never runs a slot twice.
    pub caught_up: tokio::sync::Mutex<Option<DateTime<Utc>>>,
}

impl Entry {
    pub fn new(state: EntryState, changes: Arc<AtomicU64>) -> Entry {
        Entry {
            kind: state.spec.kind(),
            id: state.spec.id().clone(),
            state: Mutex::new(state),
            flag: Mutex::new(()),
            version: AtomicU64::new(0),
            changes,
            caught_up: tokio::sync::Mutex::new(None),
        }
    }

    /// Locks the state; a panic elsewhere never makes it unusable.
    pub fn lock(&self) -> EntryGuard<'_> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        EntryGuard { state, version: &self.version, changes: &self.changes }
    }

    /// Held while the pause flag is written and the state follows it.
    pub fn flag_order(&self) -> MutexGuard<'_, ()> {
        self.flag.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Never decreases; grows before every change of the state.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::SeqCst)
    }
}

/// The locked state. Reading goes through as is; the first write access
/// (and every later one) moves the entry's version on, under the lock, so
/// a version read before locking never hides a change made after it.
pub(crate) struct EntryGuard<'a> {
    state: MutexGuard<'a, EntryState>,
    version: &'a AtomicU64,
    changes: &'a AtomicU64,
}

impl Deref for EntryGuard<'_> {
    type Target = EntryState;
    fn deref(&self) -> &EntryState {
        &self.state
    }
}

impl DerefMut for EntryGuard<'_> {
    fn deref_mut(&mut self) -> &mut EntryState {
        self.version.fetch_add(1, Ordering::SeqCst);
        self.changes.fetch_add(1, Ordering::SeqCst);
        &mut self.state
    }
}

fn nanos(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}
