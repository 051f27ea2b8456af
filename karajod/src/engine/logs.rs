//! Reading run logs for clients: one run's log opened for streaming
//! (`…/log`), its whole content (library callers), or a follower that
//! reads the file as it grows (SSE, `karajoctl logs -f`).
//!
//! A running log is renamed when its run ends; a reader that finds the old
//! name gone looks the run up again and opens it under its final name.
//! Nothing here reads a whole log into memory except [`content`], whose
//! callers asked for exactly that.

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use proto::{JobId, JobLogContent, JobStatus};
use tokio::sync::watch;

use super::registry::Entry;
use super::{EngineError, LogFollow, RunState};

/// Where a run's log is now, and how to follow it.
struct Located {
    counter: u64,
    status: JobStatus,
    path: PathBuf,
    progress: Option<watch::Receiver<(u64, RunState)>>,
}

fn locate(entry: &Entry, counter: Option<u64>) -> Result<Located, EngineError> {
    let st = entry.lock();
    let running = st.running();
    let counter = match counter {
        Some(c) => c,
        None => match (running, st.logs.last()) {
            (Some(r), _) => r.counter,
            (None, Some(l)) => l.counter,
            (None, None) => return Err(EngineError::LogNotFound(0)),
        },
    };
    if let Some(r) = running.filter(|r| r.counter == counter) {
        return Ok(Located {
            counter,
            status: JobStatus::Running,
            path: r.path.clone(),
            progress: Some(r.progress.clone()),
        });
    }
    let l = st.logs.iter().find(|l| l.counter == counter).ok_or(EngineError::LogNotFound(counter))?;
    Ok(Located { counter, status: l.status, path: l.path.clone(), progress: None })
}

/// Locates and opens. A running log that is gone was just renamed by the
/// end of its run, which tells the entry only after the rename: open it
/// under its final name, or look the run up again once.
fn open(entry: &Entry, counter: Option<u64>) -> Result<(Located, File), EngineError> {
    let mut tries = 0;
    loop {
        let loc = locate(entry, counter)?;
        match File::open(&loc.path) {
            Ok(f) => return Ok((loc, f)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && loc.progress.is_some() => {
                if let Some(found) = renamed(entry, &loc) {
                    return Ok(found);
                }
                if tries > 0 {
                    return Err(EngineError::LogNotFound(loc.counter));
                }
                tries += 1;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(EngineError::LogNotFound(loc.counter)),
            Err(source) => return Err(EngineError::Io { op: "open log", path: loc.path, source }),
        }
    }
}

/// The just-ended run's log under its final name `ID.N.STATUS`, if there.
fn renamed(entry: &Entry, running: &Located) -> Option<(Located, File)> {
    let dir = running.path.parent()?;
    [JobStatus::Success, JobStatus::Failed, JobStatus::Canceled].into_iter().find_map(|status| {
        let path = dir.join(crate::store::log::file_name(&entry.id, running.counter, status));
        let f = File::open(&path).ok()?;
        Some((Located { counter: running.counter, status, path, progress: None }, f))
    })
}

/// One run's log, opened: what `…/log` answers besides the bytes, and the
/// file to read them from, up to `len`.
#[derive(Debug)]
pub struct LogFile {
    pub job_id: JobId,
    pub counter: u64,
    pub status: JobStatus,
    /// The file's length when opened: a running log grows on, and the
    /// answer is the log as it was then, like a read of the whole file.
    pub len: u64,
    /// Opened before any rename, so the handle stays valid.
    pub file: File,
    /// Where it was opened, for error reports.
    pub path: PathBuf,
}

impl LogFile {
    /// The run's name on the wire: the file name `ID.N.STATUS` once the
    /// run ended, `ID.N` while it runs (as the original answers).
    pub fn name(&self) -> String {
        proto::log_name(&self.job_id, self.counter, self.status)
    }
}

/// Opens one run's log for reading.
pub(super) fn open_read(entry: &Arc<Entry>, counter: u64) -> Result<LogFile, EngineError> {
    let (loc, file) = open(entry, Some(counter))?;
    let len = match file.metadata() {
        Ok(m) => m.len(),
        Err(source) => return Err(EngineError::Io { op: "stat log", path: loc.path, source }),
    };
    Ok(LogFile { job_id: entry.id.clone(), counter: loc.counter, status: loc.status, len, file, path: loc.path })
}

/// One run's whole log, in memory.
pub(super) fn content(entry: &Arc<Entry>, counter: u64) -> Result<JobLogContent, EngineError> {
    use std::io::Read;
    let log = open_read(entry, counter)?;
    let mut content = Vec::with_capacity(usize::try_from(log.len).unwrap_or(0));
    let read = (&log.file).take(log.len).read_to_end(&mut content);
    read.map_err(|source| EngineError::Io { op: "read log", path: log.path.clone(), source })?;
    Ok(JobLogContent {
        job_id: log.job_id.clone(),
        name: proto::log_name(&log.job_id, log.counter, log.status),
        status: log.status,
        counter: log.counter,
        content,
    })
}

/// A follower of one run's log (`None` = the latest run).
pub(super) fn follow(entry: &Arc<Entry>, counter: Option<u64>) -> Result<LogFollow, EngineError> {
    let (loc, file) = open(entry, counter)?;
    let progress = match loc.progress {
        Some(p) => p,
        None => {
            let len = file.metadata().map(|m| m.len()).unwrap_or(0);
            watch::channel((len, RunState::Ended(loc.status))).1
        }
    };
    Ok(LogFollow { job_id: entry.id.clone(), counter: loc.counter, file, progress })
}
