//! Run logs on disk: `$dir_log/$ID.$COUNTER.$STATUS`, one per run.
//!
//! A [`RunLog`] streams a run's output into `$ID.$COUNTER.running` line by
//! line as it arrives (partial lines written at once, long lines split at
//! [`MAX_LINE_BYTES`]), every line prefixed `YYYY-MM-DD HH:MM:SS UTC job: $ID: `,
//! and is renamed to its final status at the end, after an fsync. Nothing
//! of the output is held in memory beyond one read buffer.
//!
//! A write that fails (full disk, `RLIMIT_FSIZE`) breaks the log: the torn
//! part of that write is cut off again so every line keeps its prefix, one
//! `!!!` line says why (when it fits), the error is reported once, the rest
//! of the output is dropped, and a run that would have succeeded ends
//! `failed` ([`RunLog::finish`]).
//!
//! Recovery ([`recover`]) rebuilds a job's history from its folder: files
//! whose names do not parse are ignored, never deleted.

use std::fs::{self, File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use proto::{JobId, JobKind, JobStatus};
use tokio::sync::watch;

use super::{IoError, ensure_dir, sync_dir};

/// Output lines longer than this are split, so one huge line never has to be held.
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// The last line of a `.running` log found at start-up.
pub const STOPPED_NOTE: &str = "!!! the daemon stopped during the run; marked failed at start-up";
/// The start of the line a log gets when one of its writes failed.
pub const BROKEN_NOTE: &str = "!!! cannot write this log";

/// How a run ended, or that it is still going: what a log follower sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    Running,
    Ended(JobStatus),
}

/// One run's log file as found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFile {
    pub counter: u64,
    pub status: JobStatus,
    pub path: PathBuf,
}

/// `$dir_base/var/log/karajo/{job,job_http}`: the log folders of one kind's jobs.
pub fn kind_dir(dir_base: &Path, kind: JobKind) -> PathBuf {
    dir_base.join("var/log/karajo").join(kind.as_str())
}

/// `$dir_base/var/log/karajo/{job,job_http}/$ID`.
pub fn log_dir(dir_base: &Path, kind: JobKind, id: &JobId) -> PathBuf {
    kind_dir(dir_base, kind).join(id.as_str())
}

/// `$ID.$COUNTER.$STATUS`.
pub fn file_name(id: &JobId, counter: u64, status: JobStatus) -> String {
    format!("{id}.{counter}.{status}")
}

/// Reads `$ID.$COUNTER.$STATUS` back; anything else is `None`.
pub fn parse_name(id: &JobId, name: &str) -> Option<(u64, JobStatus)> {
    let rest = name.strip_prefix(id.as_str())?.strip_prefix('.')?;
    let (counter, status) = rest.split_once('.')?;
    if counter.is_empty() || !counter.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((counter.parse().ok()?, JobStatus::parse(status)?))
}

/// Every parseable log of a job, sorted by counter (missing folder = none).
pub fn scan(dir: &Path, id: &JobId) -> Result<Vec<LogFile>, IoError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(IoError::at("read directory", dir)(e)),
    };
    let mut logs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(IoError::at("read directory", dir))?;
        let name = entry.file_name();
        let Some((counter, status)) = name.to_str().and_then(|n| parse_name(id, n)) else { continue };
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            logs.push(LogFile { counter, status, path: entry.path() });
        }
    }
    logs.sort_by_key(|l| l.counter);
    // Kept for the job's life: not the doubling's spare room (with 10,000 jobs, 1.6 MB).
    logs.shrink_to_fit();
    Ok(logs)
}

/// A job's history rebuilt from disk.
#[derive(Debug, Default)]
pub struct Recovered {
    pub logs: Vec<LogFile>,
    /// The mtime of the highest log.
    pub last_run: Option<DateTime<Utc>>,
}

/// Scans a job's folder (a missing one holds no logs: the caller creates
/// it), marks `.running` leftovers failed with a final note, and reads the
/// last run's time.
pub fn recover(dir: &Path, kind: JobKind, id: &JobId, now: DateTime<Utc>) -> Result<Recovered, IoError> {
    let mut logs = scan(dir, id)?;
    for log in logs.iter_mut().filter(|l| l.status == JobStatus::Running) {
        let failed = dir.join(file_name(id, log.counter, JobStatus::Failed));
        let mut f =
            OpenOptions::new().read(true).append(true).open(&log.path).map_err(IoError::at("open log", &log.path))?;
        // The run's last sign of life stays its time: the note must not move last_run.
        let mtime = f.metadata().and_then(|m| m.modified()).map_err(IoError::at("stat log", &log.path))?;
        let prefix = prefix(now, kind, id);
        let sep = match cut_line(&f).map_err(IoError::at("read log", &log.path))? {
            None => "",
            // SIGKILL can cut a write at a page boundary: a line cut inside its
            // prefix holds no output, only a torn stamp. It goes, so every line
            // keeps its prefix.
            Some((start, len)) if len < prefix.len() as u64 => {
                f.set_len(start).map_err(IoError::at("cut a torn line of log", &log.path))?;
                ""
            }
            Some(_) => "\n",
        };
        let note = format!("{sep}{prefix}{STOPPED_NOTE}\n");
        f.write_all(note.as_bytes())
            .and_then(|()| f.set_modified(mtime))
            .and_then(|()| f.sync_all())
            .map_err(IoError::at("append to log", &log.path))?;
        fs::rename(&log.path, &failed).map_err(IoError::at("rename log", &log.path))?;
        sync_dir(dir)?;
        tracing::warn!(job.id = %id, run.counter = log.counter, "run interrupted by a daemon stop, marked failed");
        log.status = JobStatus::Failed;
        log.path = failed;
    }
    let last_run = match logs.last() {
        Some(l) => Some(fs::metadata(&l.path).and_then(|m| m.modified()).map_err(IoError::at("stat log", &l.path))?),
        None => None,
    };
    Ok(Recovered { logs, last_run: last_run.map(DateTime::<Utc>::from) })
}

/// The cut-off last line of a log (one not ended by a newline): its
/// offset and length. `None` when the log ends with a whole line.
fn cut_line(f: &File) -> std::io::Result<Option<(u64, u64)>> {
    use std::os::unix::fs::FileExt;
    let len = f.metadata()?.len();
    let mut end = len;
    let mut buf = [0u8; 4096];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let chunk = &mut buf[..(end - start) as usize];
        f.read_exact_at(chunk, start)?;
        if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
            let line = start + i as u64 + 1;
            return Ok((line < len).then_some((line, len - line)));
        }
        end = start;
    }
    Ok((len > 0).then_some((0, len)))
}

/// Retention (`log_retention`): the logs a job keeps are its newest ones.
/// [`expire`] takes the oldest beyond that many out of a job's list (under
/// the caller's lock, no disk work); the caller then deletes them with
/// [`Expired::delete`] once the lock is released.
#[must_use = "expired logs stay on disk until deleted"]
#[derive(Debug, Default)]
pub struct Expired(Vec<LogFile>);

/// Takes the oldest of `logs` (oldest first, as [`scan`] lists them)
/// beyond `keep` out of the list.
pub fn expire(logs: &mut Vec<LogFile>, keep: usize) -> Expired {
    let excess = logs.len().saturating_sub(keep);
    Expired(logs.drain(..excess).collect())
}

impl Expired {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The counters of the runs whose logs go.
    pub fn counters(&self) -> Vec<u64> {
        self.0.iter().map(|l| l.counter).collect()
    }

    /// Deletes the files (blocking). One that cannot be deleted is
    /// reported; it stays on disk and is found again by the next start.
    pub fn delete(self) {
        for old in self.0 {
            if let Err(e) = fs::remove_file(&old.path) {
                tracing::warn!(path = %old.path.display(), error = %e, "cannot delete an old log");
            }
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS UTC job: $ID: `.
pub fn prefix(now: DateTime<Utc>, kind: JobKind, id: &JobId) -> String {
    format!("{} {}: {id}: ", now.format("%Y-%m-%d %H:%M:%S UTC"), kind.as_str())
}

/// A log being written. Owned by its run; followers watch `progress`.
pub struct RunLog {
    file: File,
    dir: PathBuf,
    path: PathBuf,
    kind: JobKind,
    id: JobId,
    counter: u64,
    /// The second the cached prefix was made for, and the prefix.
    stamp: (i64, String),
    /// Bytes of the current output line already written (0 = at a line start).
    line_len: usize,
    written: u64,
    progress: watch::Sender<(u64, RunState)>,
    out: Vec<u8>,
    /// Set by the first failed write: nothing more is written.
    broken: bool,
}

impl RunLog {
    /// Creates `$dir/$ID.$COUNTER.running` (0600); fails if it exists.
    pub fn create(dir: &Path, kind: JobKind, id: &JobId, counter: u64) -> Result<RunLog, IoError> {
        ensure_dir(dir)?;
        let path = dir.join(file_name(id, counter, JobStatus::Running));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(IoError::at("create log", &path))?;
        Ok(RunLog {
            file,
            dir: dir.to_path_buf(),
            path,
            kind,
            id: id.clone(),
            counter,
            stamp: (i64::MIN, String::new()),
            line_len: 0,
            written: 0,
            progress: watch::channel((0, RunState::Running)).0,
            out: Vec::new(),
            broken: false,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A receiver of (bytes written, state), for followers.
    pub fn subscribe(&self) -> watch::Receiver<(u64, RunState)> {
        self.progress.subscribe()
    }

    /// Writes one whole line of the engine's own (markers, outcomes).
    pub fn line(&mut self, now: DateTime<Utc>, text: &str) -> Result<(), IoError> {
        if self.broken {
            return Ok(());
        }
        let line_len = self.line_len;
        self.out.clear();
        if self.line_len > 0 {
            self.out.push(b'\n');
            self.line_len = 0;
        }
        self.push_prefix(now);
        self.out.extend_from_slice(text.as_bytes());
        self.out.push(b'\n');
        self.flush_out(now, line_len)
    }

    /// [`RunLog::line`] for callers that can only report a failed write:
    /// a full disk must not stop the run itself. The failure is reported
    /// when it happens (once per run) and decides the run's status.
    pub fn note(&mut self, now: DateTime<Utc>, text: &str) {
        let _ = self.line(now, text);
    }

    /// [`RunLog::output`] for callers that can only report a failed write.
    pub fn output_or_report(&mut self, now: DateTime<Utc>, bytes: &[u8]) {
        let _ = self.output(now, bytes);
    }

    /// Writes output as it came: prefixes each new line, splits long ones,
    /// and writes a trailing partial line at once (continued next time).
    pub fn output(&mut self, now: DateTime<Utc>, mut bytes: &[u8]) -> Result<(), IoError> {
        if self.broken {
            return Ok(());
        }
        let line_len = self.line_len;
        self.out.clear();
        while !bytes.is_empty() {
            if self.line_len == 0 {
                self.push_prefix(now);
            }
            let room = MAX_LINE_BYTES - self.line_len;
            let (take, ends_line) = match bytes[..bytes.len().min(room)].iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None if bytes.len() >= room => (room, true),
                None => (bytes.len(), false),
            };
            self.out.extend_from_slice(&bytes[..take]);
            if ends_line {
                if self.out.last() != Some(&b'\n') {
                    self.out.push(b'\n');
                }
                self.line_len = 0;
            } else {
                self.line_len += take;
            }
            bytes = &bytes[take..];
        }
        self.flush_out(now, line_len)
    }

    /// True once a write failed: the run cannot end `success`.
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// Ends the log: the last line closed, fsync, rename to `$ID.$COUNTER.$STATUS`.
    /// Followers then see `Ended(status)`. Returns the final path and the
    /// status the run ended with: `status`, except that a run whose log
    /// could not be written, wholly and durably, did not succeed.
    /// Only a failed rename is an error (the log then keeps its `.running` name).
    pub fn finish(mut self, status: JobStatus) -> Result<(PathBuf, JobStatus), IoError> {
        if self.line_len > 0 && !self.broken {
            match self.file.write_all(b"\n") {
                Ok(()) => self.written += 1,
                Err(e) => self.break_log(None, self.line_len, &IoError::at("write log", &self.path)(e)),
            }
        }
        if let Err(e) = self.file.sync_all() {
            self.break_log(None, 0, &IoError::at("fsync log", &self.path)(e));
        }
        let status = if self.broken && status == JobStatus::Success { JobStatus::Failed } else { status };
        let done = self.dir.join(file_name(&self.id, self.counter, status));
        fs::rename(&self.path, &done).map_err(IoError::at("rename log", &self.path))?;
        // The rename is done and visible; only its durability across a power loss is in doubt.
        if let Err(e) = sync_dir(&self.dir) {
            tracing::error!(job.id = %self.id, run.counter = self.counter, error = %e, "run log renamed but not fsynced");
        }
        self.progress.send_replace((self.written, RunState::Ended(status)));
        Ok((done, status))
    }

    fn push_prefix(&mut self, now: DateTime<Utc>) {
        let sec = now.timestamp();
        if self.stamp.0 != sec {
            self.stamp = (sec, prefix(now, self.kind, &self.id));
        }
        self.out.extend_from_slice(self.stamp.1.as_bytes());
    }

    /// Writes `out`; `line_len` is how much of a line the file ended with
    /// before it (the note of a failed write must start on a line of its own).
    fn flush_out(&mut self, now: DateTime<Utc>, line_len: usize) -> Result<(), IoError> {
        if let Err(e) = self.file.write_all(&self.out) {
            let e = IoError::at("write log", &self.path)(e);
            self.break_log(Some(now), line_len, &e);
            return Err(e);
        }
        self.written += self.out.len() as u64;
        // Keep the buffer from growing to the largest chunk ever seen.
        if self.out.capacity() > 4 * MAX_LINE_BYTES {
            self.out = Vec::new();
        }
        self.progress.send_replace((self.written, RunState::Running));
        Ok(())
    }

    /// After a failed write: cuts the torn part of it off (so no line loses
    /// its prefix and followers never see bytes that were not announced),
    /// adds one line saying why if `now` is given and it fits, reports the
    /// failure once, and stops all further writes.
    fn break_log(&mut self, now: Option<DateTime<Utc>>, line_len: usize, e: &IoError) {
        if self.broken {
            return;
        }
        self.broken = true;
        self.out = Vec::new();
        tracing::error!(
            job.id = %self.id,
            run.counter = self.counter,
            error = %e,
            "cannot write the run log; the rest of the run's output is dropped and the run is marked failed"
        );
        let Some(now) = now else { return };
        let sep = if line_len > 0 { "\n" } else { "" };
        let why = format!(
            "{sep}{}{BROKEN_NOTE}: {}; the rest of the output is dropped and the run is marked failed\n",
            prefix(now, self.kind, &self.id),
            e.source
        );
        let at = self.written;
        let cut = |f: &mut File| f.set_len(at).and_then(|()| f.seek(SeekFrom::Start(at)));
        if cut(&mut self.file).and_then(|_| self.file.write_all(why.as_bytes())).is_ok() {
            self.written += why.len() as u64;
            self.line_len = 0;
            self.progress.send_replace((self.written, RunState::Running));
        } else if let Err(e) = cut(&mut self.file) {
            tracing::error!(path = %self.path.display(), error = %e, "cannot cut a torn write off a run log");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 2, 29, 23, 59, 58).unwrap()
    }

    #[test]
    fn names_round_trip_and_strangers_are_ignored() {
        let id = JobId::from_name("a.b");
        assert_eq!(id.as_str(), "a_b");
        let id = JobId::from_name("job");
        assert_eq!(parse_name(&id, &file_name(&id, 12, JobStatus::Success)), Some((12, JobStatus::Success)));
        for bad in ["job.x.success", "job.1", "job.1.done", "jobs.1.success", "job..success", "job.+1.failed"] {
            assert_eq!(parse_name(&id, bad), None, "{bad}");
        }
    }

    #[test]
    fn output_is_prefixed_split_and_partial_lines_continue() {
        let dir = tempfile::tempdir().unwrap();
        let id = JobId::from_name("j");
        let mut log = RunLog::create(dir.path(), JobKind::Job, &id, 1).unwrap();
        log.line(t0(), "=== BEGIN").unwrap();
        log.output(t0(), b"one\ntw").unwrap();
        log.output(t0(), b"o\n").unwrap();
        log.output(t0(), b"three").unwrap();
        log.line(t0(), "=== DONE").unwrap();
        let long = vec![b'x'; MAX_LINE_BYTES + 10];
        log.output(t0(), &long).unwrap();
        let rx = log.subscribe();
        let (path, status) = log.finish(JobStatus::Success).unwrap();
        assert_eq!(status, JobStatus::Success);
        assert!(path.ends_with("j.1.success"));
        let text = fs::read_to_string(&path).unwrap();
        let p = "2024-02-29 23:59:58 UTC job: j: ";
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            &lines[..5],
            [
                &format!("{p}=== BEGIN")[..],
                &format!("{p}one"),
                &format!("{p}two"),
                &format!("{p}three"),
                &format!("{p}=== DONE")
            ]
        );
        assert_eq!(lines[5].len(), p.len() + MAX_LINE_BYTES);
        assert_eq!(lines[6], format!("{p}xxxxxxxxxx"));
        assert_eq!(*rx.borrow(), (text.len() as u64, RunState::Ended(JobStatus::Success)));
    }

    #[test]
    fn recovery_marks_running_failed_and_keeps_strangers() {
        let dir = tempfile::tempdir().unwrap();
        let id = JobId::from_name("j");
        for name in ["j.1.success", "j.2.failed", "j.3.running", "j.x.success", "notes.txt"] {
            fs::write(dir.path().join(name), "old\n").unwrap();
        }
        let r = recover(dir.path(), JobKind::Job, &id, t0()).unwrap();
        let got: Vec<(u64, JobStatus)> = r.logs.iter().map(|l| (l.counter, l.status)).collect();
        assert_eq!(got, [(1, JobStatus::Success), (2, JobStatus::Failed), (3, JobStatus::Failed)]);
        let text = fs::read_to_string(dir.path().join("j.3.failed")).unwrap();
        assert!(text.starts_with("old\n2024-02-29 23:59:58 UTC job: j: !!!"), "{text}");
        assert!(text.trim_end().ends_with(STOPPED_NOTE), "{text}");
        assert!(dir.path().join("j.x.success").exists() && dir.path().join("notes.txt").exists());
        assert!(r.last_run.is_some());
    }

    #[test]
    fn recovery_drops_a_line_torn_inside_its_prefix_and_closes_one_torn_in_its_text() {
        let dir = tempfile::tempdir().unwrap();
        let id = JobId::from_name("j");
        let p = "2024-02-29 23:59:58 UTC job: j: ";
        fs::write(dir.path().join("j.1.running"), format!("{p}one\n2024-02-2")).unwrap();
        fs::write(dir.path().join("j.2.running"), format!("{p}one\n{p}tw")).unwrap();
        fs::write(dir.path().join("j.3.running"), "2024").unwrap();
        recover(dir.path(), JobKind::Job, &id, t0()).unwrap();
        let read = |n: &str| fs::read_to_string(dir.path().join(n)).unwrap();
        assert_eq!(read("j.1.failed"), format!("{p}one\n{p}{STOPPED_NOTE}\n"));
        assert_eq!(read("j.2.failed"), format!("{p}one\n{p}tw\n{p}{STOPPED_NOTE}\n"));
        assert_eq!(read("j.3.failed"), format!("{p}{STOPPED_NOTE}\n"));
    }

    #[test]
    fn retention_deletes_the_oldest() {
        let dir = tempfile::tempdir().unwrap();
        let id = JobId::from_name("j");
        for c in 1..=4 {
            fs::write(dir.path().join(file_name(&id, c, JobStatus::Success)), "").unwrap();
        }
        let mut kept = scan(dir.path(), &id).unwrap();
        let expired = expire(&mut kept, 2);
        assert_eq!(kept.iter().map(|l| l.counter).collect::<Vec<_>>(), [3, 4]);
        assert_eq!(scan(dir.path(), &id).unwrap().len(), 4, "nothing is deleted before `delete`");
        expired.delete();
        assert_eq!(scan(dir.path(), &id).unwrap(), kept);
    }
}
