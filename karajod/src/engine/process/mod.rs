//! Every process a run starts ends with it. Two ways to know a run's
//! processes, chosen once at start ([`Tracking`]):
//!
//! - `cgroup`: one cgroup v2 group per run (see `cgroup`); the shell joins
//!   it before it runs the command (a run as another user: before exec), so
//!   nothing the run starts can leave it; `cgroup.kill` ends them all, and
//!   a shell that has not joined yet is ended as our child.
//! - `subreaper`: karajod is the child subreaper (`PR_SET_CHILD_SUBREAPER`),
//!   so a process that leaves its group or session and loses its parent is
//!   handed to karajod, never to init. A run's processes are its shell's
//!   subtree plus the orphans karajod was handed that carry the run's
//!   [`TAG_ENV`] or sit in one of its process groups. Orphans are reaped here.
//!
//! Ending ([`RunProcs::stop`]) is what systemd does to a unit: SIGTERM to
//! every process once, SIGKILL to all after the grace, and the run's
//! record (`record`) lets the next daemon do the same after a `kill -9`
//! (`recover`).
//!
//! Invariants: a process is only signalled while it is the one seen (pid
//! and start time); the shells tokio spawned are never reaped here (their
//! pids are registered before the spawn count drops, and no orphan is
//! reaped while a spawn is under way).

mod cgroup;
mod identity;
mod procfs;
mod record;
mod recover;
mod run;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proto::{JobId, JobKind};

pub(crate) use recover::end_old_runs;
pub(crate) use run::RunProcs;
use run::end;

/// The variable every command of a run gets: `DIRHASH:KIND:ID:COUNTER`.
pub const TAG_ENV: &str = "KARAJO_RUN_TAG";
/// How long a process has between SIGTERM and SIGKILL, by default.
pub const KILL_GRACE: Duration = Duration::from_secs(5);
/// After SIGKILL, how long the kernel gets to take the processes away.
const KILL_WAIT: Duration = Duration::from_secs(1);
/// How often a stop looks again whether the processes are gone.
const POLL: Duration = Duration::from_millis(20);

/// How karajod finds a run's processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tracking {
    /// A cgroup per run when one can be made, else the subreaper.
    Auto,
    /// A cgroup per run, or the daemon does not start.
    Cgroup,
    /// The child subreaper, even where cgroups would work.
    Subreaper,
}

impl Tracking {
    pub fn parse(s: &str) -> Option<Tracking> {
        match s.trim() {
            "auto" | "" => Some(Tracking::Auto),
            "cgroup" => Some(Tracking::Cgroup),
            "subreaper" => Some(Tracking::Subreaper),
            _ => None,
        }
    }
}

/// Process control settings (injected, see `EngineOptions`).
#[derive(Debug, Clone, Copy)]
pub struct ProcessOptions {
    pub tracking: Tracking,
    /// SIGTERM to SIGKILL.
    pub kill_grace: Duration,
}

impl Default for ProcessOptions {
    fn default() -> ProcessOptions {
        ProcessOptions { tracking: Tracking::Auto, kill_grace: KILL_GRACE }
    }
}

/// Why process tracking could not be set up as asked.
#[derive(Debug)]
pub struct ProcessError {
    pub what: &'static str,
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// The engine's process tracking, shared by every run.
pub(crate) struct Processes {
    /// The parent of the run groups, in cgroup mode.
    cgroups: Option<PathBuf>,
    hash: String,
    records: PathBuf,
    pub(super) boot: String,
    pub(super) me: i32,
    pub kill_grace: Duration,
    /// Live shells spawned by tokio (tokio reaps them, never us).
    shells: Mutex<HashSet<i32>>,
    spawning: AtomicUsize,
}

impl Processes {
    /// Sets tracking up for a dir_base: the cgroup parent, or the subreaper.
    pub fn new(dir_base: &Path, opts: ProcessOptions) -> Result<Processes, ProcessError> {
        let abs = std::path::absolute(dir_base).unwrap_or_else(|_| dir_base.to_path_buf());
        let hash = dir_hash(&abs);
        let cgroups = match opts.tracking {
            Tracking::Subreaper => None,
            Tracking::Cgroup => Some(cgroup::parent(&hash).map_err(|source| ProcessError {
                what: "set up a cgroup per run (KARAJOD_PROCESS_TRACKING=cgroup) under",
                path: "/proc/self/cgroup".into(),
                source,
            })?),
            Tracking::Auto => match cgroup::parent(&hash) {
                Ok(p) => Some(p),
                Err(e) => {
                    tracing::info!(error = %e, "no cgroup per run; karajod ends leftover processes as child subreaper");
                    None
                }
            },
        };
        if cgroups.is_none() {
            nix::sys::prctl::set_child_subreaper(true).map_err(|e| ProcessError {
                what: "become child subreaper for",
                path: abs.clone(),
                source: e.into(),
            })?;
        }
        let p = Processes {
            cgroups,
            hash,
            records: record::dir(dir_base),
            boot: procfs::boot_id(),
            me: std::process::id() as i32,
            kill_grace: opts.kill_grace,
            shells: Mutex::new(HashSet::new()),
            spawning: AtomicUsize::new(0),
        };
        tracing::info!(mode = p.mode(), "process tracking");
        Ok(p)
    }

    /// `cgroup` or `subreaper`.
    pub fn mode(&self) -> &'static str {
        if self.cgroups.is_some() { "cgroup" } else { "subreaper" }
    }

    /// Tracking for one run: its group (cgroup mode) and its record, both
    /// made before any of its processes exist.
    pub fn run(self: &Arc<Self>, kind: JobKind, id: &JobId, counter: u64) -> std::io::Result<RunProcs> {
        let name = format!("{}.{id}.{counter}", kind.as_str());
        let tag = format!("{}:{}:{id}:{counter}", self.hash, kind.as_str());
        let cgroup = match &self.cgroups {
            Some(parent) => {
                let dir = parent.join(&name);
                cgroup::create(&dir)?;
                Some(dir)
            }
            None => None,
        };
        let entry = format!("{TAG_ENV}={tag}");
        let record = record::Record::create(&self.records, &name, &entry, cgroup.as_deref())?;
        Ok(RunProcs::new(self.clone(), tag, entry, cgroup, record))
    }

    /// Spawns `/bin/sh -c script` into the run's group (if any), set up
    /// by `setup` (directory, environment, pipes), and registers it as
    /// tokio's. Blocking (fork/exec): call from `spawn_blocking`.
    pub fn spawn(
        &self,
        cgroup: Option<&Path>,
        script: &str,
        run_as: Option<&crate::config::RunAs>,
        setup: impl FnOnce(&mut std::process::Command),
    ) -> std::io::Result<tokio::process::Child> {
        let mut cmd = std::process::Command::new("/bin/sh");
        let mut procs_fd = None;
        match (cgroup, run_as) {
            // The shell joins the group itself: no hook, so no fork.
            (Some(dir), None) => cgroup::join_then_exec(&mut cmd, dir, script.as_ref()),
            (Some(dir), Some(_)) => {
                cmd.arg("-c").arg(script);
                let fd = procs_fd.insert(cgroup::open_procs(dir)?);
                cgroup::prepare(&mut cmd, fd);
            }
            (None, _) => {
                cmd.arg("-c").arg(script);
            }
        }
        setup(&mut cmd);
        // Last: joining the cgroup above needs no privilege (the descriptor
        // was opened by us), the identity switch drops it.
        if let Some(r) = run_as {
            identity::prepare(&mut cmd, r);
        }
        self.spawning.fetch_add(1, Ordering::SeqCst);
        let child = tokio::process::Command::from(cmd).spawn();
        if let Ok(c) = &child
            && let Some(pid) = c.id()
        {
            self.lock_shells().insert(pid as i32);
        }
        self.spawning.fetch_sub(1, Ordering::SeqCst);
        child
    }

    pub(super) fn lock_shells(&self) -> std::sync::MutexGuard<'_, HashSet<i32>> {
        self.shells.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reaps the orphans karajod was handed that have exited (subreaper mode).
    pub fn reap_orphans(&self) {
        if self.cgroups.is_some() {
            return;
        }
        let zombies: Vec<i32> =
            procfs::children(self.me).into_iter().filter(|&p| procfs::stat(p).is_some_and(|s| s.zombie)).collect();
        // A shell being spawned may be a zombie before its pid is
        // registered: the next SIGCHLD or scan reaps what is left now.
        if zombies.is_empty() || self.spawning.load(Ordering::SeqCst) > 0 {
            return;
        }
        let orphans: Vec<i32> = {
            let shells = self.lock_shells();
            zombies.into_iter().filter(|p| !shells.contains(p)).collect()
        };
        for pid in orphans {
            let _ =
                nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), Some(nix::sys::wait::WaitPidFlag::WNOHANG));
        }
    }

    /// Reaps orphans on every SIGCHLD until `stop` (subreaper mode).
    pub async fn reap_on_sigchld(self: Arc<Self>, stop: tokio_util::sync::CancellationToken) {
        if self.cgroups.is_some() {
            return;
        }
        let Ok(mut sig) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::child()) else { return };
        loop {
            tokio::select! {
                _ = sig.recv() => {}
                _ = stop.cancelled() => return,
            }
            let me = self.clone();
            let _ = tokio::task::spawn_blocking(move || me.reap_orphans()).await;
        }
    }

    /// At shutdown: the cgroup parent goes if no group is left in it.
    pub fn close(&self) {
        if let Some(parent) = &self.cgroups {
            let _ = std::fs::remove_dir(parent);
        }
    }
}

/// A short stable name for a dir_base: its groups and tags carry it.
fn dir_hash(abs: &Path) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(abs.as_os_str().as_encoded_bytes());
    d.iter().take(6).map(|b| format!("{b:02x}")).collect()
}
