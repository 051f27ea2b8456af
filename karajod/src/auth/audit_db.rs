//! The audit sink that writes rows of the run database's `audit` table
//! (SPEC 21), off the request path.
//!
//! Invariants: [`DbAudit::record`] never waits: it hands the entry to a
//! bounded queue ([`QUEUE_ENTRIES`]) and one background task writes the
//! rows in order; a full queue, a write that fails or one slower than
//! [`WRITE_TIMEOUT`] loses that entry, reported on stderr and counted
//! (the `database` sink of `karajo_audit_write_errors_total`). The file
//! sink beside it still takes every entry. The task ends when the last
//! sender (the daemon's [`super::audit::Audit`]) is dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use proto::AuditEntry;
use tokio::sync::mpsc;

use super::audit::AuditSink;
use crate::store::history::History;

/// Entries waiting for the database at most; beyond that they are lost
/// (and counted) rather than held in memory without bound.
pub const QUEUE_ENTRIES: usize = 1024;

/// How long one row may take before it counts as lost, so a database that
/// hangs drains the queue instead of stalling it.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// Rows of the `audit` table, written by a background task.
pub struct DbAudit {
    queue: mpsc::Sender<AuditEntry>,
    lost: Arc<AtomicU64>,
}

impl DbAudit {
    /// Starts the writer on the current tokio runtime.
    pub fn spawn(history: History) -> DbAudit {
        let (queue, mut rx) = mpsc::channel::<AuditEntry>(QUEUE_ENTRIES);
        let lost = Arc::new(AtomicU64::new(0));
        let counted = lost.clone();
        tokio::spawn(async move {
            while let Some(entry) = rx.recv().await {
                let why = match tokio::time::timeout(WRITE_TIMEOUT, history.audit(&entry)).await {
                    Ok(Ok(_)) => continue,
                    Ok(Err(e)) => e.to_string(),
                    Err(_) => format!("no answer from {} within {WRITE_TIMEOUT:?}", history.place()),
                };
                counted.fetch_add(1, Ordering::Relaxed);
                eprintln!("karajod: audit row lost ({} {}): {why}", entry.action, entry.result);
            }
        });
        DbAudit { queue, lost }
    }
}

impl AuditSink for DbAudit {
    fn name(&self) -> &'static str {
        "database"
    }

    fn record(&self, entry: &AuditEntry) -> Result<(), String> {
        self.queue.try_send(entry.clone()).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => format!("the database writer is {QUEUE_ENTRIES} entries behind"),
            mpsc::error::TrySendError::Closed(_) => "the database writer has stopped".to_string(),
        })
    }

    fn failed_later(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::audit::Audit;
    use crate::store::history::Location;

    fn entry(n: usize) -> AuditEntry {
        AuditEntry {
            at: chrono::Utc::now(),
            actor: format!("token:t{n}"),
            via: "tcp".into(),
            source: "127.0.0.1".into(),
            action: "job_exec/run".into(),
            target: "backup".into(),
            result: "ok".into(),
        }
    }

    #[tokio::test]
    async fn rows_are_written_in_order_and_a_closed_database_is_counted() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::open(&Location::Sqlite(dir.path().join("karajo.db"))).await.unwrap();
        let audit = Audit::none().with_sink(Box::new(DbAudit::spawn(h.clone())));
        for n in 0..3 {
            audit.record(entry(n));
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let rows = loop {
            let rows = h.audit_rows(10, None).await.unwrap();
            if rows.len() == 3 || std::time::Instant::now() > deadline {
                break rows;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        let actors: Vec<&str> = rows.iter().map(|r| r.entry.actor.as_str()).collect();
        assert_eq!(actors, ["token:t2", "token:t1", "token:t0"]);
        h.close().await;
        audit.record(entry(9));
        while audit.failures() == 0 && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(audit.failures_by_sink(), [("database", 1)]);
    }
}
