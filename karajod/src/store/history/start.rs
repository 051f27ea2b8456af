//! What start-up reconciliation reads, for every job in three queries
//! instead of five per job: with 10,000 jobs the per-job form was 50,000
//! round trips to the database's worker thread (SPEC 23's start-up
//! figure), each a pair of thread wake-ups. The main one answers one
//! text for every job (see [`Reader`]), not a row per job.
//!
//! Invariant: [`History::start_state`] gives each job the same
//! [`JobStart`] that [`History::job_start`] reads for it alone, except
//! that `summary` is `None` where the bounded window of recent rows may
//! not hold enough of them (the caller then asks [`History::summary`]),
//! and that a row with a log that is not `running` holds only what
//! start-up uses of it ([`packed_row`]): `slot`, `queued_at`, `exit_code`,
//! `node`, `fence` and `actor` are `None`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
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

/// `x` as `LENGTH:x`, its length in bytes: no byte of `x` is read as a
/// separator, whatever it holds. NULL stays NULL.
fn sized(x: &str) -> String {
    format!("CAST(octet_length({x}) AS TEXT) || ':' || {x}")
}

/// What start-up reads of a row with a log that is not `running`: the
/// fields its `logs` entry and the reconcile use, as one text (see
/// [`Reader::packed`]); a trigger is `-` when there is none. The same
/// text in SQLite and PostgreSQL.
fn packed_row() -> String {
    let time = |c: &str| format!("COALESCE(CAST(r.{c} AS TEXT), '')");
    format!(
        "CAST(r.counter AS TEXT) || ':' || {} || {} || ':' || {} || ':' || {} || ':' \
         || CAST(r.attempts AS TEXT) || ':' || COALESCE({}, '-')",
        sized("r.status"),
        time("started_at"),
        time("ended_at"),
        time("duration_ms"),
        sized("r.\"trigger\"")
    )
}

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
        // One text for every job, each part through the key of its runs:
        // the counter and slot, its other rows with a log ([`packed_row`])
        // and the status and duration of the ended runs among the newest
        // counters. sqlx copies and converts each row and value it reads,
        // and hands each row from the database's thread to this one: with
        // 10,000 jobs that work on 10,000 rows took the cores from the scan
        // of the log folders beside it. `MATERIALIZED`: each job's
        // subqueries run once, not again for each `octet_length` of their text.
        // `string_agg(… ORDER BY …)`: SQLite 3.44 and later, and PostgreSQL.
        let of_job = "FROM runs r WHERE r.kind = j.kind AND r.job_id = j.job_id";
        let ended_row = format!("{} || COALESCE(CAST(r.duration_ms AS TEXT), '') || ';'", sized("r.status"));
        let sql = format!(
            "WITH s AS MATERIALIZED (SELECT j.kind, j.job_id, j.last_counter, j.last_slot, \
             COALESCE((SELECT string_agg({packed}, '' ORDER BY r.counter) {of_job} \
               AND r.log = 1 AND r.status <> 'running'), '') AS packed, \
             COALESCE((SELECT string_agg({ended_row}, '' ORDER BY r.counter DESC) {of_job} \
               AND r.counter > j.last_counter - $1 AND r.status <> 'running'), '') AS ended \
             FROM jobs j WHERE j.kind IN ('job', 'job_http')) \
             SELECT string_agg({kind} || {job_id} || CAST(last_counter AS TEXT) || ':' \
               || COALESCE(CAST(last_slot AS TEXT), '') || ':' || {packed_all} || {ended}, '') FROM s",
            packed = packed_row(),
            kind = sized("kind"),
            job_id = sized("job_id"),
            packed_all = sized("packed"),
            ended = sized("ended"),
        );
        let window = i64::try_from(recent).unwrap_or(i64::MAX / 2) + SLACK;
        let row = sqlx::query(&sql).bind(window).fetch_one(&self.pool).await.map_err(self.err(what))?;
        let text: Option<String> = row.try_get(0).map_err(self.err(what))?;
        drop(row);
        let mut out: HashMap<JobKey, JobStart> = HashMap::new();
        let mut ended: HashMap<JobKey, Vec<Ended>> = HashMap::new();
        let mut reader = Reader { text: text.as_deref().unwrap_or_default(), at: 0 };
        while !reader.done() {
            let job = reader.job().ok_or_else(|| {
                let e = format!("the start-up text does not read at byte {}", reader.at);
                self.err(what)(sqlx::Error::Decode(e.into()))
            })?;
            let mut start = JobStart {
                last_counter: job.last_counter,
                last_slot: job.last_slot,
                with_logs: running.remove(&job.key).unwrap_or_default(),
                summary: None,
            };
            start.with_logs.extend(job.with_logs);
            start.with_logs.sort_by_key(|r| r.counter);
            ended.insert(job.key.clone(), job.ended);
            out.insert(job.key, start);
        }
        drop(text);
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

/// One job of the start-up text.
struct JobText {
    key: JobKey,
    last_counter: u64,
    last_slot: Option<DateTime<Utc>>,
    /// Its rows with a log that are not `running`, oldest first.
    with_logs: Vec<Run>,
    ended: Vec<Ended>,
}

/// Reads the start-up text: per job `kind`, `job_id` (each sized: see
/// [`sized`]), `last_counter:`, `last_slot:` (empty when none), its rows
/// with a log (sized, [`packed_row`] each) and its ended runs (sized,
/// `status` sized then `duration;` each). `None`: the text is not that.
struct Reader<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Reader<'a> {
    /// True when the whole text is read.
    fn done(&self) -> bool {
        self.at >= self.text.len()
    }

    /// The text up to the next `end`; `end` is passed.
    fn until(&mut self, end: char) -> Option<&'a str> {
        let rest = &self.text[self.at..];
        let n = rest.find(end)?;
        self.at += n + end.len_utf8();
        Some(&rest[..n])
    }

    /// A sized text: its length in bytes, `:`, then the text.
    fn sized(&mut self) -> Option<&'a str> {
        let n: usize = self.until(':')?.parse().ok()?;
        let text = self.text.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(text)
    }

    /// A number up to `end`; an empty field is `None`.
    fn number<T: std::str::FromStr>(&mut self, end: char) -> Option<Option<T>> {
        match self.until(end)? {
            "" => Some(None),
            n => n.parse().ok().map(Some),
        }
    }

    fn time(&mut self) -> Option<Option<DateTime<Utc>>> {
        Some(self.number(':')?.map(from_ms))
    }

    fn job(&mut self) -> Option<JobText> {
        let key: JobKey = (self.sized()?.to_string(), self.sized()?.to_string());
        let last_counter = self.number::<i64>(':')??.max(0) as u64;
        let last_slot = self.time()?;
        let with_logs = Reader { text: self.sized()?, at: 0 }.packed(&key)?;
        let mut ended = Reader { text: self.sized()?, at: 0 };
        let mut runs = Vec::new();
        while !ended.done() {
            runs.push((ended.sized()?.to_string(), ended.number(';')?));
        }
        Some(JobText { key, last_counter, last_slot, with_logs, ended: runs })
    }

    /// Rows of [`packed_row`], one after the other.
    fn packed(&mut self, (kind, job_id): &JobKey) -> Option<Vec<Run>> {
        let mut rows = Vec::new();
        while !self.done() {
            let counter = self.number(':')??;
            let status = self.sized()?.to_string();
            let started_at = self.time()?;
            let ended_at = self.time()?;
            let duration_ms = self.number(':')?;
            let attempts = self.number(':')??;
            let trigger = match self.text[self.at..].strip_prefix('-') {
                Some(_) => {
                    self.at += 1;
                    None
                }
                None => Some(self.sized()?.to_string()),
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
        Some(rows)
    }
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

    fn read(text: &str) -> Option<Vec<JobText>> {
        let mut reader = Reader { text, at: 0 };
        let mut jobs = Vec::new();
        while !reader.done() {
            jobs.push(reader.job()?);
        }
        Some(jobs)
    }

    #[test]
    fn the_start_up_text_reads_to_each_jobs_fields() {
        // Job j: two rows with logs, two ended runs; job_http w: nothing.
        // A trigger holds every separator and a character of three bytes.
        let rows = "3:7:success60000:61500:1500:2:5:timer4:6:failed:::1:10:a:b;c-\u{2192}\u{1e}";
        let ended = "7:success1500;6:failed;";
        let text = format!("3:job1:j12:5000:{}:{rows}{}:{ended}8:job_http1:w0::0:0:", rows.len(), ended.len());
        let jobs = read(&text).unwrap();
        assert_eq!(jobs.len(), 2);
        let (j, w) = (&jobs[0], &jobs[1]);
        assert_eq!((j.key.0.as_str(), j.key.1.as_str(), j.last_counter), ("job", "j", 12));
        assert_eq!(j.last_slot, Some(from_ms(5000)));
        let got: Vec<_> =
            j.with_logs.iter().map(|r| (r.counter, r.status.as_str(), r.trigger.as_deref(), r.attempts)).collect();
        assert_eq!(got, [(3, "success", Some("timer"), 2), (4, "failed", Some("a:b;c-\u{2192}\u{1e}"), 1)]);
        let r = &j.with_logs[0];
        assert_eq!(
            (r.started_at, r.ended_at, r.duration_ms),
            (Some(from_ms(60_000)), Some(from_ms(61_500)), Some(1500))
        );
        let r = &j.with_logs[1];
        assert_eq!((r.started_at, r.ended_at, r.duration_ms), (None, None, None));
        assert_eq!(j.ended, vec![("success".into(), Some(1500)), ("failed".into(), None)]);
        assert_eq!((w.key.0.as_str(), w.last_counter, w.last_slot), ("job_http", 0, None));
        assert!(w.with_logs.is_empty() && w.ended.is_empty());
        let none = "3:job1:j1::17:1:7:success:::1:-0:";
        assert_eq!(read(none).unwrap()[0].with_logs[0].trigger, None, "no trigger");
    }

    #[test]
    fn a_start_up_text_that_is_not_whole_is_refused() {
        let good = "3:job1:j2::20:2:7:success1:2:3:1:-0:";
        assert!(read(good).is_some());
        for bad in [
            &good[..good.len() - 1],
            "3:job1:j2::21:2:7:success1:2:3:1:-0:",
            "3:job1:jx::20:2:7:success1:2:3:1:-0:",
            "3:job1:j2::20:x:7:success1:2:3:1:-0:",
            "3:job1:j2::20:2:7:success1:2:3::-0:",
            "9:job",
            "3:job1:j2::0:9:",
        ] {
            assert!(read(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn the_newest_ended_runs_make_the_summary() {
        let newest = Newest { last: Some(row(5, "success")), ended: ended(&["success", "missed", "failed"]) };
        let s = newest.summary(2, false, 5).unwrap();
        assert_eq!(s.recent, ended(&["success", "missed"]));
    }
}
