//! Audit rows (SPEC 21): `{at, actor, via, source, action, target, result}`.
//! The `auth` room decides what is audited and writes the JSON-lines file;
//! this only stores and pages the rows.

use std::fmt::Write;

use proto::{AuditEntry, AuditRecord};
use sqlx::Row;

use super::{Backend, History, HistoryError, from_ms, to_ms};

/// Entries [`History::audit_many`] writes in one statement at most: 7
/// parameters each, 7,168, stays below SQLite's 32,766 and PostgreSQL's 65,535.
pub const AUDIT_BATCH: usize = 1024;

/// Both inserts name the columns in [`bind_entry`]'s order.
const INSERT: &str = "INSERT INTO audit (at, actor, via, source, action, target, result) VALUES ";

impl History {
    /// Stores one audit entry (the type the audit log file and `GET /audit`
    /// use); answers its id.
    pub async fn audit(&self, a: &AuditEntry) -> Result<i64, HistoryError> {
        let sql = format!("{INSERT}($1, $2, $3, $4, $5, $6, $7) RETURNING id");
        let q = sqlx::query(&sql);
        let row = bind_entry(q, a).fetch_one(&self.pool).await.map_err(self.err("write an audit row"))?;
        row.try_get(0).map_err(self.err("write an audit row"))
    }

    /// Stores entries in one statement, in their order (ids ascending):
    /// all of them or, on an error, none. At most [`AUDIT_BATCH`] at once.
    pub async fn audit_many(&self, entries: &[AuditEntry]) -> Result<(), HistoryError> {
        assert!(entries.len() <= AUDIT_BATCH, "{} audit entries in one statement", entries.len());
        if entries.is_empty() {
            return Ok(());
        }
        let mut sql = String::from(INSERT);
        for n in 0..entries.len() {
            sql.push_str(if n == 0 { "(" } else { ", (" });
            for p in 0..7 {
                if p > 0 {
                    sql.push_str(", ");
                }
                // SQLite finds a `$N` by a scan of every name before it, for
                // each bind: thousands of them cost more than the insert. A bare
                // `?` takes the next slot; PostgreSQL knows only `$N`.
                match self.backend {
                    Backend::Sqlite => sql.push('?'),
                    Backend::Postgres => write!(sql, "${}", n * 7 + p + 1).expect("a String takes any write"),
                }
            }
            sql.push(')');
        }
        // Not kept prepared: each batch size would be its own statement in the cache.
        let mut q = sqlx::query(&sql).persistent(false);
        for a in entries {
            q = bind_entry(q, a);
        }
        q.execute(&self.pool).await.map(|_| ()).map_err(self.err("write audit rows"))
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

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds an entry's seven columns, in the order of the INSERTs above.
fn bind_entry<'q>(q: AnyQuery<'q>, a: &'q AuditEntry) -> AnyQuery<'q> {
    q.bind(to_ms(a.at)).bind(&a.actor).bind(&a.via).bind(&a.source).bind(&a.action).bind(&a.target).bind(&a.result)
}
