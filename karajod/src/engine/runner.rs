//! Running a job's commands: each by `/bin/sh -c` in the job's working
//! directory, in its own process group, stdout and stderr into one pipe
//! that is streamed into the run log, in a clean environment.
//!
//! Cancel and timeout send SIGTERM to the whole process group and SIGKILL
//! [`KILL_AFTER`] later, so background children die with the command.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::AsyncReadExt;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::clock::Clock;
use crate::store::log::RunLog;

/// The only `PATH` a command sees.
pub const JOB_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// How long a process group has between SIGTERM and SIGKILL.
pub const KILL_AFTER: Duration = Duration::from_secs(5);
/// After a command exits, how long a background child may keep the output pipe open.
const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(2);
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
}

/// How one command ended.
enum Ended {
    Exit(ExitStatus),
    Canceled,
    TimedOut,
}

/// Runs the commands in order, stopping at the first failure; writes the
/// markers and the outcome. Returns the run's status.
pub(crate) async fn run(c: &Commands<'_>, log: &mut RunLog) -> proto::JobStatus {
    use proto::JobStatus::*;
    for (n, cmd) in c.commands.iter().enumerate() {
        note(log, c, &format!("--- Execute {n:>2}: {}", escape(cmd)));
        let ended = match run_one(c, cmd, log).await {
            Ok(e) => e,
            Err(e) => {
                note(log, c, &format!("!!! command {n} could not start: {e}"));
                return Failed;
            }
        };
        match ended {
            Ended::Exit(s) if s.success() => {}
            Ended::Exit(s) => {
                note(log, c, &format!("!!! command {n} failed: {}", describe(s)));
                return Failed;
            }
            Ended::Canceled => {
                note(log, c, "=== CANCELED");
                return Canceled;
            }
            Ended::TimedOut => {
                let d = c.timeout.map(|d| format!(" after {d:?}")).unwrap_or_default();
                note(log, c, &format!("!!! timed out{d}: command {n} killed"));
                return Failed;
            }
        }
    }
    note(log, c, "=== DONE");
    Success
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

async fn run_one(c: &Commands<'_>, cmd: &str, log: &mut RunLog) -> std::io::Result<Ended> {
    // fork/exec off the runtime's worker threads: when a hundred timers fire
    // on the same second, spawning on the workers made the last runs start
    // ~200 ms late (each waited for the spawns queued before it).
    let (cmd, workdir, env) = (cmd.to_string(), c.workdir.clone(), c.env.clone());
    let (mut child, rx) = tokio::task::spawn_blocking(move || spawn(&cmd, &workdir, &env))
        .await
        .map_err(|e| std::io::Error::other(format!("spawning /bin/sh: {e}")))??;
    let pgid = Pid::from_raw(child.id().map(|p| p as i32).unwrap_or(0));
    let mut pipe = tokio::net::unix::pipe::Receiver::from_owned_fd(rx)?;
    let mut buf = vec![0u8; READ_BUF_BYTES];
    let (mut status, mut eof, mut ended) = (None, false, None);
    let mut kill_at: Option<Instant> = None;
    let mut drain_until: Option<Instant> = None;
    let far = || Instant::now() + Duration::from_secs(86400 * 365);
    loop {
        if status.is_some() && eof {
            break;
        }
        tokio::select! {
            n = pipe.read(&mut buf), if !eof => match n {
                Ok(0) | Err(_) => eof = true,
                Ok(n) => log.output_or_report(c.clock.now(), &buf[..n]),
            },
            s = child.wait(), if status.is_none() => {
                status = Some(s?);
                drain_until = Some(Instant::now() + DRAIN_AFTER_EXIT);
            }
            _ = c.cancel.cancelled(), if ended.is_none() => {
                ended = Some(Ended::Canceled);
                kill_at = Some(terminate(pgid));
            }
            _ = tokio::time::sleep_until(c.deadline.unwrap_or_else(far)), if ended.is_none() && c.deadline.is_some() => {
                ended = Some(Ended::TimedOut);
                kill_at = Some(terminate(pgid));
            }
            _ = tokio::time::sleep_until(kill_at.unwrap_or_else(far)), if kill_at.is_some() => {
                let _ = killpg(pgid, Signal::SIGKILL);
                kill_at = None;
            }
            _ = tokio::time::sleep_until(drain_until.unwrap_or_else(far)), if drain_until.is_some() && ended.is_none() => {
                // A background child still holds the pipe; stop reading, leave it be.
                break;
            }
        }
    }
    if ended.is_some() {
        // Whatever of the group is still there goes now, not in 5 s.
        let _ = killpg(pgid, Signal::SIGKILL);
    }
    Ok(ended.unwrap_or(Ended::Exit(status.expect("the loop ends after the exit"))))
}

/// Starts `/bin/sh -c cmd` with stdout and stderr into one pipe; returns
/// the child and the pipe's read end. Blocking (fork/exec): call it from
/// `spawn_blocking`, which runs inside the runtime, as the child's reaper needs.
fn spawn(cmd: &str, workdir: &Path, env: &[(String, String)]) -> std::io::Result<(tokio::process::Child, OwnedFd)> {
    let (rx, tx): (OwnedFd, OwnedFd) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    let mut command = tokio::process::Command::new("/bin/sh");
    command
        .arg("-c")
        .arg(cmd)
        .current_dir(workdir)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::from(tx.try_clone()?))
        .stderr(Stdio::from(tx))
        .process_group(0);
    let child = command.spawn()?;
    // Our copies of the write end must go, or the pipe never reaches EOF.
    drop(command);
    Ok((child, rx))
}

/// SIGTERM to the group; returns when SIGKILL is due.
fn terminate(pgid: Pid) -> Instant {
    let _ = killpg(pgid, Signal::SIGTERM);
    Instant::now() + KILL_AFTER
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_shown_on_one_line() {
        assert_eq!(escape("echo a\necho b"), "echo a\\necho b");
    }
}
