//! cgroup v2 groups for runs: where the v2 hierarchy is mounted (read from
//! `/proc/self/mountinfo`, never assumed: it may sit beside v1, as at
//! `/sys/fs/cgroup/unified`), the daemon's own group (`/proc/self/cgroup`),
//! and per run one leaf group under `OWN/karajo-HASH/` that the command's
//! shell joins before it execs, so every descendant is in it whatever it
//! does with its process group or session.
//!
//! Invariant: the daemon only creates, kills and removes groups under its
//! own `karajo-HASH` parent (HASH names the dir_base), and enables no
//! controller, so the "no internal processes" rule never applies.

use std::fs;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use super::procfs::{self, Stat};

/// The v2 mount point: the `cgroup2` line of `/proc/self/mountinfo`.
fn v2_mount() -> Option<PathBuf> {
    let info = fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let fstype = right.split_whitespace().next()?;
        let point = left.split_whitespace().nth(4)?;
        (fstype == "cgroup2").then(|| PathBuf::from(unescape(point)))
    })
}

/// mountinfo writes blanks and backslashes in paths as octal escapes.
fn unescape(s: &str) -> String {
    s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")
}

/// The daemon's own v2 group: the `0::PATH` line of `/proc/self/cgroup`.
fn own_group() -> Option<String> {
    let text = fs::read_to_string("/proc/self/cgroup").ok()?;
    text.lines().find_map(|l| l.strip_prefix("0::")).map(|p| p.trim_start_matches('/').to_string())
}

/// The parent of this daemon's run groups, created and probed: a child of
/// it can be made, joined by a process and killed (`cgroup.kill`).
pub fn parent(dir_base_hash: &str) -> io::Result<PathBuf> {
    let mount = v2_mount().ok_or_else(|| io::Error::other("no cgroup2 file system in /proc/self/mountinfo"))?;
    let own = own_group().ok_or_else(|| io::Error::other("no cgroup v2 line (0::) in /proc/self/cgroup"))?;
    let parent = mount.join(own).join(format!("karajo-{dir_base_hash}"));
    make(&parent)?;
    remove_empty_children(&parent);
    let probe = parent.join("probe");
    make(&probe)?;
    let joined = join_probe(&probe);
    let _ = fs::remove_dir(&probe);
    joined?;
    Ok(parent)
}

/// Groups whose processes have all gone (runs that left processes on
/// purpose, or a daemon killed mid-cleanup): the kernel refuses to remove
/// a group that still holds a process, so only empty ones go.
fn remove_empty_children(parent: &Path) {
    let Ok(entries) = fs::read_dir(parent) else { return };
    for e in entries.flatten().filter(|e| e.file_type().is_ok_and(|t| t.is_dir())) {
        let _ = fs::remove_dir(e.path());
    }
}

/// Runs `/bin/sh -c :` inside `probe`: the one sure test that processes may
/// join our groups (a delegated group with controllers would refuse).
fn join_probe(probe: &Path) -> io::Result<()> {
    if !probe.join("cgroup.kill").exists() {
        return Err(io::Error::other("cgroup.kill is missing (Linux 5.14 or later is needed)"));
    }
    let mut cmd = std::process::Command::new("/bin/sh");
    join_then_exec(&mut cmd, probe, ":".as_ref());
    let status = cmd.stdin(std::process::Stdio::null()).stderr(std::process::Stdio::null()).status()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!("a probe process in {} {status}", probe.display())))
    }
}

fn make(dir: &Path) -> io::Result<()> {
    match fs::create_dir(dir) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
            Err(io::Error::new(e.kind(), format!("create cgroup {}: {e}", dir.display())))
        }
        _ => Ok(()),
    }
}

/// Creates a run's group.
pub fn create(dir: &Path) -> io::Result<()> {
    make(dir)
}

/// What a run's shell is started with in a group: it joins the group
/// named by `$1` (writes "0", itself, to its `cgroup.procs`), then execs
/// `/bin/sh -c "$2"` under the same pid, so the command starts inside.
/// Without a `pre_exec` hook std starts it with posix_spawn (a vfork):
/// a fork copies karajod's page tables and leaves every thread of the
/// daemon copy-on-write faults, which made timers late under many runs.
const JOIN_THEN_EXEC: &str =
    r#"echo 0 >"$1" || { echo "karajod: the run could not join its cgroup $1" >&2; exit 125; }; exec /bin/sh -c "$2""#;

/// Gives `cmd` (a `/bin/sh`) the arguments that make it join `dir` and
/// then run `script` (see [`JOIN_THEN_EXEC`]); the command's `$0` and
/// environment are what a plain `/bin/sh -c script` would have.
pub fn join_then_exec(cmd: &mut std::process::Command, dir: &Path, script: &std::ffi::OsStr) {
    cmd.args(["-c", JOIN_THEN_EXEC, "karajo"]).arg(dir.join("cgroup.procs")).arg(script);
}

/// Opens `cgroup.procs` for writing, before the fork: the child then only
/// writes to an open descriptor, which is safe between fork and exec.
pub fn open_procs(dir: &Path) -> io::Result<OwnedFd> {
    let p = dir.join("cgroup.procs");
    let f = fs::OpenOptions::new()
        .write(true)
        .open(&p)
        .map_err(|e| io::Error::new(e.kind(), format!("open {}: {e}", p.display())))?;
    Ok(f.into())
}

/// Makes the command's process join the group (by `procs`, see [`open_procs`])
/// before it execs; the descriptor must stay open until the spawn returns.
/// Only for a run that changes identity: its shell could not open
/// `cgroup.procs` itself, and the hook makes std fork.
pub fn prepare(cmd: &mut std::process::Command, procs: &OwnedFd) {
    use std::os::unix::process::CommandExt;
    let fd = procs.as_raw_fd();
    // SAFETY: write(2) on an open descriptor is async-signal-safe and
    // allocates nothing; "0" means the writing process itself.
    unsafe {
        cmd.pre_exec(move || {
            let n = nix::libc::write(fd, b"0".as_ptr().cast(), 1);
            if n == 1 { Ok(()) } else { Err(io::Error::last_os_error()) }
        });
    }
}

/// The processes in the group and its subgroups (a root job may make some).
pub fn members(dir: &Path) -> Vec<Stat> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        if let Ok(text) = fs::read_to_string(d.join("cgroup.procs")) {
            out.extend(
                text.split_whitespace().filter_map(|p| p.parse().ok()).filter_map(procfs::stat).filter(|s| !s.zombie),
            );
        }
        if let Ok(entries) = fs::read_dir(&d) {
            todo.extend(entries.flatten().filter(|e| e.file_type().is_ok_and(|t| t.is_dir())).map(|e| e.path()));
        }
    }
    out
}

/// SIGKILL to every process of the group and its subgroups, at once.
pub fn kill(dir: &Path) -> io::Result<()> {
    fs::OpenOptions::new().write(true).open(dir.join("cgroup.kill"))?.write_all(b"1")
}

/// Removes the group (subgroups first); an error when a process is left.
pub fn remove(dir: &Path) -> io::Result<()> {
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten().filter(|e| e.file_type().is_ok_and(|t| t.is_dir())) {
            remove(&e.path())?;
        }
    }
    match fs::remove_dir(dir) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn mount_paths_are_unescaped() {
        assert_eq!(super::unescape("/a\\040b"), "/a b");
    }
}
