//! The audit sink that writes rows of the run database's `audit` table
//! (SPEC 21), off the request path.
//!
//! Invariants: [`DbAudit::record`] never waits: it hands the entry to a
//! bounded queue ([`QUEUE_ENTRIES`]) and one background task writes the
//! rows in order, every entry waiting at once in one statement (at most
//! [`AUDIT_BATCH`], gathered for [`LINGER`] under a flood); a full queue,
//! a write that fails or one slower than [`WRITE_TIMEOUT`] loses those
//! entries, reported on stderr and counted
//! (the `database` sink of `karajo_audit_write_errors_total`). The file
//! sink beside it still takes every entry. The task ends when the last
//! sender (the daemon's [`super::audit::Audit`]) is dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use proto::AuditEntry;
use tokio::sync::mpsc;

use super::audit::AuditSink;
use crate::store::history::{AUDIT_BATCH, History};

/// Entries waiting for the database at most; beyond that they are lost
/// (and counted) rather than held in memory without bound. 8,192 is
/// 0.3 s of refused webhooks at 27,000/s (~2 MB when full): a checkpoint's
/// fsync fits, where 1,024 lost 69-80 % of the rows under that load.
pub const QUEUE_ENTRIES: usize = 8192;

/// How long one row may take before it counts as lost, so a database that
/// hangs drains the queue instead of stalling it.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the writer waits for more entries when it finds several, but
/// fewer than a full batch, waiting (a flood) before it writes them: a
/// statement of hundreds of rows instead of one hand-off to the database
/// thread per few requests (refused webhooks 1.2-1.4 times as fast). A full
/// batch is written at once, so the writer keeps up at any rate the
/// statement does.
pub const LINGER: Duration = Duration::from_millis(5);

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
            // Entries that arrive while a write runs go in the next one: a
            // burst of refused webhooks costs one statement per batch, not
            // one hand-off to the database thread per request.
            let mut batch = Vec::with_capacity(AUDIT_BATCH);
            while rx.recv_many(&mut batch, AUDIT_BATCH).await > 0 {
                if batch.len() > 1 && batch.len() < AUDIT_BATCH {
                    // Under a flood: wait for more before the hand-off to the
                    // database thread, so each statement carries many rows.
                    tokio::time::sleep(LINGER).await;
                    // Not empty: takes what is there at once, up to a full batch.
                    if !rx.is_empty() {
                        let room = AUDIT_BATCH - batch.len();
                        rx.recv_many(&mut batch, room).await;
                    }
                }
                let why = match tokio::time::timeout(WRITE_TIMEOUT, history.audit_many(&batch)).await {
                    Ok(Ok(())) => None,
                    Ok(Err(e)) => Some(e.to_string()),
                    Err(_) => Some(format!("no answer from {} within {WRITE_TIMEOUT:?}", history.place())),
                };
                if let Some(why) = why {
                    counted.fetch_add(batch.len() as u64, Ordering::Relaxed);
                    let first = &batch[0];
                    eprintln!(
                        "karajod: {} audit row(s) lost (first {} {}): {why}",
                        batch.len(),
                        first.action,
                        first.result
                    );
                }
                batch.clear();
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
    async fn a_burst_is_written_whole_in_order_and_a_closed_database_is_counted() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::open(&Location::Sqlite(dir.path().join("karajo.db"))).await.unwrap();
        let audit = Audit::none().with_sink(Box::new(DbAudit::spawn(h.clone())));
        // More than two batches at once: every row, in the order recorded.
        let burst = 2 * AUDIT_BATCH + 88;
        for n in 0..burst {
            audit.record(entry(n));
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let rows = loop {
            let rows = h.audit_rows(10_000, None).await.unwrap();
            if rows.len() == burst || std::time::Instant::now() > deadline {
                break rows;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        let actors: Vec<String> = rows.iter().rev().map(|r| r.entry.actor.clone()).collect();
        let recorded: Vec<String> = (0..burst).map(|n| format!("token:t{n}")).collect();
        assert_eq!(actors, recorded);
        assert!(rows.windows(2).all(|w| w[0].seq > w[1].seq));
        assert_eq!(audit.failures(), 0);
        h.close().await;
        audit.record(entry(9));
        while audit.failures() == 0 && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(audit.failures_by_sink(), [("database", 1)]);
    }
}
