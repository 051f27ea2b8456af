//! The rows of passive checks (kind `check`, SPEC 18): each ping, pause
//! and resume is a row, so a check's state after a restart is read back
//! from its newest rows. Writing goes through [`History::insert`].

use proto::Run;

use super::runs::{COLUMNS, decode};
use super::{History, HistoryError};

/// The row kind of checks.
pub const CHECK_KIND: &str = "check";

impl History {
    /// The newest `limit` rows of check `id` whose status is one of
    /// `statuses` (all when empty), newest first.
    pub async fn check_rows(&self, id: &str, statuses: &[&str], limit: u32) -> Result<Vec<Run>, HistoryError> {
        // Fixed placeholders, one per status: never text from a request in the SQL.
        let filter = if statuses.is_empty() {
            String::new()
        } else {
            let marks: Vec<String> = (0..statuses.len()).map(|i| format!("${}", i + 4)).collect();
            format!(" AND status IN ({})", marks.join(", "))
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM runs WHERE kind = $1 AND job_id = $2{filter} ORDER BY counter DESC LIMIT $3"
        );
        let mut q = sqlx::query(&sql).bind(CHECK_KIND).bind(id.to_string()).bind(i64::from(limit));
        for s in statuses {
            q = q.bind(s.to_string());
        }
        let rows = q.fetch_all(&self.pool).await.map_err(self.err("read check rows"))?;
        rows.iter().map(decode).collect::<Result<_, _>>().map_err(self.err("read check rows"))
    }
}
