//! The audit trail (SPEC 21): who did what, from where, with what result.
//! [`Audit`] fans each entry out to its sinks; [`FileAudit`] appends JSON
//! lines to `$dir_base/var/log/karajo/audit.log`; rows of the run
//! database's `audit` table are a second sink (`audit_db.rs`).
//!
//! Invariants: recording never fails or blocks a request beyond one
//! `write(2)`: a failed write is reported on stderr and counted per sink
//! ([`Audit::failures_by_sink`]), never returned; each entry is one `write` to a
//! file opened `O_APPEND`, so a line the kernel took survives a `kill -9`
//! of the daemon and concurrent entries never interleave; the file is
//! created 0600; no lock is held while writing.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use proto::{AuditEntry, AuditRecord};

use crate::serve::Caller;

/// Where entries go. A database writer implements this beside the file.
pub trait AuditSink: Send + Sync {
    /// The `sink` label of its errors (`file`, `database`).
    fn name(&self) -> &'static str;
    /// Stores one entry; `Err` is reported by [`Audit`], never to the caller.
    fn record(&self, entry: &AuditEntry) -> Result<(), String>;
    /// Entries taken by [`AuditSink::record`] but lost afterwards (a sink
    /// that writes in the background reports those itself).
    fn failed_later(&self) -> u64 {
        0
    }
}

/// The audit trail of one daemon: every sink, each with the count of
/// entries it failed to take.
pub struct Audit {
    sinks: Vec<(Box<dyn AuditSink>, AtomicU64)>,
    file: Option<PathBuf>,
}

impl std::fmt::Debug for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Audit").field("file", &self.file).field("sinks", &self.sinks.len()).finish()
    }
}

impl Audit {
    /// An audit trail that keeps nothing (tests of other parts).
    pub fn none() -> Audit {
        Audit { sinks: Vec::new(), file: None }
    }

    /// The audit log file at `path` (its directory made 0700 if missing).
    pub fn file(path: PathBuf) -> Audit {
        let sink = FileAudit::open(&path);
        if let Err(e) = &sink {
            eprintln!("karajod: audit log {}: {e}; audit entries will be counted as lost", path.display());
        }
        let file: Box<dyn AuditSink> = Box::new(sink.unwrap_or(FileAudit { file: None }));
        Audit { sinks: vec![(file, AtomicU64::new(0))], file: Some(path) }
    }

    /// Adds a sink (e.g. the database's audit table).
    pub fn with_sink(mut self, sink: Box<dyn AuditSink>) -> Audit {
        self.sinks.push((sink, AtomicU64::new(0)));
        self
    }

    /// Records one entry in every sink.
    pub fn record(&self, entry: AuditEntry) {
        for (s, failures) in &self.sinks {
            if let Err(e) = s.record(&entry) {
                failures.fetch_add(1, Ordering::Relaxed);
                eprintln!(
                    "karajod: audit entry lost by the {} sink ({} {}): {e}",
                    s.name(),
                    entry.action,
                    entry.result
                );
            }
        }
    }

    /// Entries lost since start, by sink name.
    pub fn failures_by_sink(&self) -> Vec<(&'static str, u64)> {
        self.sinks.iter().map(|(s, f)| (s.name(), f.load(Ordering::Relaxed) + s.failed_later())).collect()
    }

    /// Entries lost since start, all sinks together.
    pub fn failures(&self) -> u64 {
        self.failures_by_sink().iter().map(|(_, n)| n).sum()
    }

    /// The audit log file, when there is one.
    pub fn path(&self) -> Option<&Path> {
        self.file.as_deref()
    }
}

/// Appends JSON lines to the audit log file.
pub struct FileAudit {
    file: Option<File>,
}

impl FileAudit {
    fn open(path: &Path) -> std::io::Result<FileAudit> {
        if let Some(dir) = path.parent() {
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
        Ok(FileAudit { file: Some(file) })
    }
}

impl AuditSink for FileAudit {
    fn name(&self) -> &'static str {
        "file"
    }

    fn record(&self, entry: &AuditEntry) -> Result<(), String> {
        let file = self.file.as_ref().ok_or("the audit log could not be opened")?;
        let mut line = serde_json::to_vec(entry).map_err(|e| e.to_string())?;
        line.push(b'\n');
        // One write of the whole line: O_APPEND places it atomically at the end.
        (&*file).write_all(&line).map_err(|e| e.to_string())
    }
}

/// The newest entries of the audit log file at `path`, newest first:
/// at most `limit`, and only those whose `seq` (1-based line number) is
/// below `before` when given. A line that is not an entry is skipped.
pub fn read_newest(path: &Path, limit: usize, before: Option<u64>) -> std::io::Result<Vec<AuditRecord>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut kept: std::collections::VecDeque<AuditRecord> = std::collections::VecDeque::with_capacity(limit + 1);
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let seq = i as u64 + 1;
        if before.is_some_and(|b| seq >= b) {
            break;
        }
        let Ok(entry) = serde_json::from_str::<AuditEntry>(&line?) else { continue };
        kept.push_back(AuditRecord { seq, entry });
        if kept.len() > limit {
            kept.pop_front();
        }
    }
    Ok(kept.into_iter().rev().collect())
}

/// The `via` and `source` of a caller.
pub fn origin_of(caller: &Caller) -> (&'static str, String) {
    match caller {
        Caller::Tcp(addr) => ("tcp", addr.ip().to_string()),
        Caller::Socket { uid, .. } => ("socket", format!("uid={uid}")),
    }
}

/// `socket:uid=U(NAME) pid=P`: the control socket's peer.
pub fn socket_actor(uid: u32, pid: Option<i32>) -> String {
    let name = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| "?".into());
    let pid = pid.map_or_else(|| "?".to_string(), |p| p.to_string());
    format!("socket:uid={uid}({name}) pid={pid}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(action: &str) -> AuditEntry {
        AuditEntry {
            at: chrono::Utc::now(),
            actor: "user:alice".into(),
            via: "tcp".into(),
            source: "127.0.0.1".into(),
            action: action.into(),
            target: "backup".into(),
            result: "ok".into(),
        }
    }

    #[test]
    fn entries_are_appended_0600_and_read_newest_first() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("var/log/karajo/audit.log");
        let audit = Audit::file(path.clone());
        for a in ["one", "two", "three"] {
            audit.record(entry(a));
        }
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"not json\n").unwrap();
        audit.record(entry("four"));
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let newest = read_newest(&path, 2, None).unwrap();
        let names: Vec<(u64, &str)> = newest.iter().map(|r| (r.seq, r.entry.action.as_str())).collect();
        assert_eq!(names, [(5, "four"), (3, "three")]);
        let older = read_newest(&path, 10, Some(3)).unwrap();
        assert_eq!(older.iter().map(|r| r.entry.action.as_str()).collect::<Vec<_>>(), ["two", "one"]);
        assert_eq!(audit.failures(), 0);
    }

    #[test]
    fn an_unopenable_log_counts_failures_and_never_panics() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("file"), "").unwrap();
        let audit = Audit::file(dir.path().join("file/audit.log"));
        audit.record(entry("x"));
        assert_eq!(audit.failures(), 1);
    }
}
