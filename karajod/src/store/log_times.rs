//! What a finished log says about its run, for importing a log that has no
//! history row (a karajo 0.9 tree, or a row lost to a crash): the start
//! from its first line, the end from its last, the trigger from the
//! `=== BEGIN #N (trigger: X)` marker karajod writes.
//!
//! Only the first line and the last 4 KiB are read, whatever the log's size.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;

use chrono::{DateTime, NaiveDateTime, Utc};

use super::IoError;
use super::log::STOPPED_NOTE;

/// How much of a log's end is read to find its last line.
const TAIL_BYTES: u64 = 4096;
/// `YYYY-MM-DD HH:MM:SS UTC`, the stamp that opens every line.
const STAMP_LEN: usize = 23;

/// The times and trigger a log shows; `None` where it does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogTimes {
    pub started: Option<DateTime<Utc>>,
    pub ended: Option<DateTime<Utc>>,
    pub trigger: Option<String>,
}

/// Reads the first and last lines of the log at `path`.
pub fn read(path: &Path) -> Result<LogTimes, IoError> {
    let file = File::open(path).map_err(IoError::at("open log", path))?;
    let mut first = Vec::new();
    let limit = (super::log::MAX_LINE_BYTES + 256) as u64;
    BufReader::new((&file).take(limit)).read_until(b'\n', &mut first).map_err(IoError::at("read log", path))?;
    let first = String::from_utf8_lossy(&first);
    let last = last_line(&file).map_err(IoError::at("read log", path))?;
    // A log a crash cut short ends with the note of the next start: its
    // run's last sign of life is the mtime that recovery kept.
    let ended = if last.ends_with(STOPPED_NOTE) {
        file.metadata().and_then(|m| m.modified()).ok().map(DateTime::<Utc>::from)
    } else {
        stamp(&last)
    };
    Ok(LogTimes { started: stamp(&first), ended, trigger: trigger(&first) })
}

fn last_line(f: &File) -> std::io::Result<String> {
    let len = f.metadata()?.len();
    let start = len.saturating_sub(TAIL_BYTES);
    let mut buf = vec![0u8; (len - start) as usize];
    f.read_exact_at(&mut buf, start)?;
    let text = String::from_utf8_lossy(&buf);
    let text = text.trim_end_matches('\n');
    Ok(text.rsplit('\n').next().unwrap_or_default().to_string())
}

fn stamp(line: &str) -> Option<DateTime<Utc>> {
    let s = line.get(..STAMP_LEN)?;
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S UTC").ok().map(|t| t.and_utc())
}

fn trigger(first: &str) -> Option<String> {
    let rest = first.split_once("(trigger: ")?.1;
    let word = rest.split_once(')')?.0;
    (!word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')).then(|| word.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_trigger_come_from_the_first_and_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.1.success");
        let text = "2024-05-01 10:00:00 UTC job: a: === BEGIN #1 (trigger: timer)\n\
                    2024-05-01 10:00:01 UTC job: a: hello\n\
                    2024-05-01 10:00:07 UTC job: a: === DONE\n";
        std::fs::write(&p, text).unwrap();
        let t = read(&p).unwrap();
        assert_eq!(t.started.unwrap().to_rfc3339(), "2024-05-01T10:00:00+00:00");
        assert_eq!(t.ended.unwrap().to_rfc3339(), "2024-05-01T10:00:07+00:00");
        assert_eq!(t.trigger.as_deref(), Some("timer"));
    }

    #[test]
    fn a_log_of_the_go_daemon_has_times_but_no_trigger() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.1.success");
        std::fs::write(&p, "2023-01-02 03:04:05 UTC job: a: === BEGIN\nnot a stamp\n").unwrap();
        let t = read(&p).unwrap();
        assert!(t.started.is_some() && t.ended.is_none() && t.trigger.is_none());
    }
}
