//! What start-up reconciliation reads, for every job in three queries
//! instead of five per job: with 10,000 jobs the per-job form was 50,000
//! round trips to the database's worker thread (SPEC 23's start-up
//! figure), each a pair of thread wake-ups.
//!
//! Invariant: [`History::start_state`] gives each job the same
//! [`JobStart`] that [`History::job_start`] reads for it alone, except
//! that `summary` is `None` where the bounded window of recent rows may
//! not hold enough of them (the caller then asks [`History::summary`]),
//! and that a row with a log that is not `running` holds only what
//! start-up uses of it ([`PACKED`]): `slot`, `queued_at`, `exit_code`,
//! `node`, `fence` and `actor` are `None`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use proto::{JobId, JobKind, Run};
use sqlx::Row;

use super::runs::{COLUMNS, Summary, decode};
use super::{History, HistoryError, from_ms};

/// One job's rows as start-up needs them.
#[derive(Debug, Default)]
pub struct JobStart {
    /// The rows whose log should exist, or that a crash left `running`,
    /// oldest first (from [`History::start_state`]: see the module's invariant).
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

/// What start-up reads of a row with a log that is not `running`: the
/// fields its `logs` entry and the reconcile use, trigger last (it may
/// hold `:`), `=` before a trigger so that none and an empty one differ.
/// The same text in SQLite and PostgreSQL.
const PACKED: &str = "CAST(counter AS TEXT) || ':' || status || ':' || COALESCE(CAST(started_at AS TEXT), '') \
     || ':' || COALESCE(CAST(ended_at AS TEXT), '') || ':' || COALESCE(CAST(duration_ms AS TEXT), '') \
     || ':' || CAST(attempts AS TEXT) || ':' || COALESCE('=' || \"trigger\", '')";

/// Between the [`PACKED`] rows of one job (ASCII record separator).
const RECORD_SEP: &str = "\u{1e}";

/// (kind, job_id) as the database spells them.
type JobKey = (String, String);
/// An ended run's status and duration, as [`Summary::recent`] holds them.
type Ended = (String, Option<i64>);

/// Counters beyond `recent` the batched summary reads per job: counters
/// are dense (every allocated counter gets a row), so the newest
/// `recent + SLACK` counters hold the recent ended runs unless rows were
/// deleted or are `running`; then the job is read alone.
const SLACK: i64 = 5;

impl History {
    /// Every job's (and HTTP job's) [`JobStart`], by (kind, job_id), with
    /// summaries of `recent` ended runs. Jobs with no row are absent
    /// (see [`JobStart::unseen`]).
    pub async fn start_state(&self, recent: usize) -> Result<HashMap<(String, String), JobStart>, HistoryError> {
        let what = "read the history at start-up";
        // Rows left `running` (a crash) are read whole; the partial index
        // `runs_with_log` answers this.
        let sql = format!("SELECT {COLUMNS} FROM runs WHERE status = 'running' ORDER BY kind, job_id, counter");
        let mut running: HashMap<JobKey, Vec<Run>> = HashMap::new();
        for r in sqlx::query(&sql).fetch_all(&self.pool).await.map_err(self.err(what))? {
            let run = decode(&r).map_err(self.err(what))?;
            running.entry((run.kind.clone(), run.job_id.clone())).or_default().push(run);
        }
        // One row per job, each part through the key of its runs: the
        // counter and slot; its other rows with a log as one text
        // ([`PACKED`]) and their count; the status and duration of the
        // ended runs among the newest counters, as one text. Each row and
        // value sqlx reads is copied and converted: 10,000 jobs x 5 logs
        // read whole were 50,000 rows of 16 values, the most of this start;
        // in three queries 30,000 rows; here 10,000.
        // `string_agg(… ORDER BY …)`: SQLite 3.44 and later, and PostgreSQL.
        let of_job = "FROM runs r WHERE r.kind = j.kind AND r.job_id = j.job_id";
        let logged = "r.log = 1 AND r.status <> 'running'";
        let sql = format!(
            "SELECT j.kind, j.job_id, j.last_counter, j.last_slot, \
             (SELECT COUNT(*) {of_job} AND {logged}), \
             (SELECT string_agg({PACKED}, $1 ORDER BY r.counter) {of_job} AND {logged}), \
             (SELECT string_agg(r.status || ':' || COALESCE(CAST(r.duration_ms AS TEXT), ''), ',' \
              ORDER BY r.counter DESC) {of_job} AND r.counter > j.last_counter - $2 AND r.status <> 'running') \
             FROM jobs j WHERE j.kind IN ('job', 'job_http')"
        );
        let window = i64::try_from(recent).unwrap_or(i64::MAX / 2) + SLACK;
        let mut out: HashMap<JobKey, JobStart> = HashMap::new();
        let mut ended: HashMap<JobKey, Vec<Ended>> = HashMap::new();
        // Jobs whose packed text did not unpack, read whole once the stream ends.
        let mut whole: Vec<JobKey> = Vec::new();
        // Streamed: each row sqlx reads holds a copy of every column's
        // description, and all of them at once add to the start's peak.
        let mut jobs = sqlx::query(&sql).bind(RECORD_SEP).bind(window).fetch(&self.pool);
        while let Some(r) = jobs.try_next().await.map_err(self.err(what))? {
            let key: JobKey = (r.try_get(0).map_err(self.err(what))?, r.try_get(1).map_err(self.err(what))?);
            let mut start = JobStart {
                last_counter: r.try_get::<i64, _>(2).map_err(self.err(what))?.max(0) as u64,
                last_slot: r.try_get::<Option<i64>, _>(3).map_err(self.err(what))?.map(from_ms),
                with_logs: running.remove(&key).unwrap_or_default(),
                summary: None,
            };
            let count = r.try_get::<i64, _>(4).map_err(self.err(what))?;
            let packed = r.try_get::<Option<String>, _>(5).map_err(self.err(what))?.unwrap_or_default();
            match unpack(&key, count, &packed) {
                Some(rows) => {
                    start.with_logs.extend(rows);
                    start.with_logs.sort_by_key(|r| r.counter);
                }
                // A trigger that holds the separator: this job is read whole.
                None => whole.push(key.clone()),
            }
            if let Some(text) = r.try_get::<Option<String>, _>(6).map_err(self.err(what))? {
                ended.insert(key.clone(), parse_ended(&text));
            }
            out.insert(key, start);
        }
        drop(jobs);
        for key in whole {
            if let Some(start) = out.get_mut(&key) {
                start.with_logs = self.with_logs_of(&key.0, &key.1).await?;
            }
        }
        // Per job, through the primary key: the newest row when it has no
        // log (the rows above hold it otherwise); 10,000 jobs whose newest
        // runs have logs read no row here. CROSS JOIN: SQLite then walks the
        // jobs and, for each, a range of the runs' key; left to itself it
        // walked every run (1.5 s with 1,000,000 rows). PostgreSQL plans it
        // the same either way.
        let prefixed: Vec<String> = COLUMNS.split(", ").map(|c| format!("r.{}", c.trim())).collect();
        let from = "FROM jobs j CROSS JOIN runs r WHERE r.kind = j.kind AND r.job_id = j.job_id \
                    AND j.kind IN ('job', 'job_http')";
        let sql = format!(
            "SELECT {} {from} AND r.counter = j.last_counter AND r.log = 0 AND r.status <> 'running'",
            prefixed.join(", ")
        );
        let mut last: HashMap<JobKey, Run> = HashMap::new();
        for r in sqlx::query(&sql).fetch_all(&self.pool).await.map_err(self.err(what))? {
            let run = decode(&r).map_err(self.err(what))?;
            last.insert((run.kind.clone(), run.job_id.clone()), run);
        }
        for (key, start) in &mut out {
            let every_row = i64::try_from(start.last_counter).unwrap_or(i64::MAX) <= window;
            let last = last
                .remove(key)
                .or_else(|| start.with_logs.iter().rev().find(|r| r.counter == start.last_counter).cloned());
            let rows = Newest { last, ended: ended.remove(key).unwrap_or_default() };
            start.summary = rows.summary(recent, every_row, start.last_counter);
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

/// One job's rows from their [`PACKED`] text, oldest first; `None` when
/// the text does not hold exactly `count` of them (a trigger that holds
/// [`RECORD_SEP`]).
fn unpack((kind, job_id): &JobKey, count: i64, text: &str) -> Option<Vec<Run>> {
    if count == 0 {
        return text.is_empty().then(Vec::new);
    }
    let time = |f: &str| -> Option<Option<DateTime<Utc>>> {
        if f.is_empty() { Some(None) } else { f.parse().ok().map(|ms| Some(from_ms(ms))) }
    };
    let mut rows = Vec::with_capacity(usize::try_from(count).ok()?);
    for record in text.split(RECORD_SEP) {
        let mut f = record.splitn(7, ':');
        let counter = f.next()?.parse().ok()?;
        let status = f.next()?.to_string();
        let started_at = time(f.next()?)?;
        let ended_at = time(f.next()?)?;
        let duration_ms = match f.next()? {
            "" => None,
            ms => Some(ms.parse().ok()?),
        };
        let attempts = f.next()?.parse().ok()?;
        let trigger = match f.next()? {
            "" => None,
            t => Some(t.strip_prefix('=')?.to_string()),
        };
        rows.push(Run {
            kind: kind.clone(),
            job_id: job_id.clone(),
            counter,
            status,
            trigger,
            slot: None,
            queued_at: None,
            started_at,
            ended_at,
            duration_ms,
            attempts,
            exit_code: None,
            node: None,
            fence: None,
            actor: None,
            log: true,
        });
    }
    (i64::try_from(rows.len()).ok() == Some(count)).then_some(rows)
}

/// `status:duration,status:,…` (the batched summary's text) as the
/// (status, duration) pairs it holds; the duration is empty when unknown.
fn parse_ended(text: &str) -> Vec<Ended> {
    text.split(',')
        .filter_map(|one| one.split_once(':'))
        .map(|(status, ms)| (status.to_string(), ms.parse().ok()))
        .collect()
}

/// What the batched reads found of one job's newest rows.
struct Newest {
    /// The row at the job's last counter.
    last: Option<Run>,
    /// Status and duration of the ended runs in the window, newest first.
    ended: Vec<(String, Option<i64>)>,
}

impl Newest {
    /// The summary, when these rows surely hold it: the newest row is at
    /// the last counter, and there are `recent` ended runs or the window
    /// reached the job's first counter (`every_row`).
    fn summary(mut self, recent: usize, every_row: bool, last_counter: u64) -> Option<Summary> {
        if self.last.is_none() && last_counter > 0 {
            return None;
        }
        if self.ended.len() < recent && !every_row {
            return None;
        }
        self.ended.truncate(recent);
        Some(Summary { last: self.last, recent: self.ended })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(counter: u64, status: &str) -> Run {
        let mut r = Run::new(JobKind::Job, &JobId::from_name("j"), counter, status);
        r.duration_ms = Some(counter as i64);
        r
    }

    fn ended(statuses: &[&str]) -> Vec<(String, Option<i64>)> {
        statuses.iter().enumerate().map(|(i, s)| (s.to_string(), Some(i as i64))).collect()
    }

    #[test]
    fn a_window_short_of_ended_runs_asks_for_the_full_summary() {
        let newest = || Newest { last: Some(row(9, "running")), ended: ended(&["success", "failed"]) };
        assert!(newest().summary(3, false, 9).is_none(), "only two ended runs, older ones may exist");
        let s = newest().summary(3, true, 9).expect("every row is in the window");
        assert_eq!(s.last.map(|r| r.counter), Some(9));
        assert_eq!(s.recent, ended(&["success", "failed"]));
    }

    #[test]
    fn no_row_at_the_last_counter_asks_for_the_full_summary() {
        let newest = Newest { last: None, ended: ended(&["success", "success"]) };
        assert!(newest.summary(2, false, 12).is_none(), "the newest row is elsewhere");
        let never = Newest { last: None, ended: vec![] };
        assert_eq!(never.summary(20, true, 0), Some(Summary::default()), "a job that never ran");
    }

    #[test]
    fn the_batched_text_gives_statuses_and_durations_newest_first() {
        assert_eq!(
            parse_ended("success:5,failed:,missed:0"),
            vec![("success".into(), Some(5)), ("failed".into(), None), ("missed".into(), Some(0))]
        );
        assert_eq!(parse_ended(""), vec![]);
    }

    #[test]
    fn packed_rows_unpack_to_their_fields_and_a_stray_separator_is_refused() {
        let key: JobKey = ("job".into(), "j".into());
        let text = format!("3:success:60000:61500:1500:2:=timer{RECORD_SEP}4:failed::::1:={RECORD_SEP}5:success::::1:");
        let rows = unpack(&key, 3, &text).unwrap();
        let got: Vec<_> =
            rows.iter().map(|r| (r.counter, r.status.as_str(), r.trigger.as_deref(), r.attempts)).collect();
        assert_eq!(got, [(3, "success", Some("timer"), 2), (4, "failed", Some(""), 1), (5, "success", None, 1)]);
        assert_eq!((rows[0].started_at, rows[0].ended_at), (Some(from_ms(60_000)), Some(from_ms(61_500))));
        assert_eq!((rows[0].duration_ms, rows[1].duration_ms, rows[1].started_at), (Some(1500), None, None));
        assert_eq!(
            unpack(&key, 1, "7:success::::1:=webhook:github:push").unwrap()[0].trigger.as_deref(),
            Some("webhook:github:push")
        );
        assert_eq!(unpack(&key, 0, ""), Some(vec![]), "a job with no row with a log");
        let stray = format!("7:success::::1:=a{RECORD_SEP}b");
        assert_eq!(unpack(&key, 1, &stray), None, "a separator inside a trigger: read the job whole");
        assert_eq!(unpack(&key, 2, &text), None, "a count that disagrees");
    }

    #[test]
    fn the_newest_ended_runs_make_the_summary() {
        let newest = Newest { last: Some(row(5, "success")), ended: ended(&["success", "missed", "failed"]) };
        let s = newest.summary(2, false, 5).unwrap();
        assert_eq!(s.recent, ended(&["success", "missed"]));
    }
}
