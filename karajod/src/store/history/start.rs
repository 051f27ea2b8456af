//! What start-up reconciliation reads, for every job in three queries
//! instead of five per job: with 10,000 jobs the per-job form was 50,000
//! round trips to the database's worker thread (SPEC 23's start-up
//! figure), each a pair of thread wake-ups.
//!
//! Invariant: [`History::start_state`] gives each job the same
//! [`JobStart`] that [`History::job_start`] reads for it alone, except
//! that `summary` is `None` where the bounded window of recent rows may
//! not hold enough of them; the caller then asks [`History::summary`].

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use proto::{JobId, JobKind, JobStatus, Run};
use sqlx::Row;

use super::runs::{COLUMNS, Summary, decode};
use super::{History, HistoryError, from_ms};

/// One job's rows as start-up needs them.
#[derive(Debug, Default)]
pub struct JobStart {
    /// The rows whose log should exist, or that a crash left `running`, oldest first.
    pub with_logs: Vec<Run>,
    /// The newest row and the last ended runs; `None`: not read, ask [`History::summary`].
    pub summary: Option<Summary>,
    pub last_counter: u64,
    pub last_slot: Option<DateTime<Utc>>,
}

impl JobStart {
    /// A job absent from [`History::start_state`]: it has no row at all,
    /// as every statement that writes a run row also writes its `jobs` row.
    pub fn unseen() -> JobStart {
        JobStart { summary: Some(Summary::default()), ..JobStart::default() }
    }
}

/// Rows per job the batched summary reads: counters are dense (every
/// allocated counter gets a row), so this many newest counters hold the
/// recent ended runs unless many rows were deleted or are `running`.
const WINDOW_PER_RECENT: i64 = 3;

impl History {
    /// Every job's (and HTTP job's) [`JobStart`], by (kind, job_id), with
    /// summaries of `recent` ended runs. Jobs with no row are absent
    /// (see [`JobStart::unseen`]).
    pub async fn start_state(&self, recent: usize) -> Result<HashMap<(String, String), JobStart>, HistoryError> {
        let what = "read the history at start-up";
        let mut out: HashMap<(String, String), JobStart> = HashMap::new();
        let jobs =
            sqlx::query("SELECT kind, job_id, last_counter, last_slot FROM jobs WHERE kind IN ('job', 'job_http')")
                .fetch_all(&self.pool)
                .await
                .map_err(self.err(what))?;
        for r in &jobs {
            let key = (r.try_get(0).map_err(self.err(what))?, r.try_get(1).map_err(self.err(what))?);
            let start = out.entry(key).or_default();
            start.last_counter = r.try_get::<i64, _>(2).map_err(self.err(what))?.max(0) as u64;
            start.last_slot = r.try_get::<Option<i64>, _>(3).map_err(self.err(what))?.map(from_ms);
        }
        // The partial index `runs_with_log` answers this one.
        let sql =
            format!("SELECT {COLUMNS} FROM runs WHERE log = 1 OR status = 'running' ORDER BY kind, job_id, counter");
        for r in sqlx::query(&sql).fetch_all(&self.pool).await.map_err(self.err(what))? {
            let run = decode(&r).map_err(self.err(what))?;
            if let Some(start) = out.get_mut(&(run.kind.clone(), run.job_id.clone())) {
                start.with_logs.push(run);
            }
        }
        // The newest counters of each job, by primary key ranges.
        let window = WINDOW_PER_RECENT * i64::try_from(recent).unwrap_or(i64::MAX / 4);
        let prefixed: Vec<String> = COLUMNS.split(", ").map(|c| format!("r.{}", c.trim())).collect();
        // CROSS JOIN: SQLite then walks the jobs and, for each, a range of
        // the runs' primary key; left to itself it walked every run (1.5 s
        // with 1,000,000 rows). PostgreSQL plans it the same either way.
        let sql = format!(
            "SELECT {} FROM jobs j CROSS JOIN runs r WHERE r.kind = j.kind AND r.job_id = j.job_id \
             AND r.counter > j.last_counter - $1 AND j.kind IN ('job', 'job_http') ORDER BY r.kind, r.job_id, r.counter DESC",
            prefixed.join(", ")
        );
        let mut newest: HashMap<(String, String), Vec<Run>> = HashMap::new();
        for r in sqlx::query(&sql).bind(window).fetch_all(&self.pool).await.map_err(self.err(what))? {
            let run = decode(&r).map_err(self.err(what))?;
            newest.entry((run.kind.clone(), run.job_id.clone())).or_default().push(run);
        }
        for (key, start) in &mut out {
            let rows = newest.remove(key).unwrap_or_default();
            let reaches_first = i64::try_from(start.last_counter).unwrap_or(i64::MAX) <= window;
            start.summary = summary_of(rows, recent, reaches_first);
        }
        Ok(out)
    }

    /// One job's [`JobStart`] (a job a reload added, or one absent from
    /// [`History::start_state`]).
    pub async fn job_start(&self, kind: JobKind, id: &JobId, recent: usize) -> Result<JobStart, HistoryError> {
        Ok(JobStart {
            with_logs: self.with_logs(kind, id).await?,
            summary: Some(self.summary(kind, id, u32::try_from(recent).unwrap_or(u32::MAX)).await?),
            last_counter: self.last_counter(kind, id).await?,
            last_slot: self.last_slot(kind, id).await?,
        })
    }
}

/// The summary from a job's newest rows (newest first), when they surely
/// hold it: `recent` ended runs, or every row the job has.
fn summary_of(rows: Vec<Run>, recent: usize, every_row: bool) -> Option<Summary> {
    let ended: Vec<(String, Option<i64>)> = rows
        .iter()
        .filter(|r| r.status != JobStatus::Running.as_str())
        .take(recent)
        .map(|r| (r.status.clone(), r.duration_ms))
        .collect();
    if ended.len() < recent && !every_row {
        return None;
    }
    Some(Summary { last: rows.into_iter().next(), recent: ended })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(counter: u64, status: &str) -> Run {
        let mut r = Run::new(JobKind::Job, &JobId::from_name("j"), counter, status);
        r.duration_ms = Some(counter as i64);
        r
    }

    #[test]
    fn a_window_short_of_ended_runs_asks_for_the_full_summary() {
        let rows = vec![row(9, "running"), row(8, "success"), row(7, "failed")];
        assert!(summary_of(rows.clone(), 3, false).is_none(), "only two ended runs, older ones may exist");
        let s = summary_of(rows, 3, true).expect("every row is in the window");
        assert_eq!(s.last.map(|r| r.counter), Some(9));
        assert_eq!(s.recent, [("success".to_string(), Some(8)), ("failed".to_string(), Some(7))]);
    }

    #[test]
    fn the_newest_ended_runs_make_the_summary() {
        let rows = vec![row(5, "success"), row(4, "missed"), row(3, "failed"), row(2, "success")];
        let s = summary_of(rows, 2, false).unwrap();
        assert_eq!(s.recent, [("success".to_string(), Some(5)), ("missed".to_string(), Some(4))]);
    }
}
