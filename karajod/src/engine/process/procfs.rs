//! What `/proc` says about processes: a process's parent, group and start
//! time (`stat`), its children (`task/*/children`), whether its initial
//! environment carries a run's tag (`environ`), and the boot it belongs to.
//!
//! Invariant: a process is named by (pid, start time), never by its pid
//! alone, so a pid the kernel reused for another process is never taken
//! for the one seen before. Every read tolerates the process having gone.

use std::fs;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// One process as `/proc/PID/stat` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub pid: i32,
    pub ppid: i32,
    pub pgid: i32,
    /// Clock ticks since boot: with the pid, names a process for good.
    pub start: u64,
    pub zombie: bool,
}

/// `/proc/PID/stat`, or `None` when the process is gone.
pub fn stat(pid: i32) -> Option<Stat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(pid, &text)
}

/// The fields after `(comm)`: the command name may hold spaces and `)`.
fn parse_stat(pid: i32, text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(Stat {
        pid,
        zombie: matches!(*f.first()?, "Z" | "X"),
        ppid: f.get(1)?.parse().ok()?,
        pgid: f.get(2)?.parse().ok()?,
        start: f.get(19)?.parse().ok()?,
    })
}

/// The direct children of `pid`, over all its threads (an orphan is
/// handed to one thread of its new parent, not always the main one).
pub fn children(pid: i32) -> Vec<i32> {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else { return Vec::new() };
    let mut out = Vec::new();
    for task in tasks.flatten() {
        let Ok(text) = fs::read_to_string(task.path().join("children")) else { continue };
        out.extend(text.split_whitespace().filter_map(|p| p.parse::<i32>().ok()));
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// `pid` and every descendant of it that is alive (zombies left out).
pub fn subtree(pid: i32) -> Vec<Stat> {
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let Some(s) = stat(p) else { continue };
        if !s.zombie {
            out.push(s);
        }
        todo.extend(children(p));
    }
    out
}

/// Every process on the machine (for the scan at start-up).
pub fn all() -> Vec<Stat> {
    let Ok(entries) = fs::read_dir("/proc") else { return Vec::new() };
    entries.flatten().filter_map(|e| e.file_name().to_str()?.parse().ok()).filter_map(stat).collect()
}

/// True when the process started with `NAME=value` in its environment.
pub fn has_env(pid: i32, entry: &[u8]) -> bool {
    fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| env.split(|&b| b == 0).any(|e| e == entry))
}

/// This boot's identity: a start time only means something within it.
pub fn boot_id() -> String {
    fs::read_to_string("/proc/sys/kernel/random/boot_id").map(|s| s.trim().to_string()).unwrap_or_default()
}

/// Signals the process if it is still the one seen (same start time).
/// True when the signal was sent.
pub fn signal(p: &Stat, sig: Signal) -> bool {
    match stat(p.pid) {
        Some(now) if now.start == p.start && !now.zombie => kill(Pid::from_raw(p.pid), sig).is_ok(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_survives_odd_command_names() {
        let text = "42 (a) b (c) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 98765 0 0";
        let s = parse_stat(42, text).unwrap();
        assert_eq!((s.ppid, s.pgid, s.start, s.zombie), (7, 42, 98765, false));
    }

    #[test]
    fn this_process_is_seen_with_its_start_time() {
        let me = stat(std::process::id() as i32).unwrap();
        assert!(!me.zombie && me.pid == std::process::id() as i32);
        // Another start time is another process: never signalled.
        assert!(!signal(&Stat { start: me.start + 1, ..me }, Signal::SIGCONT));
        assert!(signal(&me, Signal::SIGCONT));
    }
}
