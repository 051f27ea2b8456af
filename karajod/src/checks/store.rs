//! Where pings go to last: each is a history row of kind `check` (SPEC
//! 15's table) and, when it carried a body, a log file
//! `var/log/karajo/check/ID/ID.COUNTER.STATUS` (temp, fsync, rename; the
//! last [`KEEP_LOGS`] kept). A writer task takes them in batches, so a
//! burst of pings costs one transaction per batch, not one per ping; the
//! ping's answer never waits for the disk.
//!
//! Invariant: a ping is lost only if the writer's backlog is full (logged)
//! or the daemon is killed within the batch it was in; the state is read
//! back from the rows at start ([`restore`]).

use std::path::{Path, PathBuf};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use proto::Run;
use tokio::sync::mpsc;

use super::status::{PingKind, Tracked};
use crate::store::history::{CHECK_KIND, History};

/// Rows waiting for the writer; past this, pings are still answered and
/// counted but their rows dropped (logged).
pub const WRITE_BACKLOG: usize = 65_536;
/// Rows written in one transaction at most.
const BATCH: usize = 1000;
/// Ping logs kept per check.
pub const KEEP_LOGS: u64 = 5;

/// What the writer is sent.
#[derive(Debug)]
pub enum Write {
    Row(Row),
    /// Answered once every row sent before it is written.
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// One row to write.
#[derive(Debug)]
pub struct Row {
    pub id: String,
    pub counter: u64,
    pub status: &'static str,
    pub trigger: &'static str,
    pub at: DateTime<Utc>,
    pub exit_code: Option<i64>,
    pub body: Bytes,
}

/// The directory of a check's ping logs.
pub fn log_dir(dir_base: &Path, id: &str) -> PathBuf {
    dir_base.join("var/log/karajo/check").join(id)
}

/// Writes rows until every sender is gone.
pub async fn writer(mut rx: mpsc::Receiver<Write>, history: Option<History>, dir_base: PathBuf) {
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let mut rows = Vec::with_capacity(batch.len());
        let mut flushed = Vec::new();
        for w in batch.drain(..) {
            match w {
                Write::Row(r) => rows.push(r),
                Write::Flush(done) => flushed.push(done),
            }
        }
        write_batch(&rows, history.as_ref(), &dir_base).await;
        for done in flushed {
            let _ = done.send(());
        }
    }
}

async fn write_batch(rows: &[Row], history: Option<&History>, dir_base: &Path) {
    if rows.is_empty() {
        return;
    }
    {
        let logs: Vec<(String, u64, &'static str, Bytes)> = rows
            .iter()
            .filter(|r| !r.body.is_empty())
            .map(|r| (r.id.clone(), r.counter, r.status, r.body.clone()))
            .collect();
        if !logs.is_empty() {
            let base = dir_base.to_path_buf();
            let _ = tokio::task::spawn_blocking(move || write_logs(&base, &logs)).await;
        }
        if let Some(h) = history {
            let runs: Vec<Run> = rows.iter().map(run_row).collect();
            if let Err(e) = h.insert(&runs).await {
                tracing::error!(error = %e, rows = runs.len(), "cannot record check pings in the history");
            }
        }
    }
}

fn run_row(r: &Row) -> Run {
    let mut run = Run::new(proto::JobKind::Job, &proto::JobId::from_name(&r.id), r.counter, r.status);
    run.kind = CHECK_KIND.into();
    run.job_id = r.id.clone();
    run.trigger = Some(r.trigger.into());
    run.started_at = Some(r.at);
    run.ended_at = Some(r.at);
    run.duration_ms = Some(0);
    run.exit_code = r.exit_code;
    run.log = !r.body.is_empty();
    run
}

fn write_logs(dir_base: &Path, logs: &[(String, u64, &'static str, Bytes)]) {
    for (id, counter, status, body) in logs {
        let dir = log_dir(dir_base, id);
        let path = dir.join(format!("{id}.{counter}.{status}"));
        if let Err(e) = crate::store::ensure_dir(&dir).map_err(|e| e.source).and_then(|_| write_synced(&path, body)) {
            tracing::error!(path = %path.display(), error = %e, "cannot write a ping's log");
        }
        if let Some(old) = counter.checked_sub(KEEP_LOGS) {
            for status in ["success", "failed", "started"] {
                let _ = std::fs::remove_file(dir.join(format!("{id}.{old}.{status}")));
            }
        }
    }
}

fn write_synced(path: &Path, body: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(body)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// A check's state from its newest rows: counter, last ping, last
/// success, failed, paused. Nothing in the history: a new check.
pub async fn restore(history: &History, id: &str) -> Tracked {
    let mut t = Tracked::default();
    let read = async {
        let pings = history.check_rows(id, &[], 1).await?;
        let flags = history.check_rows(id, &["paused", "resumed"], 1).await?;
        let ended = history.check_rows(id, &["success", "failed"], 1).await?;
        let ok = history.check_rows(id, &["success"], 1).await?;
        let last_ping = history.check_rows(id, &["success", "failed", "started"], 1).await?;
        Ok::<_, crate::store::history::HistoryError>((pings, flags, ended, ok, last_ping))
    };
    match read.await {
        Ok((newest, flags, ended, ok, last_ping)) => {
            t.counter = newest.first().map_or(0, |r| r.counter);
            t.paused = flags.first().is_some_and(|r| r.status == "paused");
            t.failed = ended.first().is_some_and(|r| r.status == "failed");
            t.last_ok = ok.first().and_then(|r| r.started_at);
            t.last_ping = last_ping.first().and_then(|r| Some((r.started_at?, kind_of(r))));
        }
        Err(e) => {
            tracing::error!(check = id, error = %e, "cannot read a check's state from the history; it starts as new")
        }
    }
    t
}

fn kind_of(r: &Run) -> PingKind {
    match (r.status.as_str(), r.exit_code) {
        (_, Some(n)) => PingKind::Exit(u8::try_from(n).unwrap_or(255)),
        ("success", None) => PingKind::Success,
        ("failed", None) => PingKind::Fail,
        _ => PingKind::Start,
    }
}
