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

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
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

/// The names in one folder, by what they are (symbolic links followed),
/// from one `readdir`: start-up lists the folders every job shares
/// instead of a `mkdir` or a `stat` per job (SPEC 23, 10,000 jobs).
#[derive(Debug, Default)]
pub struct Listing {
    dirs: HashSet<OsString>,
    files: HashSet<OsString>,
}

impl Listing {
    /// The folder at `dir`; a missing folder lists nothing.
    pub fn read(dir: &Path) -> Result<Listing, IoError> {
        let mut listing = Listing::default();
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(listing),
            Err(e) => return Err(IoError::at("read directory", dir)(e)),
        };
        for entry in entries {
            let entry = entry.map_err(IoError::at("read directory", dir))?;
            let Ok(mut kind) = entry.file_type() else { continue };
            if kind.is_symlink() {
                // What `Path::is_dir` and `is_file` answer: the link's target.
                let Ok(target) = fs::metadata(entry.path()) else { continue };
                kind = target.file_type();
            }
            if kind.is_dir() {
                listing.dirs.insert(entry.file_name());
            } else if kind.is_file() {
                listing.files.insert(entry.file_name());
            }
        }
        Ok(listing)
    }

    /// `Path::is_dir` of `name` in the folder, as it was listed.
    pub fn has_dir(&self, name: &str) -> bool {
        self.dirs.contains(OsStr::new(name))
    }

    /// `Path::is_file` of `name` in the folder, as it was listed.
    pub fn has_file(&self, name: &str) -> bool {
        self.files.contains(OsStr::new(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_tells_folders_from_files_through_links() {
        let base = tempfile::tempdir().unwrap();
        let at = |n: &str| base.path().join(n);
        fs::create_dir(at("dir")).unwrap();
        fs::write(at("file"), "").unwrap();
        std::os::unix::fs::symlink(at("dir"), at("to-dir")).unwrap();
        std::os::unix::fs::symlink(at("file"), at("to-file")).unwrap();
        std::os::unix::fs::symlink(at("nowhere"), at("dangling")).unwrap();
        let l = Listing::read(base.path()).unwrap();
        for name in ["dir", "file", "to-dir", "to-file", "dangling", "absent"] {
            assert_eq!((l.has_dir(name), l.has_file(name)), (at(name).is_dir(), at(name).is_file()), "{name}");
        }
        let missing = Listing::read(&at("absent")).unwrap();
        assert!(!missing.has_dir("dir") && !missing.has_file("file"));
        let not_a_folder = Listing::read(&at("file")).unwrap_err().to_string();
        assert!(not_a_folder.contains("read directory") && not_a_folder.contains("file"), "{not_a_folder}");
    }
}
