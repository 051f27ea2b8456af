//! The run history database (SPEC 15): one row per run beside its log
//! file, the counter allocator, and the audit rows of SPEC 21.
//!
//! One code path serves both backends: SQLite (`$dir_base/var/lib/karajo/karajo.db`,
//! WAL, the default) and PostgreSQL (a URL). Queries are plain SQL strings
//! written in the dialect both speak, run through sqlx's `Any` driver, so
//! the build needs no database; only the migrations differ
//! (`migrations/sqlite`, `migrations/postgres`, kept in step).
//!
//! The public interface, for the engine and for other rooms (the audit
//! writer, checks, the cluster):
//! - [`History::open`] creates or opens the database and migrates it;
//!   an error names the file (or the URL without its password).
//! - [`History::begin_run`] allocates the run's counter (never below a
//!   floor the caller knows from disk, never reused) and writes its row
//!   with status `running`; [`History::end_run`] completes it.
//! - [`History::insert`] writes a finished row (imported logs, missed slots).
//! - [`History::runs`] answers the runs API; [`History::summary`] the Job JSON fields.
//! - [`History::start_state`] (every job at once) / [`History::job_start`],
//!   [`History::log_gone`], [`History::trim`]: reconciliation and retention.
//! - [`History::audit`], [`History::audit_many`] / [`History::audit_rows`]: the audit log rows.
//!
//! Invariants: times are stored as milliseconds since the epoch (UTC); a
//! counter handed out by the database is never handed out again for the
//! same (kind, job_id); nothing here holds a lock across an await.

mod audit;
mod checks;
mod open;
mod runs;
mod slots;
mod start;

pub use audit::AUDIT_BATCH;
pub use checks::CHECK_KIND;
pub use open::Location;
pub use proto::Run;
pub use runs::{RunEnd, RunQuery, RunStart, Summary};
pub use start::JobStart;

use std::fmt;

/// Where the default SQLite file lives under `dir_base`.
pub const SQLITE_FILE: &str = "var/lib/karajo/karajo.db";

/// A database operation that failed, naming the database.
#[derive(Debug, thiserror::Error)]
#[error("history database {place}: cannot {what}: {source}")]
pub struct HistoryError {
    /// The file path, or the URL without its password.
    pub place: String,
    pub what: &'static str,
    #[source]
    pub source: sqlx::Error,
}

/// Which dialect the migrations were written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// An open history database; cheap to clone (one connection pool).
#[derive(Clone)]
pub struct History {
    pool: sqlx::AnyPool,
    backend: Backend,
    place: String,
    /// Held while open: a second karajod on the same SQLite file is refused.
    _lock: Option<std::sync::Arc<nix::fcntl::Flock<std::fs::File>>>,
    /// SQLite: the task that checkpoints the WAL beside the writers; stops with the last clone.
    _checkpoints: Option<std::sync::Arc<open::Checkpoints>>,
}

impl fmt::Debug for History {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("History").field("backend", &self.backend).field("place", &self.place).finish()
    }
}

impl History {
    /// The database's name in errors and notes: its file, or its URL without the password.
    pub fn place(&self) -> &str {
        &self.place
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection (on shutdown, so SQLite checkpoints its WAL).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    fn err(&self, what: &'static str) -> impl FnOnce(sqlx::Error) -> HistoryError + '_ {
        move |source| HistoryError { place: self.place.clone(), what, source }
    }
}

/// Milliseconds since the epoch, the unit of every time column.
fn to_ms(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}
