//! Run logs that cannot be written: the daemon under a small
//! `RLIMIT_FSIZE` (EFBIG), and a job whose log folder is a tiny full tmpfs
//! (ENOSPC). The run ends `failed`, the reason is on the daemon's stderr
//! and, when it fits, as the log's last line; the daemon lives on and
//! keeps serving: the API answers, other jobs run, pause/resume work.

use std::time::Duration;

use super::{api_log, api_runs, assert_lines_prefixed, get_json, http, logs_on_disk, signed_action};
use crate::harness::{Daemon, Launch, Stderr, Tree, log_dir, wait_for, wait_run_end};

const LIMIT: Duration = Duration::from_secs(30);
const CONF: &str = "[karajo]\nsecret = s3cret\n\
[job \"big\"]\ncommand = seq -f 'a line of a flood of output %g' 1 100000\ncommand = echo after the flood\n\
[job \"small\"]\ncommand = echo the small job ran\n";
/// The daemon's `RLIMIT_FSIZE`: a few hundred lines of the flood.
const FSIZE_BYTES: u64 = 64 * 1024;
/// The tmpfs that holds the big job's logs.
const TMPFS_BYTES: u64 = 256 * 1024;
/// The log line that says why (store::log::BROKEN_NOTE) and its longest form.
const BROKEN: &str = "!!! cannot write this log: ";
const BROKEN_LINE_MAX: u64 = 200;

#[test]
fn a_log_past_the_file_size_limit_fails_the_run_and_the_daemon_lives_on() {
    let tree = Tree::new(CONF);
    // The history database is made first, without the limit: the limit is
    // the whole daemon's, and the migrations write more than it to the WAL.
    let (mut first, _) = Daemon::launch(&tree, &Launch::default());
    assert!(first.signal_and_wait(nix::sys::signal::Signal::SIGTERM).success());
    let opts = Launch { fsize_limit: Some(FSIZE_BYTES), ..Default::default() };
    let (mut d, stderr) = Daemon::launch(&tree, &opts);
    check_unwritable_log(&tree, &mut d, &stderr, "File too large", FSIZE_BYTES);
    // The limit hits again and again, never the daemon.
    assert_eq!(signed_action(http(), &d, "run", "big").0, 200);
    let (status, _) = wait_run_end(&tree, "job", "big", 2, LIMIT);
    assert_eq!(status, "failed");
    assert!(d.child.try_wait().unwrap().is_none(), "karajod died");
}

#[test]
fn a_full_disk_fails_the_run_and_the_daemon_lives_on() {
    let tree = Tree::new(CONF);
    let dir = log_dir(&tree, "job", "big");
    std::fs::create_dir_all(&dir).unwrap();
    let Some(_mount) = Tmpfs::mount(&dir, TMPFS_BYTES) else { return };
    let (mut d, stderr) = Daemon::launch(&tree, &Launch::default());
    check_unwritable_log(&tree, &mut d, &stderr, "No space left on device", TMPFS_BYTES);
}

/// Runs `big` (its log cannot hold the flood) and checks what a user sees,
/// then that the daemon still does everything else.
fn check_unwritable_log(tree: &Tree, d: &mut Daemon, stderr: &Stderr, os_error: &str, room: u64) {
    assert_eq!(signed_action(http(), d, "run", "big").0, 200);
    let (status, text) = wait_run_end(tree, "job", "big", 1, LIMIT);
    assert_eq!(status, "failed", "{}", super::tail(&text));
    assert!(!text.contains("after the flood") && !text.contains("=== DONE"), "{}", super::tail(&text));
    // The reason is the last line, unless the log stopped within a line of the limit.
    let last = text.lines().last().unwrap_or("");
    match last.find(BROKEN) {
        Some(at) => {
            assert!(last[at..].contains(os_error), "{last}");
            assert_lines_prefixed(&text, "job", "big", true, "big.1");
        }
        None => assert!(
            text.len() as u64 > room - BROKEN_LINE_MAX,
            "no reason in a log of {} bytes (room {room}): {last:?}",
            text.len()
        ),
    }
    assert!(text.len() as u64 <= room, "the log outgrew the limit: {} bytes", text.len());
    // The daemon's own log says which job, which run, which file and why, once.
    let said = |t: &str| t.lines().filter(|l| l.contains("cannot write the run log")).map(str::to_string).collect();
    let mut lines: Vec<String> = Vec::new();
    wait_for(LIMIT, "the error on karajod's stderr", || {
        lines = said(&stderr.text());
        !lines.is_empty()
    });
    assert_eq!(lines.len(), 1, "reported more than once: {lines:#?}");
    for want in ["job.id", "big", "run.counter", "big.1.running", os_error] {
        assert!(lines[0].contains(want), "{want:?} missing from {:?}", lines[0]);
    }
    assert!(d.child.try_wait().unwrap().is_none(), "karajod died");
    // The API shows the failure (once the run's end reached the job: the
    // log is renamed first) and the log as it is on disk.
    wait_for(LIMIT, "the API to show the failed run", || api_runs(d, "big").0 != "running");
    assert_eq!(api_runs(d, "big"), ("failed".to_string(), vec![(1, "failed".to_string())]));
    assert_eq!(api_log(d, "big", 1), ("failed".to_string(), text.into_bytes()));
    assert_eq!(get_json(d, "/karajo/health").0, 200);
    // Another job runs and succeeds; pause and resume still work.
    assert_eq!(signed_action(http(), d, "run", "small").0, 200);
    let (status, text) = wait_run_end(tree, "job", "small", 1, LIMIT);
    assert_eq!(status, "success", "{text}");
    assert!(text.contains("job: small: the small job ran\n"), "{text}");
    let (code, v) = signed_action(http(), d, "pause", "small");
    assert_eq!((code, v["data"]["status"].as_str()), (200, Some("paused")));
    let (code, v) = signed_action(http(), d, "run", "small");
    assert_eq!((code, v["name"].as_str()), (412, Some("ERR_JOB_PAUSED")));
    let (code, v) = signed_action(http(), d, "resume", "small");
    assert_eq!((code, v["data"]["status"].as_str()), (200, Some("success")));
    assert_eq!(logs_on_disk(tree, "small").len(), 1, "a paused job ran");
}

/// A tmpfs of a given size mounted on a folder; lazily unmounted on drop.
pub struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    /// `None` where mounting is not permitted: the test is then SKIPPED, or
    /// fails under CI (see `tool`).
    pub fn mount(dir: &std::path::Path, bytes: u64) -> Option<Tmpfs> {
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes},mode=0700"), "tmpfs"])
            .arg(dir)
            .output();
        let why = match out {
            Ok(o) if o.status.success() => return Some(Tmpfs(dir.to_path_buf())),
            Ok(o) => format!("cannot mount a tmpfs here: {}", String::from_utf8_lossy(&o.stderr).trim()),
            Err(e) => format!("cannot run mount: {e}"),
        };
        crate::tool::missing(&format!("the ENOSPC case needs a tmpfs mount (root): {why}"));
        None
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
    }
}
