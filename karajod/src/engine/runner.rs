//! Running a job's commands: each by `/bin/sh -c` in the job's working
//! directory, in its own process group, stdout and stderr into one pipe
//! that is streamed into the run log, in a clean environment.
//!
//! How a run ends: on cancel, timeout, a failing command or the last
//! command's exit, every process of the run is ended (`process`: TERM,
//! KILL after the grace) while the pipe is still read, and the run is over
//! at most one second after that, whatever a process did with the pipe.
//! `leave_processes` keeps what a run left behind at its normal end.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::io::AsyncReadExt;
use tokio::net::unix::pipe::Receiver;
use tokio::process::Child;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::attempt::Outcome;
use super::clock::Clock;
use super::process::{Processes, RunProcs};
use crate::config::{Cause, RunAs};
use crate::store::log::RunLog;

/// The only `PATH` a command sees.
pub const JOB_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// After a command exits, how long a background child may keep the output pipe open.
const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(2);
/// After the run's processes were ended, how long the pipe may stay open.
const DRAIN_AFTER_STOP: Duration = Duration::from_secs(1);
const READ_BUF_BYTES: usize = 64 * 1024;

/// What the commands of one run need.
pub(crate) struct Commands<'a> {
    pub commands: &'a [String],
    pub workdir: PathBuf,
    pub env: Vec<(String, String)>,
    pub cancel: &'a CancellationToken,
    /// When the run's `timeout` expires.
    pub deadline: Option<Instant>,
    pub timeout: Option<Duration>,
    pub clock: Arc<dyn Clock>,
    pub kill_grace: Duration,
    pub leave_processes: bool,
    /// `user`/`group`: the identity the shells take before exec.
    pub run_as: Option<Arc<RunAs>>,
}

/// How one command ended.
enum Ended {
    Exit(ExitStatus),
    Canceled,
    TimedOut,
}

/// A command's shell and its pipe, as far as they got.
struct Shell {
    child: Child,
    pid: i32,
    pipe: Receiver,
    status: Option<ExitStatus>,
    eof: bool,
}

/// Runs the commands in order, stopping at the first failure; ends the
/// run's processes; writes the markers and the outcome. Returns how it ended.
pub(crate) async fn run(c: &Commands<'_>, procs: RunProcs, log: &mut RunLog) -> (Outcome, RunProcs) {
    use proto::JobStatus::*;
    let mut procs = procs;
    let last = c.commands.len().saturating_sub(1);
    for (n, cmd) in c.commands.iter().enumerate() {
        note(log, c, &format!("--- Execute {n:>2}: {}", escape(cmd)));
        let mut shell = match start(c, cmd, &mut procs).await {
            Ok(s) => s,
            Err(e) => {
                note(log, c, &format!("!!! command {n} could not start: {e}"));
                let (_, procs) = finish(c, None, procs, log, false).await;
                return (Outcome::of(Failed), procs);
            }
        };
        let ended = watch(c, &mut shell, log).await;
        if shell.status.is_some() {
            procs.shell_ended(shell.pid);
        }
        let more = matches!(&ended, Ended::Exit(s) if s.success()) && n < last;
        if more {
            drain(c, &mut shell, log, Instant::now() + DRAIN_AFTER_EXIT).await;
            continue;
        }
        let forced = !matches!(ended, Ended::Exit(_));
        let (killed, p) = finish(c, Some(shell), procs, log, forced).await;
        procs = p;
        let outcome = match ended {
            Ended::Exit(s) if s.success() => {
                if killed > 0 {
                    note(log, c, &format!("--- killed {killed} leftover process{}", plural(killed)));
                }
                note(log, c, "=== DONE");
                Outcome { exit_code: Some(0), ..Outcome::of(Success) }
            }
            Ended::Exit(s) => {
                note(log, c, &format!("!!! command {n} failed: {}", describe(s)));
                match s.code() {
                    Some(code) => Outcome::failed(Cause::Exit(code)),
                    None => Outcome::of(Failed),
                }
            }
            Ended::Canceled => {
                note(log, c, "=== CANCELED");
                Outcome::of(Canceled)
            }
            Ended::TimedOut => {
                let d = c.timeout.map(|d| format!(" after {d:?}")).unwrap_or_default();
                note(log, c, &format!("!!! timed out{d}: command {n} killed"));
                Outcome::failed(Cause::Timeout)
            }
        };
        return (outcome, procs);
    }
    note(log, c, "=== DONE");
    (Outcome { exit_code: Some(0), ..Outcome::of(Success) }, procs)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "es" }
}

fn note(log: &mut RunLog, c: &Commands<'_>, text: &str) {
    log.note(c.clock.now(), text);
}

/// A command's text on one line: newlines shown as `\n`.
pub fn escape(cmd: &str) -> String {
    cmd.replace('\\', "\\\\").replace('\n', "\\n").replace('\r', "\\r")
}

fn describe(s: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (s.code(), s.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => {
            let name = Signal::try_from(sig).map(|s| s.as_str()).unwrap_or("unknown");
            format!("killed by signal {sig} ({name})")
        }
        _ => "ended without a status".into(),
    }
}

async fn start(c: &Commands<'_>, cmd: &str, procs: &mut RunProcs) -> std::io::Result<Shell> {
    // fork/exec off the runtime's worker threads: when a hundred timers fire
    // on the same second, spawning on the workers made the last runs start
    // ~200 ms late (each waited for the spawns queued before it).
    let (cmd, workdir, env, run_as) = (cmd.to_string(), c.workdir.clone(), c.env.clone(), c.run_as.clone());
    let (tracking, group) = procs.spawner();
    let (child, rx) = tokio::task::spawn_blocking(move || {
        let shell = ShellSpec { cmd: &cmd, workdir: &workdir, env: &env, run_as: run_as.as_deref() };
        spawn(&tracking, group.as_deref(), &shell)
    })
    .await
    .map_err(|e| std::io::Error::other(format!("spawning /bin/sh: {e}")))??;
    let pid = child.id().map(|p| p as i32).unwrap_or(0);
    procs.started(pid);
    let pipe = Receiver::from_owned_fd(rx)?;
    Ok(Shell { child, pid, pipe, status: None, eof: false })
}

/// Streams the output until the shell exits, the run is canceled or the timeout passes.
async fn watch(c: &Commands<'_>, sh: &mut Shell, log: &mut RunLog) -> Ended {
    let mut buf = vec![0u8; READ_BUF_BYTES];
    let far = || Instant::now() + Duration::from_secs(86400 * 365);
    loop {
        tokio::select! {
            n = sh.pipe.read(&mut buf), if !sh.eof => match n {
                Ok(0) | Err(_) => sh.eof = true,
                Ok(n) => log.output_or_report(c.clock.now(), &buf[..n]),
            },
            s = sh.child.wait() => match s {
                Ok(s) => {
                    sh.status = Some(s);
                    return Ended::Exit(s);
                }
                // Only if the shell was reaped elsewhere; nothing more to wait for.
                Err(_) => return Ended::Canceled,
            },
            _ = c.cancel.cancelled() => return Ended::Canceled,
            _ = tokio::time::sleep_until(c.deadline.unwrap_or_else(far)), if c.deadline.is_some() => return Ended::TimedOut,
        }
    }
}

/// Reads the pipe until EOF or `until`.
async fn drain(c: &Commands<'_>, sh: &mut Shell, log: &mut RunLog, until: Instant) {
    let mut buf = vec![0u8; READ_BUF_BYTES];
    while !sh.eof {
        tokio::select! {
            n = sh.pipe.read(&mut buf) => match n {
                Ok(0) | Err(_) => sh.eof = true,
                Ok(n) => log.output_or_report(c.clock.now(), &buf[..n]),
            },
            // A background child still holds the pipe; stop reading, leave it be.
            _ = tokio::time::sleep_until(until) => return,
        }
    }
}

/// The end of the run: unless it ended normally and `leave_processes` is
/// set, every process of the run is ended while the last shell's output
/// is still read and the shell reaped. Returns how many were signalled.
async fn finish(
    c: &Commands<'_>,
    shell: Option<Shell>,
    mut procs: RunProcs,
    log: &mut RunLog,
    forced: bool,
) -> (usize, RunProcs) {
    let mut shell = shell;
    if !forced && c.leave_processes {
        if let Some(sh) = shell.as_mut() {
            drain(c, sh, log, Instant::now() + DRAIN_AFTER_EXIT).await;
        }
        return (0, procs);
    }
    let grace = c.kill_grace;
    let mut stop = tokio::task::spawn_blocking(move || {
        let n = procs.stop(grace);
        (n, procs)
    });
    let Some(mut sh) = shell.take() else {
        return stop.await.expect("ending processes never panics");
    };
    let mut buf = vec![0u8; READ_BUF_BYTES];
    let mut stopped = None;
    let mut until = Instant::now() + Duration::from_secs(86400);
    loop {
        if sh.eof && sh.status.is_some() && stopped.is_some() {
            break;
        }
        tokio::select! {
            r = &mut stop, if stopped.is_none() => {
                stopped = Some(r.expect("ending processes never panics"));
                until = Instant::now() + DRAIN_AFTER_STOP;
            }
            n = sh.pipe.read(&mut buf), if !sh.eof => match n {
                Ok(0) | Err(_) => sh.eof = true,
                Ok(n) => log.output_or_report(c.clock.now(), &buf[..n]),
            },
            s = sh.child.wait(), if sh.status.is_none() => {
                // An error means nothing is left to wait for.
                sh.status = Some(s.unwrap_or_else(|_| std::os::unix::process::ExitStatusExt::from_raw(0)));
            }
            // A process no tracking could see keeps the pipe: the run ends anyway.
            _ = tokio::time::sleep_until(until), if stopped.is_some() => break,
        }
    }
    let (n, mut procs) = stopped.expect("the loop ends after the stop");
    if sh.status.is_some() {
        procs.shell_ended(sh.pid);
    }
    (n, procs)
}

/// One command's shell, as [`spawn`] starts it.
struct ShellSpec<'a> {
    cmd: &'a str,
    workdir: &'a Path,
    env: &'a [(String, String)],
    run_as: Option<&'a RunAs>,
}

/// Starts `/bin/sh -c cmd` with stdout and stderr into one pipe; returns
/// the child and the pipe's read end. Blocking (fork/exec): call it from
/// `spawn_blocking`, which runs inside the runtime, as the child's reaper needs.
fn spawn(procs: &Processes, group: Option<&Path>, shell: &ShellSpec<'_>) -> std::io::Result<(Child, OwnedFd)> {
    use std::os::unix::process::CommandExt;
    let (rx, tx): (OwnedFd, OwnedFd) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    let stdout = Stdio::from(tx.try_clone()?);
    // Our copies of the write end go with the command inside, so the pipe
    // reaches EOF once the command's processes close theirs.
    let child = procs.spawn(group, shell.cmd, shell.run_as, |command| {
        command
            .current_dir(shell.workdir)
            .env_clear()
            .envs(shell.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::from(tx))
            .process_group(0);
    })?;
    Ok((child, rx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_shown_on_one_line() {
        assert_eq!(escape("echo a\necho b"), "echo a\\necho b");
    }
}
