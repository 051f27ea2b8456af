//! The timer thread's priority (SPEC 23: timers that never wait).
//!
//! When a hundred runs are due on the same second, their children (each a
//! shell, its dynamic loader, its command) make the machine busy at the
//! very moment the timer worker must start the rest. At normal priority
//! that worker waited for a CPU: the last run of a burst of 100 started
//! 50-77 ms after its second on 2 cores (bench/seconds.sh). At `SCHED_FIFO`
//! priority 1, the lowest realtime one, it takes a CPU as soon as it is
//! runnable: 5-9 ms in the same run.
//!
//! Only that one thread is raised, with `SCHED_RESET_ON_FORK`: every
//! thread it creates (the blocking pool that spawns the shells) and every
//! process is back at the normal policy, so jobs never run realtime.
//!
//! Realtime needs `CAP_SYS_NICE` (root) or `RLIMIT_RTPRIO` >= 1 (the
//! packaged unit's `LimitRTPRIO=1`). Without it the timers run at normal
//! priority, as before, and the daemon says so at start. A daemon that is
//! not root gives up the limit once its thread is raised, so its jobs
//! cannot take a realtime priority through it.

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// The realtime priority of the timer thread: the lowest there is.
pub const TIMER_PRIORITY: i32 = 1;

/// Moves the calling thread to `SCHED_FIFO` [`TIMER_PRIORITY`], with
/// `SCHED_RESET_ON_FORK` so nothing it starts inherits that.
pub fn raise_this_thread() -> std::io::Result<()> {
    let param = libc::sched_param { sched_priority: TIMER_PRIORITY };
    // SAFETY: sched_setscheduler reads `param` only; pid 0 is the calling thread.
    let rc = unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO | libc::SCHED_RESET_ON_FORK, &param) };
    if rc == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

/// After the timer thread is raised: a daemon that is not root lowers its
/// `RLIMIT_RTPRIO` to 0, soft and hard, so the jobs it starts (which
/// inherit the limit) cannot raise themselves. Root's jobs could anyway.
pub fn keep_realtime_from_jobs() -> nix::Result<()> {
    if nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    match getrlimit(Resource::RLIMIT_RTPRIO)? {
        (0, 0) => Ok(()),
        _ => setrlimit(Resource::RLIMIT_RTPRIO, 0, 0),
    }
}

/// The scheduling policy and realtime priority of a thread, from the
/// `stat` file (fields 41 and 40) of its `/proc/PID/task/TID` folder.
pub fn thread_policy(task: &std::path::Path) -> std::io::Result<(u32, u32)> {
    let path = task.join("stat");
    let stat = std::fs::read_to_string(&path)?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split(' ').collect();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse().ok());
    match (field(41), field(40)) {
        (Some(policy), Some(prio)) => Ok((policy, prio)),
        _ => Err(std::io::Error::other(format!("{}: no policy field", path.display()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raised_thread_is_fifo_and_what_it_starts_is_not() {
        let own = || std::path::PathBuf::from(format!("/proc/self/task/{}", nix::unistd::gettid()));
        let raised = std::thread::spawn(move || {
            let before = thread_policy(&own()).unwrap();
            let result = raise_this_thread();
            let after = thread_policy(&own()).unwrap();
            // A thread started by the raised one: reset on fork.
            let child = std::thread::spawn(move || thread_policy(&own()).unwrap()).join().unwrap();
            (before, result, after, child)
        })
        .join()
        .unwrap();
        let (before, result, after, child) = raised;
        assert_eq!(before, (libc::SCHED_OTHER as u32, 0));
        match result {
            Ok(()) => {
                assert_eq!(after, (libc::SCHED_FIFO as u32, TIMER_PRIORITY as u32));
                assert_eq!(child, (libc::SCHED_OTHER as u32, 0), "a thread the raised one starts is normal");
            }
            // Without the privilege nothing changed (the daemon then says so).
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(libc::EPERM), "{e}");
                assert_eq!(after, before);
            }
        }
    }
}
