//! Each way of escaping the run's process group × each way a run ends:
//! the run ends in time (grace + 1 s) and no process of it survives.

use std::time::{Duration, Instant};

use super::{BOUND, act, env, kill_marked, marked, marker, modes, wait_marked};
use crate::harness::{Daemon, Tree, wait_run_end};

/// (job, command that keeps running, command that ends leaving the escapee,
/// processes alive once the running command is set up).
const PATTERNS: [(&str, &str, &str, usize); 4] = [
    ("setsid", "setsid sleep 300 & sleep 300", "setsid sleep 300 & echo left", 2),
    ("double_fork", "(sleep 300 &); sleep 300", "(sleep 300 &); echo left", 2),
    ("nohup", "nohup sleep 300 & sleep 300", "nohup sleep 300 & echo left", 2),
    (
        "term_ignoring",
        "trap '' TERM; setsid sleep 300 & (sleep 300 &); sleep 300",
        "trap '' TERM; setsid sleep 300 & echo left",
        3,
    ),
];

#[derive(Clone, Copy, PartialEq, Debug)]
enum Ending {
    Cancel,
    Timeout,
    Shutdown,
    Normal,
}

/// One config with a job per pattern, each marked `MARK-JOB`.
fn conf(mark: &str, ending: Ending) -> String {
    let mut c = String::from("[karajo]\nsecret = s3cret\nmax_job_running = 8\n");
    for (id, running, leaving, _) in PATTERNS {
        let body = if ending == Ending::Normal { leaving } else { running };
        c.push_str(&format!("[job \"{id}\"]\ncommand = \"export KT_MARK={mark}-{id}; {body}\"\n"));
        if ending == Ending::Timeout {
            c.push_str("timeout = 1s\n");
        }
    }
    c
}

fn check(mode: &'static str, ending: Ending) {
    let mark = marker(&format!("{mode}-{ending:?}"));
    let tree = Tree::new(&conf(&mark, ending));
    let mut d = Daemon::start_with(&tree, &env(mode));
    let mut guard = Cleanup(&mark);
    for (id, ..) in PATTERNS {
        assert_eq!(act(&d, "run", id).0, 200, "{mode}: run {id}");
    }
    if ending != Ending::Normal {
        for (id, _, _, n) in PATTERNS {
            wait_marked(&format!("{mark}-{id}"), n);
        }
    }
    let t0 = Instant::now();
    let mut limit = BOUND;
    match ending {
        Ending::Cancel => {
            for (id, ..) in PATTERNS {
                assert_eq!(act(&d, "cancel", id).0, 200);
            }
        }
        Ending::Timeout => limit += Duration::from_secs(1),
        Ending::Normal => {}
        Ending::Shutdown => {
            limit += Duration::from_millis(200);
            let status = d.signal_and_wait(nix::sys::signal::Signal::SIGTERM);
            assert!(status.success(), "{mode}: karajod exited {status} at SIGTERM");
            assert!(t0.elapsed() <= limit + Duration::from_millis(500), "{mode}: SIGTERM took {:?}", t0.elapsed());
        }
    }
    let want = match ending {
        Ending::Cancel | Ending::Shutdown => "canceled",
        Ending::Timeout => "failed",
        Ending::Normal => "success",
    };
    for (id, ..) in PATTERNS {
        let (status, text) = wait_run_end(&tree, "job", id, 1, Duration::from_secs(20));
        let took = t0.elapsed();
        assert_eq!(status, want, "{mode} {ending:?} {id}:\n{text}");
        assert!(took <= limit, "{mode} {ending:?} {id}: the run took {took:?} to end (bound {limit:?})\n{text}");
        if ending == Ending::Normal {
            assert!(text.contains("--- killed ") && text.contains(" leftover process"), "{mode} {id}:\n{text}");
        }
        let left = marked(&format!("{mark}-{id}"));
        assert!(left.is_empty(), "{mode} {ending:?} {id}: processes survived the run: {left:?}");
    }
    guard.0 = "";
    drop(d);
}

/// Kills the marked processes if the test fails half-way.
struct Cleanup<'a>(&'a str);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            kill_marked(self.0);
        }
    }
}

#[test]
fn cancel_ends_every_escaped_process_in_time() {
    for mode in modes() {
        check(mode, Ending::Cancel);
    }
}

#[test]
fn timeout_ends_every_escaped_process_in_time() {
    for mode in modes() {
        check(mode, Ending::Timeout);
    }
}

#[test]
fn shutdown_ends_every_escaped_process_and_the_daemon_exits() {
    for mode in modes() {
        check(mode, Ending::Shutdown);
    }
}

#[test]
fn normal_end_kills_leftovers_and_says_how_many() {
    for mode in modes() {
        check(mode, Ending::Normal);
    }
}

#[test]
fn leave_processes_keeps_what_a_run_left_behind() {
    for mode in modes() {
        let mark = marker("leave");
        let conf = format!(
            "[karajo]\nsecret = s3cret\n[job \"keep\"]\nleave_processes = true\ncommand = \"export KT_MARK={mark}; setsid sleep 300 >/dev/null 2>&1 & echo started\"\n"
        );
        let tree = Tree::new(&conf);
        let d = Daemon::start_with(&tree, &env(mode));
        let _guard = Cleanup(&mark);
        let (_, v) = super::job(&d, "keep");
        assert_eq!(v["data"]["leave_processes"], true, "{v}");
        assert_eq!(act(&d, "run", "keep").0, 200);
        let (status, text) = wait_run_end(&tree, "job", "keep", 1, Duration::from_secs(10));
        assert_eq!(status, "success", "{text}");
        assert!(!text.contains("leftover"), "{mode}: {text}");
        assert_eq!(marked(&mark).len(), 1, "{mode}: the process the run left is gone");
        // Nor does a restart end it: it was left on purpose.
        drop(d);
        let _d = Daemon::start_with(&tree, &env(mode));
        assert_eq!(marked(&mark).len(), 1, "{mode}: a restart ended a process left on purpose");
    }
}

#[test]
fn leave_processes_is_validated_and_shown_by_check() {
    let tree = Tree::new("[karajo]\nsecret = s3cret\n[job \"keep\"]\ncommand = true\nleave_processes = true\n");
    let cfg = tree.config();
    let out = crate::harness::run_karajod(&["--config", cfg.to_str().unwrap(), "check"], tree.base());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("leaves its processes running"), "{stdout}");
    let bad = Tree::new("[karajo]\nsecret = s3cret\n[job \"keep\"]\ncommand = true\nleave_processes = maybe\n");
    let cfg = bad.config();
    let out = crate::harness::run_karajod(&["--config", cfg.to_str().unwrap(), "check"], bad.base());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "an invalid leave_processes was accepted");
    assert!(stderr.contains("karajo.conf:") && stderr.contains("[job \"keep\"] leave_processes"), "{stderr}");
}

#[test]
fn a_canceled_run_whose_children_hold_the_pipe_frees_the_only_slot() {
    // The bug of issue 23: with max_job_running = 1, a stuck run held the
    // one slot for as long as its escaped child lived.
    let mark = marker("slot");
    let conf = format!(
        "[karajo]\nsecret = s3cret\nmax_job_running = 1\n\
         [job \"stuck\"]\ncommand = \"export KT_MARK={mark}; setsid sleep 300 & sleep 300\"\n\
         [job \"next\"]\ncommand = echo next\n"
    );
    for mode in modes() {
        let tree = Tree::new(&conf);
        let d = Daemon::start_with(&tree, &env(mode));
        let _guard = Cleanup(&mark);
        assert_eq!(act(&d, "run", "stuck").0, 200);
        wait_marked(&mark, 2);
        assert_eq!(act(&d, "run", "next").0, 200);
        let t0 = Instant::now();
        assert_eq!(act(&d, "cancel", "stuck").0, 200);
        let (status, text) = wait_run_end(&tree, "job", "next", 1, Duration::from_secs(10));
        assert_eq!(status, "success", "{mode}: {text}");
        assert!(t0.elapsed() <= BOUND, "{mode}: the next job waited {:?} for the slot", t0.elapsed());
        assert!(marked(&mark).is_empty(), "{mode}: the escaped child survived");
    }
}
