//! What the engine keeps: run logs (`log`, `log_times`), pause flags
//! (`state`) and the run-history database (`history`). Nothing here knows
//! about timers, slots or HTTP.
//!
//! Invariants: directories are created 0700 and files 0600; a file that
//! matters is written under a temp name or appended, fsynced and renamed,
//! so `kill -9` at any moment loses nothing already written.

pub mod history;
pub mod log;
pub mod log_times;
pub mod state;

use std::fs;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// An I/O error with the file and the operation that failed on it.
#[derive(Debug, thiserror::Error)]
#[error("{op} {path}: {source}")]
pub struct IoError {
    pub op: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

impl IoError {
    /// A closure for `map_err` that names the operation and the path.
    pub fn at<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> IoError + 'a {
        move |source| IoError { op, path: path.to_path_buf(), source }
    }
}

/// Creates `dir` and its missing parents with mode 0700; existing ones are left as they are.
pub fn ensure_dir(dir: &Path) -> Result<(), IoError> {
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(IoError::at("create directory", dir))
}

/// Fsyncs a directory so a rename or unlink in it survives a crash.
pub fn sync_dir(dir: &Path) -> Result<(), IoError> {
    fs::File::open(dir).and_then(|d| d.sync_all()).map_err(IoError::at("fsync directory", dir))
}
