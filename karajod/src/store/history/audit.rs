//! Audit rows (SPEC 21): `{at, actor, via, source, action, target, result}`.
//! The `auth` room decides what is audited and writes the JSON-lines file;
//! this only stores and pages the rows.

use proto::{AuditEntry, AuditRecord};
use sqlx::Row;

use super::{History, HistoryError, from_ms, to_ms};

impl History {
    /// Stores one audit entry (the type the audit log file and `GET /audit`
    /// use); answers its id.
    pub async fn audit(&self, a: &AuditEntry) -> Result<i64, HistoryError> {
        sqlx::query_scalar(
            "INSERT INTO audit (at, actor, via, source, action, target, result) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(to_ms(a.at))
        .bind(&a.actor)
        .bind(&a.via)
        .bind(&a.source)
        .bind(&a.action)
        .bind(&a.target)
        .bind(&a.result)
        .fetch_one(&self.pool)
        .await
        .map_err(self.err("write an audit row"))
    }

    /// Audit rows newest first, with an id below `before`; `seq` is the row's id.
    pub async fn audit_rows(&self, limit: u32, before: Option<i64>) -> Result<Vec<AuditRecord>, HistoryError> {
        let rows = sqlx::query(
            "SELECT id, at, actor, via, source, action, target, result FROM audit \
             WHERE id < $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(self.err("read audit rows"))?;
        let decode = |r: &sqlx::any::AnyRow| -> Result<AuditRecord, sqlx::Error> {
            Ok(AuditRecord {
                seq: r.try_get::<i64, _>(0)? as u64,
                entry: AuditEntry {
                    at: from_ms(r.try_get(1)?),
                    actor: r.try_get(2)?,
                    via: r.try_get(3)?,
                    source: r.try_get(4)?,
                    action: r.try_get(5)?,
                    target: r.try_get(6)?,
                    result: r.try_get(7)?,
                },
            })
        };
        rows.iter().map(decode).collect::<Result<_, _>>().map_err(self.err("read audit rows"))
    }
}
