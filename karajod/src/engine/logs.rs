//! Reading run logs for clients: one run's whole content, or a follower
//! that reads the file as it grows (SSE, `karajoctl logs -f`).
//!
//! A running log is renamed when its run ends; a reader that finds the old
//! name gone looks the run up again and opens it under its final name.

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use proto::{JobLogContent, JobStatus};
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

/// Locates and opens; retries once when the run ended (and renamed its
/// log) between the two.
fn open(entry: &Entry, counter: Option<u64>) -> Result<(Located, File), EngineError> {
    let mut tries = 0;
    loop {
        let loc = locate(entry, counter)?;
        match File::open(&loc.path) {
            Ok(f) => return Ok((loc, f)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && loc.progress.is_some() && tries == 0 => {
                tries += 1;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(EngineError::LogNotFound(loc.counter)),
            Err(source) => return Err(EngineError::Io { op: "open log", path: loc.path, source }),
        }
    }
}

/// One run's whole log.
pub(super) fn content(entry: &Arc<Entry>, counter: u64) -> Result<JobLogContent, EngineError> {
    use std::io::Read;
    let (loc, mut f) = open(entry, Some(counter))?;
    let mut content = Vec::new();
    f.read_to_end(&mut content).map_err(|source| EngineError::Io { op: "read log", path: loc.path, source })?;
    Ok(JobLogContent {
        job_id: entry.id.clone(),
        name: proto::log_name(&entry.id, loc.counter, loc.status),
        status: loc.status,
        counter: loc.counter,
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
