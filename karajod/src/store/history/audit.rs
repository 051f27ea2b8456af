//! Audit rows (SPEC 21): `{at, actor, via, source, action, target, result}`.
//! The `auth` room decides what is audited and writes the JSON-lines file;
//! this only stores and pages the rows.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{History, HistoryError, from_ms, to_ms};

/// One audited event, as the audit writer hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub at: DateTime<Utc>,
    /// `user:NAME`, `token:NAME`, `socket:uid=U(NAME) pid=P`, `signature`, `webhook:KIND delivery=ID`.
    pub actor: String,
    pub via: String,
    pub source: String,
    pub action: String,
    pub target: String,
    pub result: String,
}

/// A stored audit row and its id (the `before` of the next page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub row: AuditRow,
}

impl History {
    /// Stores one audit row; answers its id.
    pub async fn audit(&self, a: &AuditRow) -> Result<i64, HistoryError> {
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

    /// Audit rows newest first, with an id below `before`.
    pub async fn audit_rows(&self, limit: u32, before: Option<i64>) -> Result<Vec<AuditEntry>, HistoryError> {
        let rows = sqlx::query(
            "SELECT id, at, actor, via, source, action, target, result FROM audit \
             WHERE id < $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(self.err("read audit rows"))?;
        let decode = |r: &sqlx::any::AnyRow| -> Result<AuditEntry, sqlx::Error> {
            Ok(AuditEntry {
                id: r.try_get(0)?,
                row: AuditRow {
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
