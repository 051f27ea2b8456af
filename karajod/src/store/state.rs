//! Pause flags: `$dir_base/var/lib/karajo/state/{job,job_http}/$ID` exists
//! while the job is paused. Written to a temp name, fsynced and renamed,
//! so a crash leaves either the old or the new state, never half of one.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

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

/// Writes or removes the job's pause flag, durably.
pub fn set_paused(dir_base: &Path, kind: JobKind, id: &JobId, paused: bool) -> Result<(), IoError> {
    let dir = state_dir(dir_base, kind);
    let path = dir.join(id.as_str());
    if paused {
        ensure_dir(&dir)?;
        let tmp = dir.join(format!(".{id}.tmp"));
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
}
