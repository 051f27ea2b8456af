//! What a run leaves on disk so the next daemon can end its processes
//! after a `kill -9`: `$dir_base/var/run/karajo/process/KIND.ID.COUNTER`,
//! lines `tag ENTRY`, `cgroup PATH` and one `group PGID START BOOT_ID` per
//! command. Written before the processes exist (the tag and the group) or
//! right after the fork (the process group), removed when the run's
//! processes are gone or were left on purpose (`leave_processes`).
//!
//! Why no fsync: the record only has to outlive the daemon, not the
//! machine. A written page survives `kill -9`; a power loss ends the
//! processes too, and a record left from a previous boot is recognised by
//! its boot ID and ignored.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The folder of the records.
pub fn dir(dir_base: &Path) -> PathBuf {
    dir_base.join("var/run/karajo/process")
}

/// The record of a live run.
pub struct Record {
    file: File,
    path: PathBuf,
}

impl Record {
    pub fn create(dir: &Path, name: &str, tag: &str, cgroup: Option<&Path>) -> io::Result<Record> {
        fs::DirBuilder::new().recursive(true).create(dir)?;
        let path = dir.join(name);
        let mut file = OpenOptions::new().create(true).truncate(true).write(true).mode(0o600).open(&path)?;
        let mut text = format!("tag {tag}\n");
        if let Some(c) = cgroup {
            text.push_str(&format!("cgroup {}\n", c.display()));
        }
        file.write_all(text.as_bytes())?;
        Ok(Record { file, path })
    }

    /// Adds a command's process group (its shell is the leader).
    pub fn add_group(&mut self, pgid: i32, start: u64, boot: &str) -> io::Result<()> {
        self.file.write_all(format!("group {pgid} {start} {boot}\n").as_bytes())
    }

    pub fn remove(self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// A record found at start-up.
#[derive(Debug, Default, PartialEq)]
pub struct Old {
    pub path: PathBuf,
    pub tag: Option<String>,
    pub cgroup: Option<PathBuf>,
    /// (pgid, start time, boot ID).
    pub groups: Vec<(i32, u64, String)>,
}

/// Every record in `dir`; lines that do not parse are skipped.
pub fn read_all(dir: &Path) -> Vec<Old> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let Ok(text) = fs::read_to_string(e.path()) else { continue };
        out.push(parse(e.path(), &text));
    }
    out
}

fn parse(path: PathBuf, text: &str) -> Old {
    let mut old = Old { path, ..Old::default() };
    for line in text.lines() {
        match line.split_once(' ') {
            Some(("tag", t)) => old.tag = Some(t.to_string()),
            Some(("cgroup", c)) => old.cgroup = Some(PathBuf::from(c)),
            Some(("group", g)) => {
                let f: Vec<&str> = g.split(' ').collect();
                if let [pgid, start, boot] = f[..]
                    && let (Ok(pgid), Ok(start)) = (pgid.parse(), start.parse())
                {
                    old.groups.push((pgid, start, boot.to_string()));
                }
            }
            _ => {}
        }
    }
    old
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_and_a_torn_line_is_skipped() {
        let d = tempfile::tempdir().unwrap();
        let mut r = Record::create(d.path(), "job.a.1", "KARAJO_RUN_TAG=x", Some(Path::new("/cg/a"))).unwrap();
        r.add_group(12, 345, "boot").unwrap();
        fs::write(d.path().join("job.a.2"), "tag KARAJO_RUN_TAG=y\ngroup 1 2").unwrap();
        let mut all = read_all(d.path());
        all.sort_by(|a, b| a.path.cmp(&b.path));
        assert_eq!(all[0].tag.as_deref(), Some("KARAJO_RUN_TAG=x"));
        assert_eq!(all[0].cgroup.as_deref(), Some(Path::new("/cg/a")));
        assert_eq!(all[0].groups, [(12, 345, "boot".to_string())]);
        assert!(all[1].groups.is_empty());
        r.remove();
        assert_eq!(read_all(d.path()).len(), 1);
    }
}
