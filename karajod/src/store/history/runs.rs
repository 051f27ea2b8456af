//! Run rows: allocating a counter and writing the row of a run that
//! starts, completing it, importing finished ones, and the reads of the
//! runs API, the Job JSON and start-up reconciliation.
//!
//! Every statement is written once in the SQL both dialects accept
//! (`$N` parameters, `INSERT … ON CONFLICT`, `RETURNING`); filters are
//! fixed fragments, never text from a request.

use chrono::{DateTime, Utc};
use proto::{JobId, JobKind, JobStatus, Run};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Backend, History, HistoryError, from_ms, to_ms};

/// The columns of a [`Run`], in the order [`decode`] reads them.
/// A macro, so the statements below embed the same list.
macro_rules! run_columns {
    () => {
        "kind, job_id, counter, status, trigger, slot, queued_at, started_at, ended_at, \
         duration_ms, attempts, exit_code, node, fence, actor, log"
    };
}
pub(super) const COLUMNS: &str = run_columns!();

/// Takes the next counter: one past the last the database handed out, and
/// past `floor` (the highest counter the caller saw on disk). A macro, so
/// the PostgreSQL start of a run can embed the same text.
macro_rules! next_counter_sql {
    () => {
        "INSERT INTO jobs (kind, job_id, last_counter) VALUES ($1, $2, $3) \
         ON CONFLICT (kind, job_id) DO UPDATE SET last_counter = CASE \
         WHEN jobs.last_counter + 1 > excluded.last_counter THEN jobs.last_counter + 1 \
         ELSE excluded.last_counter END RETURNING last_counter"
    };
}
pub(super) const NEXT_COUNTER: &str = next_counter_sql!();

/// Raises the allocator to at least `$3` (an imported counter).
const RAISE_COUNTER: &str = "INSERT INTO jobs (kind, job_id, last_counter) VALUES ($1, $2, $3) \
     ON CONFLICT (kind, job_id) DO UPDATE SET last_counter = CASE \
     WHEN jobs.last_counter > excluded.last_counter THEN jobs.last_counter \
     ELSE excluded.last_counter END";

/// A whole row; the conflict clause says what an existing row takes.
macro_rules! insert_run_sql {
    () => {
        concat!(
            "INSERT INTO runs (",
            run_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
             ON CONFLICT (kind, job_id, counter) DO UPDATE SET "
        )
    };
}
pub(super) const INSERT_RUN: &str = concat!(insert_run_sql!(), "log = excluded.log");

/// A run's outcome over whatever its row says (the row may be missing).
const PUT_RUN: &str = concat!(
    insert_run_sql!(),
    "status = excluded.status, ended_at = excluded.ended_at, duration_ms = excluded.duration_ms, \
     attempts = excluded.attempts, exit_code = excluded.exit_code, log = excluded.log"
);

/// A run's row with its new counter (`$3` is the floor + 1): one past
/// `jobs.last_counter` and at least `$3`; the trigger of migration 0002
/// raises the allocator in the same statement.
const BEGIN_RUN_SQLITE: &str = concat!(
    "INSERT INTO runs (",
    run_columns!(),
    ") VALUES ($1, $2, max($3, COALESCE((SELECT last_counter + 1 FROM jobs WHERE kind = $1 AND job_id = $2), 0)), \
     $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING counter"
);

/// The same on PostgreSQL: [`NEXT_COUNTER`] in a data-modifying `WITH`,
/// its counter for the row. Concurrent starts of one job (two nodes) queue
/// on the job's `jobs` row, so each takes its own counter.
const BEGIN_RUN_POSTGRES: &str = concat!(
    "WITH c AS (",
    next_counter_sql!(),
    ") INSERT INTO runs (",
    run_columns!(),
    ") SELECT $1, $2, c.last_counter, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16 FROM c RETURNING counter"
);

/// A run about to start: what is known before its log exists.
#[derive(Debug, Clone)]
pub struct RunStart<'a> {
    pub kind: JobKind,
    pub job_id: &'a JobId,
    /// The highest counter the caller knows of; the new one is above it.
    pub floor: u64,
    pub trigger: &'a str,
    pub slot: Option<DateTime<Utc>>,
    pub queued_at: DateTime<Utc>,
    pub started_at: DateTime<Utc>,
    pub node: Option<&'a str>,
    pub actor: Option<&'a str>,
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct RunEnd<'a> {
    pub kind: JobKind,
    pub job_id: &'a JobId,
    pub counter: u64,
    pub status: JobStatus,
    pub ended_at: DateTime<Utc>,
    pub duration_ms: i64,
    pub attempts: u32,
    pub exit_code: Option<i64>,
}

/// A page of the runs API: newest first, below `before`, of one status.
#[derive(Debug, Clone)]
pub struct RunQuery<'a> {
    pub kind: JobKind,
    pub job_id: &'a JobId,
    pub limit: u32,
    pub before: Option<u64>,
    pub status: Option<&'a str>,
}

/// What the Job JSON shows of the recent past.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// The newest row (its `started_at` is the job's `last_run`).
    pub last: Option<Run>,
    /// Statuses and durations of the last ended runs, newest first.
    pub recent: Vec<(String, Option<i64>)>,
}

impl History {
    /// Allocates the run's counter and writes its `running` row, in one
    /// statement: one round trip, atomic on its own.
    pub async fn begin_run(&self, r: &RunStart<'_>) -> Result<u64, HistoryError> {
        let mut row = Run::new(r.kind, r.job_id, r.floor + 1, JobStatus::Running.as_str());
        row.trigger = Some(r.trigger.to_string());
        row.slot = r.slot;
        row.queued_at = Some(r.queued_at);
        row.started_at = Some(r.started_at);
        row.node = r.node.map(str::to_string);
        row.actor = r.actor.map(str::to_string);
        let sql = match self.backend {
            Backend::Sqlite => BEGIN_RUN_SQLITE,
            Backend::Postgres => BEGIN_RUN_POSTGRES,
        };
        // All the rows, not the first: SQLite hands out RETURNING's row
        // before it commits, and a failed commit (a full disk) surfaces
        // only on the statement's last step.
        let rows = bind_run(sqlx::query(sql), &row).fetch_all(&self.pool).await.map_err(self.err("write a run"))?;
        let counter: i64 =
            rows.first().ok_or(sqlx::Error::RowNotFound).and_then(|r| r.try_get(0)).map_err(self.err("write a run"))?;
        Ok(counter as u64)
    }

    /// Completes the row of a run that [`History::begin_run`] wrote.
    pub async fn end_run(&self, e: &RunEnd<'_>) -> Result<(), HistoryError> {
        let done = sqlx::query(
            "UPDATE runs SET status = $4, ended_at = $5, duration_ms = $6, attempts = $7, exit_code = $8 \
             WHERE kind = $1 AND job_id = $2 AND counter = $3",
        )
        .bind(e.kind.as_str())
        .bind(e.job_id.as_str())
        .bind(to_i64(e.counter))
        .bind(e.status.as_str())
        .bind(to_ms(e.ended_at))
        .bind(e.duration_ms)
        .bind(i64::from(e.attempts))
        .bind(e.exit_code)
        .execute(&self.pool)
        .await
        .map_err(self.err("end a run"))?;
        // No row to end: its start's write was lost; the caller writes it whole.
        if done.rows_affected() == 0 {
            return Err(self.err("end a run")(sqlx::Error::RowNotFound));
        }
        Ok(())
    }

    /// Writes finished rows (imported logs, missed slots) and raises the
    /// allocator past them. A counter that has a row already keeps it and
    /// takes only the new `log` flag: a log found on disk is there, also
    /// when retention marked it gone just before a crash stopped its deletion.
    pub async fn insert(&self, rows: &[Run]) -> Result<(), HistoryError> {
        self.write_rows(INSERT_RUN, rows, ["begin an import", "import a run", "commit an import"]).await
    }

    /// Writes a run's whole row, over the one [`History::begin_run`] wrote
    /// if there is one: a run whose start or end write failed retries with this.
    pub async fn put(&self, row: &Run) -> Result<(), HistoryError> {
        let what = ["begin a run's row", "write a run's row", "commit a run's row"];
        self.write_rows(PUT_RUN, std::slice::from_ref(row), what).await
    }

    /// Writes `rows` with `sql` (a whole-row insert) in one transaction and
    /// raises the allocator past each; `what` names the begin, write and
    /// commit steps for an error.
    async fn write_rows(&self, sql: &'static str, rows: &[Run], what: [&'static str; 3]) -> Result<(), HistoryError> {
        let [begin, write, commit] = what;
        let mut tx = self.pool.begin().await.map_err(self.err(begin))?;
        for row in rows {
            bind_run(sqlx::query(sql), row).execute(&mut *tx).await.map_err(self.err(write))?;
            if self.backend == Backend::Sqlite {
                continue; // its trigger raised the allocator
            }
            sqlx::query(RAISE_COUNTER)
                .bind(&row.kind)
                .bind(&row.job_id)
                .bind(to_i64(row.counter))
                .execute(&mut *tx)
                .await
                .map_err(self.err("raise a counter"))?;
        }
        tx.commit().await.map_err(self.err(commit))
    }

    /// Overwrites a row's outcome (a crash left it `running`; its log says how it ended).
    pub async fn settle(&self, row: &Run) -> Result<(), HistoryError> {
        sqlx::query(
            "UPDATE runs SET status = $4, ended_at = $5, duration_ms = $6, log = $7 \
             WHERE kind = $1 AND job_id = $2 AND counter = $3",
        )
        .bind(&row.kind)
        .bind(&row.job_id)
        .bind(to_i64(row.counter))
        .bind(&row.status)
        .bind(row.ended_at.map(to_ms))
        .bind(row.duration_ms)
        .bind(i64::from(row.log))
        .execute(&self.pool)
        .await
        .map_err(self.err("settle a run"))?;
        Ok(())
    }

    /// The runs API: newest first.
    pub async fn runs(&self, q: &RunQuery<'_>) -> Result<Vec<Run>, HistoryError> {
        let status = if q.status.is_some() { " AND status = $5" } else { "" };
        let sql = format!(
            "SELECT {COLUMNS} FROM runs WHERE kind = $1 AND job_id = $2 AND counter < $3{status} \
             ORDER BY counter DESC LIMIT $4"
        );
        let mut query = sqlx::query(&sql)
            .bind(q.kind.as_str())
            .bind(q.job_id.as_str())
            .bind(q.before.map_or(i64::MAX, to_i64))
            .bind(i64::from(q.limit));
        if let Some(s) = q.status {
            query = query.bind(s);
        }
        let rows = query.fetch_all(&self.pool).await.map_err(self.err("read runs"))?;
        rows.iter().map(decode).collect::<Result<_, _>>().map_err(self.err("read runs"))
    }

    /// The newest row and the last `n` ended runs of a job.
    pub async fn summary(&self, kind: JobKind, id: &JobId, n: u32) -> Result<Summary, HistoryError> {
        let last = self.runs(&RunQuery { kind, job_id: id, limit: 1, before: None, status: None }).await?;
        let rows = sqlx::query(
            "SELECT status, duration_ms FROM runs WHERE kind = $1 AND job_id = $2 AND status <> 'running' \
             ORDER BY counter DESC LIMIT $3",
        )
        .bind(kind.as_str())
        .bind(id.as_str())
        .bind(i64::from(n))
        .fetch_all(&self.pool)
        .await
        .map_err(self.err("read recent runs"))?;
        let recent = rows
            .iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<Option<i64>, _>(1)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(self.err("read recent runs"))?;
        Ok(Summary { last: last.into_iter().next(), recent })
    }

    /// The rows of a job whose log should exist, or that a crash left `running`, oldest first.
    pub async fn with_logs(&self, kind: JobKind, id: &JobId) -> Result<Vec<Run>, HistoryError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM runs WHERE kind = $1 AND job_id = $2 AND (log = 1 OR status = 'running') \
             ORDER BY counter"
        );
        let rows = sqlx::query(&sql)
            .bind(kind.as_str())
            .bind(id.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(self.err("read runs"))?;
        rows.iter().map(decode).collect::<Result<_, _>>().map_err(self.err("read runs"))
    }

    /// Retention deleted these runs' logs; their rows stay (`log: false`).
    pub async fn log_gone(&self, kind: JobKind, id: &JobId, counters: &[u64]) -> Result<(), HistoryError> {
        let mut tx = self.pool.begin().await.map_err(self.err("begin a log update"))?;
        for &c in counters {
            sqlx::query("UPDATE runs SET log = 0 WHERE kind = $1 AND job_id = $2 AND counter = $3")
                .bind(kind.as_str())
                .bind(id.as_str())
                .bind(to_i64(c))
                .execute(&mut *tx)
                .await
                .map_err(self.err("mark a log deleted"))?;
        }
        tx.commit().await.map_err(self.err("commit a log update"))
    }

    /// Deletes a job's rows beyond the newest `keep` (`history_retention`);
    /// the counter allocator is untouched, so counters are never reused.
    pub async fn trim(&self, kind: JobKind, id: &JobId, keep: u32) -> Result<u64, HistoryError> {
        let done = sqlx::query(
            "DELETE FROM runs WHERE kind = $1 AND job_id = $2 AND counter <= \
             (SELECT counter FROM runs WHERE kind = $1 AND job_id = $2 ORDER BY counter DESC LIMIT 1 OFFSET $3)",
        )
        .bind(kind.as_str())
        .bind(id.as_str())
        .bind(i64::from(keep))
        .execute(&self.pool)
        .await
        .map_err(self.err("trim runs"))?;
        Ok(done.rows_affected())
    }

    /// The last counter the database handed out for a job (0 = none).
    pub async fn last_counter(&self, kind: JobKind, id: &JobId) -> Result<u64, HistoryError> {
        let c: Option<i64> = sqlx::query_scalar("SELECT last_counter FROM jobs WHERE kind = $1 AND job_id = $2")
            .bind(kind.as_str())
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(self.err("read a counter"))?;
        Ok(c.unwrap_or(0) as u64)
    }
}

pub(super) fn bind_run<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    r: &'q Run,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    q.bind(&r.kind)
        .bind(&r.job_id)
        .bind(to_i64(r.counter))
        .bind(&r.status)
        .bind(&r.trigger)
        .bind(r.slot.map(to_ms))
        .bind(r.queued_at.map(to_ms))
        .bind(r.started_at.map(to_ms))
        .bind(r.ended_at.map(to_ms))
        .bind(r.duration_ms)
        .bind(i64::from(r.attempts))
        .bind(r.exit_code)
        .bind(&r.node)
        .bind(r.fence)
        .bind(&r.actor)
        .bind(i64::from(r.log))
}

pub(super) fn decode(r: &AnyRow) -> Result<Run, sqlx::Error> {
    let time =
        |i: usize| -> Result<Option<DateTime<Utc>>, sqlx::Error> { Ok(r.try_get::<Option<i64>, _>(i)?.map(from_ms)) };
    Ok(Run {
        kind: r.try_get(0)?,
        job_id: r.try_get(1)?,
        counter: r.try_get::<i64, _>(2)? as u64,
        status: r.try_get(3)?,
        trigger: r.try_get(4)?,
        slot: time(5)?,
        queued_at: time(6)?,
        started_at: time(7)?,
        ended_at: time(8)?,
        duration_ms: r.try_get(9)?,
        attempts: u32::try_from(r.try_get::<i64, _>(10)?).unwrap_or(u32::MAX),
        exit_code: r.try_get(11)?,
        node: r.try_get(12)?,
        fence: r.try_get(13)?,
        actor: r.try_get(14)?,
        log: r.try_get::<i64, _>(15)? != 0,
    })
}

/// Counters are u64 in Rust and BIGINT in SQL; no job reaches 2^63 runs.
pub(super) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
