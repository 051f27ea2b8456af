//! One run's processes: finding them (its cgroup, or in subreaper mode
//! its shell's subtree and the orphans that carry its tag or sit in its
//! process groups) and ending them the way systemd stops a unit.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::procfs::{self, Stat};
use super::{KILL_WAIT, POLL, Processes, cgroup, record};

/// One run's processes.
pub(crate) struct RunProcs {
    procs: Arc<Processes>,
    tag: String,
    /// `KARAJO_RUN_TAG=...` as it appears in `/proc/PID/environ`.
    entry: Vec<u8>,
    cgroup: Option<PathBuf>,
    record: Option<record::Record>,
    /// The process groups of its commands (each shell leads one).
    groups: Vec<i32>,
    /// Processes seen as the run's (subreaper mode), by pid.
    known: HashMap<i32, Stat>,
    /// The shell of the command running now.
    shell: Option<i32>,
}

impl RunProcs {
    pub(super) fn new(
        procs: Arc<Processes>,
        tag: String,
        entry: String,
        cgroup: Option<PathBuf>,
        record: record::Record,
    ) -> RunProcs {
        RunProcs {
            procs,
            tag,
            entry: entry.into_bytes(),
            cgroup,
            record: Some(record),
            groups: Vec::new(),
            known: HashMap::new(),
            shell: None,
        }
    }

    /// The `KARAJO_RUN_TAG` value of this run.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// A cheap clone of what spawning needs, for `spawn_blocking`.
    pub fn spawner(&self) -> (Arc<Processes>, Option<PathBuf>) {
        (self.procs.clone(), self.cgroup.clone())
    }

    /// A command's shell started: its group goes into the record.
    pub fn started(&mut self, pid: i32) {
        self.shell = Some(pid);
        self.groups.push(pid);
        if let (Some(r), Some(s)) = (self.record.as_mut(), procfs::stat(pid))
            && let Err(e) = r.add_group(pid, s.start, &self.procs.boot)
        {
            tracing::warn!(error = %e, "cannot record a run's process group");
        }
    }

    /// The shell was reaped by tokio: its pid may be reused from now on.
    pub fn shell_ended(&mut self, pid: i32) {
        self.procs.lock_shells().remove(&pid);
        if self.shell == Some(pid) {
            self.shell = None;
        }
    }

    /// The run's live processes now.
    pub fn members(&mut self) -> Vec<Stat> {
        if let Some(dir) = &self.cgroup {
            // The shell joins its group itself, just after it starts
            // (cgroup::join_then_exec): until then it is only our child.
            let mut out = cgroup::members(dir);
            if let Some(shell) = self.shell.and_then(procfs::stat)
                && !shell.zombie
                && !out.iter().any(|m| m.pid == shell.pid)
            {
                out.push(shell);
            }
            return out;
        }
        self.procs.reap_orphans();
        let shells = self.procs.lock_shells().clone();
        let mut out = Vec::new();
        for pid in procfs::children(self.procs.me) {
            let Some(s) = procfs::stat(pid) else { continue };
            let ours = if Some(pid) == self.shell {
                true
            } else if shells.contains(&pid) || s.zombie {
                false
            } else {
                self.known.get(&pid).is_some_and(|k| k.start == s.start)
                    || self.groups.contains(&s.pgid)
                    || procfs::has_env(pid, &self.entry)
            };
            if ours {
                out.extend(procfs::subtree(pid));
            }
        }
        self.known = out.iter().map(|s| (s.pid, *s)).collect();
        out
    }

    /// Ends every process of the run: SIGTERM, SIGKILL after `grace`.
    /// Blocking (it waits): call from `spawn_blocking`. Returns how many
    /// processes it signalled.
    pub fn stop(&mut self, grace: Duration) -> usize {
        let cgroup = self.cgroup.clone();
        end(
            grace,
            || self.members(),
            || {
                if let Some(dir) = &cgroup {
                    let _ = cgroup::kill(dir);
                }
            },
        )
    }

    /// The run is over: its group and record go. With `leave` (or when a
    /// process could not be ended) the group stays for what is left, and
    /// the record goes so no later start ends those processes.
    pub fn release(mut self) {
        if let Some(dir) = self.cgroup.take()
            && let Err(e) = cgroup::remove(&dir)
        {
            tracing::debug!(group = %dir.display(), error = %e, "run group kept: processes were left in it");
        }
        if let Some(r) = self.record.take() {
            r.remove();
        }
    }
}

impl Drop for RunProcs {
    fn drop(&mut self) {
        if let Some(pid) = self.shell.take() {
            self.procs.lock_shells().remove(&pid);
        }
    }
}

/// TERM to every member once (new ones too, as they appear), until none is
/// left or `grace` passed; then `kill_all` and KILL to each, until none is
/// left or [`KILL_WAIT`] passed. Returns how many processes were signalled.
pub(crate) fn end(grace: Duration, mut members: impl FnMut() -> Vec<Stat>, mut kill_all: impl FnMut()) -> usize {
    let mut hit: HashSet<(i32, u64)> = HashSet::new();
    let deadline = Instant::now() + grace;
    let mut m = members();
    while !m.is_empty() && Instant::now() < deadline {
        for p in &m {
            if hit.insert((p.pid, p.start)) {
                procfs::signal(p, Signal::SIGTERM);
            }
        }
        std::thread::sleep(POLL);
        m = members();
    }
    let hard = Instant::now() + KILL_WAIT;
    while !m.is_empty() {
        kill_all();
        for p in &m {
            hit.insert((p.pid, p.start));
            procfs::signal(p, Signal::SIGKILL);
        }
        if Instant::now() >= hard {
            tracing::error!(left = m.len(), "processes survived SIGKILL (stuck in the kernel?)");
            break;
        }
        std::thread::sleep(POLL / 2);
        m = members();
    }
    hit.len()
}
