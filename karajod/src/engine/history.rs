//! The engine's side of the run history (SPEC 15): a run's row opened
//! (its counter from the database) and closed, retention of rows, the
//! recent runs the Job JSON shows, and reconciling rows with the logs on
//! disk at start and when a reload adds a job.
//!
//! Invariants: the database never blocks or fails a run: each call is
//! bounded by [`DB_TIMEOUT`] and a failure becomes a `!!!` note in the run's
//! log; the counter then comes from memory (the database's allocator is
//! raised past it on its next use). No entry lock is held across a call.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use proto::{JobKind, JobStatus, Run};

use super::Engine;
use super::registry::Entry;
use crate::store::history::{Backend, History, HistoryError, JobStart, RunEnd, RunStart};
use crate::store::log_times;

/// The longest a run waits on the database at its start or its end.
pub(super) const DB_TIMEOUT: Duration = Duration::from_secs(1);
/// `success_rate` is taken over this many ended runs.
pub(super) const RECENT_RUNS: usize = 20;

/// What the `logs` entries and the Job JSON show from the rows. Kept
/// small: with 10,000 jobs a full [`Run`] per listed log was a third of
/// the daemon's memory (SPEC 23).
#[derive(Debug, Clone, Default)]
pub(crate) struct Recent {
    /// Ended runs, newest first: success or not, and the duration.
    ended: VecDeque<(bool, Option<i64>)>,
    /// What a listed log shows of its run's row, by counter.
    rows: Vec<LogRow>,
    /// The whole row of each run going on, for its end (usually one).
    open: Vec<Run>,
}

/// The fields of a run's row that its `logs` entry shows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LogRow {
    pub counter: u64,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub trigger: Option<Box<str>>,
    pub attempts: u32,
}

impl LogRow {
    fn of(r: &Run) -> LogRow {
        LogRow {
            counter: r.counter,
            started_at: r.started_at,
            ended_at: r.ended_at,
            duration_ms: r.duration_ms,
            trigger: r.trigger.as_deref().map(Box::from),
            attempts: r.attempts,
        }
    }
}

impl Recent {
    pub fn success_rate(&self) -> Option<f64> {
        let n = self.ended.len();
        (n > 0).then(|| self.ended.iter().filter(|(ok, _)| *ok).count() as f64 / n as f64)
    }

    pub fn last_duration_ms(&self) -> Option<i64> {
        self.ended.front().and_then(|(_, d)| *d)
    }

    pub fn row(&self, counter: u64) -> Option<LogRow> {
        if let Some(r) = self.open.iter().find(|r| r.counter == counter) {
            return Some(LogRow::of(r));
        }
        self.rows.binary_search_by_key(&counter, |r| r.counter).ok().map(|i| self.rows[i].clone())
    }

    /// The rows of the listed logs (any order): replaces what was kept.
    fn set_rows<'a>(&mut self, rows: impl IntoIterator<Item = &'a Run>) {
        let mut rows: Vec<LogRow> = rows.into_iter().map(LogRow::of).collect();
        rows.sort_by_key(|r| r.counter);
        rows.dedup_by_key(|r| r.counter);
        rows.shrink_to_fit();
        self.rows = rows;
    }

    fn opened(&mut self, row: Run) {
        self.open.retain(|r| r.counter != row.counter);
        self.open.push(row);
    }

    /// The open row of `counter`, taken out.
    fn take_open(&mut self, counter: u64) -> Option<Run> {
        let i = self.open.iter().position(|r| r.counter == counter)?;
        Some(self.open.swap_remove(i))
    }

    fn ended(&mut self, row: &Run) {
        self.ended.push_front((row.status == JobStatus::Success.as_str(), row.duration_ms));
        self.ended.truncate(RECENT_RUNS);
        let view = LogRow::of(row);
        match self.rows.binary_search_by_key(&row.counter, |r| r.counter) {
            Ok(i) => self.rows[i] = view,
            Err(i) => self.rows.insert(i, view),
        }
    }

    /// Keeps the rows of the listed logs only (after retention).
    pub fn keep_rows(&mut self, keep: impl Fn(u64) -> bool) {
        self.rows.retain(|r| keep(r.counter));
    }
}

/// A run about to create its log: its counter, the note for the log if
/// the database failed, and the row's write if it still goes on.
pub(super) struct Opened {
    pub counter: u64,
    pub note: Option<String>,
    pending: Option<tokio::task::JoinHandle<Result<(), String>>>,
}

/// Opens the run's row. PostgreSQL may be shared, so the run waits
/// (bounded) for the counter it allocates. A SQLite file has one writer,
/// this daemon (it holds the file's lock), so the allocator is what memory
/// says: the counter is `floor + 1` at once and the row is written beside
/// the run, which then never waits on the disk to start.
pub(super) async fn open(engine: &Engine, entry: &Entry, start: RunStart<'_>) -> Opened {
    let fallback = start.floor + 1;
    let Some(h) = &engine.inner.history else { return Opened { counter: fallback, note: None, pending: None } };
    let mut row = Run::new(start.kind, start.job_id, fallback, JobStatus::Running.as_str());
    row.trigger = Some(start.trigger.to_string());
    row.slot = start.slot;
    row.queued_at = Some(start.queued_at);
    row.started_at = Some(start.started_at);
    row.actor = start.actor.map(str::to_string);
    let opened = match h.backend() {
        Backend::Postgres => {
            let (counter, note) = match bounded(h, "begin_run", h.begin_run(&start)).await {
                Ok(c) => (c, None),
                Err(note) => (fallback, Some(note)),
            };
            Opened { counter, note, pending: None }
        }
        Backend::Sqlite => {
            let (h, id, trigger) = (h.clone(), start.job_id.clone(), start.trigger.to_string());
            let actor = start.actor.map(str::to_string);
            let RunStart { kind, floor, slot, queued_at, started_at, .. } = start;
            let pending = spawn_db(engine, async move {
                let s = RunStart {
                    kind,
                    job_id: &id,
                    floor,
                    trigger: &trigger,
                    slot,
                    queued_at,
                    started_at,
                    node: None,
                    actor: actor.as_deref(),
                };
                match h.begin_run(&s).await {
                    Ok(c) if c == fallback => Ok(()),
                    Ok(c) => Err(format!(
                        "!!! history database {}: its row is #{c}, not #{fallback}: another writer?",
                        h.place()
                    )),
                    Err(e) => Err(format!("!!! history database: {e}; this run's row may be missing")),
                }
            });
            Opened { counter: fallback, note: None, pending: Some(pending) }
        }
    };
    row.counter = opened.counter;
    entry.lock().recent.opened(row);
    opened
}

/// Completes the run's row (after its start's write, if that still goes
/// on); the note for the log when the database failed.
pub(super) async fn close(engine: &Engine, entry: &Entry, opened: &mut Opened, end: RunEnd<'_>) -> Option<String> {
    let row = {
        let mut st = entry.lock();
        let mut row = st
            .recent
            .take_open(end.counter)
            .unwrap_or_else(|| Run::new(end.kind, end.job_id, end.counter, JobStatus::Running.as_str()));
        row.status = end.status.as_str().to_string();
        row.ended_at = Some(end.ended_at);
        row.duration_ms = Some(end.duration_ms);
        row.attempts = end.attempts;
        row.exit_code = end.exit_code;
        st.recent.ended(&row);
        row
    };
    let h = engine.inner.history.as_ref()?;
    let began = match opened.pending.take() {
        None => Ok(()),
        Some(p) => match tokio::time::timeout(DB_TIMEOUT, p).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err("!!! history database: the row's write stopped".to_string()),
            Err(_) => Err(format!("!!! history database {}: no answer within {DB_TIMEOUT:?}", h.place())),
        },
    };
    let (h, id) = (h.clone(), end.job_id.clone());
    let RunEnd { kind, counter, status, ended_at, duration_ms, attempts, exit_code, .. } = end;
    let written = spawn_db(engine, async move {
        let end = RunEnd { kind, job_id: &id, counter, status, ended_at, duration_ms, attempts, exit_code };
        let res = bounded(&h, "end_run", h.end_run(&end)).await;
        match (began, res) {
            (Ok(()), Ok(())) => None,
            // The row may be missing (its start failed) or still say
            // `running` (its end failed): write it whole.
            (began, res) => match bounded(&h, "put", h.put(&row)).await {
                Ok(()) => None,
                Err(_) => Some(began.err().or(res.err()).unwrap_or_default()),
            },
        }
    });
    written.await.unwrap_or_else(|_| Some("!!! history database: the row's write stopped".to_string()))
}

/// Spawns a run's database work on [`EngineOptions::db_runtime`] when the
/// engine has one, else on the run's own runtime. sqlx hands SQLite's
/// answers over a channel whose lock its worker thread holds while it
/// sends: the timer runtime's one worker, at realtime priority, blocked
/// on that lock behind a thread of normal priority, and the timers of a
/// burst still to fire waited with it (100 jobs on the same second under
/// API load: 16-40 ms late).
///
/// [`EngineOptions::db_runtime`]: super::EngineOptions::db_runtime
pub(super) fn spawn_db<T: Send + 'static>(
    engine: &Engine,
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> tokio::task::JoinHandle<T> {
    engine.inner.spawn_on(engine.inner.db_runtime.as_ref(), work)
}

/// After a run: rows of deleted logs say so; rows beyond `history_retention` go.
pub(super) fn after_run(engine: &Engine, kind: JobKind, id: &proto::JobId, gone: Vec<u64>, keep: u32) {
    let Some(h) = engine.inner.history.clone() else { return };
    let id = id.clone();
    spawn_db(engine, async move {
        if !gone.is_empty()
            && let Err(e) = h.log_gone(kind, &id, &gone).await
        {
            tracing::warn!(job.id = %id, error = %e, "cannot mark deleted logs in the history");
        }
        if let Err(e) = h.trim(kind, &id, keep).await {
            tracing::warn!(job.id = %id, error = %e, "cannot apply history_retention");
        }
    });
}

async fn bounded<T>(
    h: &History,
    what: &str,
    fut: impl std::future::Future<Output = Result<T, HistoryError>>,
) -> Result<T, String> {
    match tokio::time::timeout(DB_TIMEOUT, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "history database write failed");
            Err(format!("!!! history database: {e}; this run's row may be missing"))
        }
        Err(_) => {
            tracing::error!(db = h.place(), what, "history database timed out");
            Err(format!(
                "!!! history database {}: no answer within {DB_TIMEOUT:?} ({what}); this run's row may be missing",
                h.place()
            ))
        }
    }
}

/// What start-up reads of every job's rows, before the reconcile (see
/// [`Engine::read_history`]).
pub struct HistoryRead(pub(super) std::collections::HashMap<(String, String), JobStart>);

/// Reads what [`reconcile_all`] needs of every job.
pub(super) async fn read_all(h: &History) -> Result<HistoryRead, HistoryError> {
    Ok(HistoryRead(h.start_state(RECENT_RUNS).await?))
}

/// Start-up: every entry's rows agree with its logs, from the rows
/// [`read_all`] read.
pub(super) async fn reconcile_all(engine: &Engine, read: HistoryRead) -> Result<(), HistoryError> {
    let Some(h) = &engine.inner.history else { return Ok(()) };
    let mut read = read.0;
    for entry in engine.entries() {
        let start = read.remove(&(entry.kind.as_str().to_string(), entry.id.as_str().to_string()));
        reconcile(h, &entry, Some(start.unwrap_or_else(JobStart::unseen))).await?;
    }
    Ok(())
}

/// A job added by a reload: reconciled in the background (its errors are logged).
pub(super) fn reconcile_later(engine: &Engine, entry: Arc<Entry>) {
    let Some(h) = engine.inner.history.clone() else { return };
    engine.inner.tracker.spawn(async move {
        if let Err(e) = reconcile(&h, &entry, None).await {
            tracing::error!(job.id = %entry.id, error = %e, "cannot reconcile the job's history");
        }
    });
}

/// One job: logs with no row are imported, rows whose log is gone say so,
/// rows a crash left `running` take their log's final status; then the
/// counter, `last_run` and the recent runs come from the rows. `start`:
/// what [`History::start_state`] read for it, else it is read here.
async fn reconcile(h: &History, entry: &Entry, start: Option<JobStart>) -> Result<(), HistoryError> {
    let (kind, id) = (entry.kind, entry.id.clone());
    let start = match start {
        Some(s) => s,
        None => h.job_start(kind, &id, RECENT_RUNS).await?,
    };
    let disk: Vec<(u64, JobStatus, std::path::PathBuf)> =
        entry.lock().logs.iter().map(|l| (l.counter, l.status, l.path.clone())).collect();
    let rows: BTreeMap<u64, Run> = start.with_logs.into_iter().map(|r| (r.counter, r)).collect();
    let mut import = Vec::new();
    let mut changed = false;
    for (counter, status, path) in &disk {
        match rows.get(counter) {
            None => import.push(imported(kind, &id, *counter, *status, path)),
            Some(row) if row.status != status.as_str() => {
                let mut row = imported(kind, &id, *counter, *status, path);
                row.ended_at = row.ended_at.or(rows[counter].ended_at);
                h.settle(&row).await?;
                changed = true;
            }
            Some(_) => {}
        }
    }
    if !import.is_empty() {
        h.insert(&import).await?;
        changed = true;
    }
    for row in rows.values().filter(|r| !disk.iter().any(|(c, _, _)| *c == r.counter)) {
        changed = true;
        let mut row = row.clone();
        row.log = false;
        if row.status == JobStatus::Running.as_str() {
            // A crash before its log existed: the run never ran a command.
            row.status = JobStatus::Failed.as_str().to_string();
        }
        h.settle(&row).await?;
    }
    // Rows written above change what was read before them.
    let (summary, last_counter) = match (changed, start.summary) {
        (false, Some(summary)) => (summary, start.last_counter),
        _ => (h.summary(kind, &id, RECENT_RUNS as u32).await?, h.last_counter(kind, &id).await?),
    };
    let last_slot = start.last_slot;
    let fresh = match changed {
        true => h.with_logs(kind, &id).await?.into_iter().map(|r| (r.counter, r)).collect(),
        false => rows,
    };
    let mut st = entry.lock();
    st.counter = st.counter.max(last_counter);
    st.last_slot = st.last_slot.max(last_slot);
    if let Some(t) = summary.last.as_ref().and_then(|r| r.started_at) {
        st.last_run = Some(t);
    }
    // Not `collect()`: that would keep the read's larger buffer (1.2 MB with
    // 10,000 jobs). Room for one more: a run's end pushes, then truncates.
    st.recent.ended = VecDeque::with_capacity(summary.recent.len() + 1);
    st.recent.ended.extend(summary.recent.into_iter().map(|(s, d)| (s == JobStatus::Success.as_str(), d)));
    st.recent.set_rows(fresh.values());
    Ok(())
}

/// The row of a log that has none, from what the log says.
fn imported(kind: JobKind, id: &proto::JobId, counter: u64, status: JobStatus, path: &std::path::Path) -> Run {
    let times = log_times::read(path).unwrap_or_else(|e| {
        tracing::warn!(path = %path.display(), error = %e, "cannot read a log's times");
        Default::default()
    });
    let mut row = Run::new(kind, id, counter, status.as_str());
    row.started_at = times.started;
    row.ended_at = times.ended;
    row.trigger = times.trigger;
    row.duration_ms = duration_ms(times.started, times.ended);
    row
}

fn duration_ms(start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>) -> Option<i64> {
    Some((end? - start?).num_milliseconds().max(0))
}
