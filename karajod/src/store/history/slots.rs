//! Timer slots (SPEC 17): the last slot each job's timer handled, kept in
//! `jobs.last_slot` so catch-up after a restart is exact, and the rows of
//! slots that were missed and not run (status `missed`, no log).

use chrono::{DateTime, Utc};
use proto::{JobId, JobKind, Run};

use super::runs::{INSERT_RUN, NEXT_COUNTER, bind_run, to_i64};
use super::{History, HistoryError, from_ms, to_ms};

/// The status of a slot's row that was not run.
pub const MISSED: &str = "missed";

/// Raises `last_slot` to `$3`, never lowers it; makes the job's row if needed.
const RAISE_SLOT: &str = "INSERT INTO jobs (kind, job_id, last_counter, last_slot) VALUES ($1, $2, 0, $3) \
     ON CONFLICT (kind, job_id) DO UPDATE SET last_slot = CASE \
     WHEN jobs.last_slot IS NULL OR jobs.last_slot < excluded.last_slot THEN excluded.last_slot \
     ELSE jobs.last_slot END";

impl History {
    /// Records that the job's timer handled `slot` (ran, dropped or refused it).
    pub async fn handled_slot(&self, kind: JobKind, id: &JobId, slot: DateTime<Utc>) -> Result<(), HistoryError> {
        sqlx::query(RAISE_SLOT)
            .bind(kind.as_str())
            .bind(id.as_str())
            .bind(to_ms(slot))
            .execute(&self.pool)
            .await
            .map_err(self.err("record a timer slot"))?;
        Ok(())
    }

    /// The newest slot the job's timer handled; `None` when it never fired.
    pub async fn last_slot(&self, kind: JobKind, id: &JobId) -> Result<Option<DateTime<Utc>>, HistoryError> {
        let ms: Option<Option<i64>> = sqlx::query_scalar("SELECT last_slot FROM jobs WHERE kind = $1 AND job_id = $2")
            .bind(kind.as_str())
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(self.err("read a timer slot"))?;
        Ok(ms.flatten().map(from_ms))
    }

    /// Writes one `missed` row per slot (oldest first), each with its own
    /// counter above `floor`, and raises `last_slot` past them; one
    /// transaction. Returns the last counter taken (`floor` if none).
    pub async fn missed(
        &self,
        kind: JobKind,
        id: &JobId,
        floor: u64,
        slots: &[DateTime<Utc>],
    ) -> Result<u64, HistoryError> {
        let mut tx = self.pool.begin().await.map_err(self.err("begin missed slots"))?;
        let mut last = floor;
        for slot in slots {
            let counter: i64 = sqlx::query_scalar(NEXT_COUNTER)
                .bind(kind.as_str())
                .bind(id.as_str())
                .bind(to_i64(last + 1))
                .fetch_one(&mut *tx)
                .await
                .map_err(self.err("allocate a counter"))?;
            last = counter as u64;
            let mut row = Run::new(kind, id, last, MISSED);
            row.trigger = Some("timer".into());
            row.slot = Some(*slot);
            row.attempts = 0;
            row.log = false;
            bind_run(sqlx::query(INSERT_RUN), &row).execute(&mut *tx).await.map_err(self.err("write a missed slot"))?;
        }
        if let Some(newest) = slots.last() {
            sqlx::query(RAISE_SLOT)
                .bind(kind.as_str())
                .bind(id.as_str())
                .bind(to_ms(*newest))
                .execute(&mut *tx)
                .await
                .map_err(self.err("record a timer slot"))?;
        }
        tx.commit().await.map_err(self.err("commit missed slots"))?;
        Ok(last)
    }
}
