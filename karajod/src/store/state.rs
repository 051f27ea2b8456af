//! Pause flags: `$dir_base/var/lib/karajo/state/{job,job_http}/$ID` exists
//! while the job is paused. Written to a temp name, fsynced and renamed,
//! so a crash leaves either the old or the new state, never half of one.
//!
//! Invariants: each write has a temp name of its own, so concurrent calls
//! for one job never rename each other's file away; a call that finds the
//! flag already as asked writes nothing (pausing a paused job costs no fsync).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use proto::{JobId, JobKind};

use super::{IoError, ensure_dir, sync_dir};

/// Where the pause flags of one kind of job live.
pub fn state_dir(dir_base: &Path, kind: JobKind) -> PathBuf {
    dir_base.join("var/lib/karajo/state").join(kind.as_str())
}

/// True when the job's pause flag is on disk.
pub fn is_paused(dir_base: &Path, kind: JobKind, id: &JobId) -> bool {
    state_dir(dir_base, kind).join(id.as_str()).is_file()
}

/// Removes the temp files a killed daemon left mid-write (`.ID.PID.N.tmp`):
/// the flag they were for was either renamed in place or never reported.
pub fn remove_temp_files(dir_base: &Path) {
    for kind in [JobKind::Job, JobKind::JobHttp] {
        let Ok(entries) = fs::read_dir(state_dir(dir_base, kind)) else { continue };
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') && name.ends_with(".tmp") {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

/// Numbers the temp files of this process.
static NEXT_TMP: AtomicU64 = AtomicU64::new(0);

/// Writes or removes the job's pause flag, durably.
pub fn set_paused(dir_base: &Path, kind: JobKind, id: &JobId, paused: bool) -> Result<(), IoError> {
    let dir = state_dir(dir_base, kind);
    let path = dir.join(id.as_str());
    if paused {
        if path.is_file() {
            return Ok(());
        }
        ensure_dir(&dir)?;
        let n = NEXT_TMP.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{id}.{}.{n}.tmp", std::process::id()));
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(IoError::at("create pause flag", &tmp))?;
        f.write_all(b"paused\n").and_then(|()| f.sync_all()).map_err(IoError::at("write pause flag", &tmp))?;
        fs::rename(&tmp, &path).map_err(IoError::at("rename pause flag", &tmp))?;
    } else {
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(IoError::at("remove pause flag", &path)(e)),
        }
    }
    sync_dir(&dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pause_flags_round_trip() {
        let base = tempfile::tempdir().unwrap();
        let id = JobId::from_name("j");
        assert!(!is_paused(base.path(), JobKind::Job, &id));
        set_paused(base.path(), JobKind::Job, &id, true).unwrap();
        assert!(is_paused(base.path(), JobKind::Job, &id));
        assert!(!is_paused(base.path(), JobKind::JobHttp, &id));
        set_paused(base.path(), JobKind::Job, &id, false).unwrap();
        set_paused(base.path(), JobKind::Job, &id, false).unwrap();
        assert!(!is_paused(base.path(), JobKind::Job, &id));
    }

    #[test]
    fn concurrent_pauses_of_one_job_all_succeed() {
        // Found by bench/api.sh: with one temp name per job, concurrent
        // pauses renamed each other's temp file away and answered 500.
        let base = tempfile::tempdir().unwrap();
        let id = JobId::from_name("j");
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..50 {
                        set_paused(base.path(), JobKind::Job, &id, true).unwrap();
                        set_paused(base.path(), JobKind::Job, &id, false).unwrap();
                    }
                    set_paused(base.path(), JobKind::Job, &id, true).unwrap();
                });
            }
        });
        assert!(is_paused(base.path(), JobKind::Job, &id));
        let dir = state_dir(base.path(), JobKind::Job);
        let names: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("j")], "no temp file left behind");
    }

    #[test]
    fn temp_files_of_a_killed_daemon_go_and_flags_stay() {
        let base = tempfile::tempdir().unwrap();
        let id = JobId::from_name("j");
        set_paused(base.path(), JobKind::Job, &id, true).unwrap();
        let dir = state_dir(base.path(), JobKind::Job);
        fs::write(dir.join(".j.123.0.tmp"), "paused\n").unwrap();
        remove_temp_files(base.path());
        let names: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("j")]);
    }

    #[test]
    fn pausing_a_paused_job_rewrites_nothing() {
        use std::os::unix::fs::MetadataExt;
        let base = tempfile::tempdir().unwrap();
        let id = JobId::from_name("j");
        set_paused(base.path(), JobKind::Job, &id, true).unwrap();
        let flag = state_dir(base.path(), JobKind::Job).join("j");
        let before = fs::metadata(&flag).unwrap().ino();
        set_paused(base.path(), JobKind::Job, &id, true).unwrap();
        assert_eq!(fs::metadata(&flag).unwrap().ino(), before, "the flag was replaced");
    }
}
