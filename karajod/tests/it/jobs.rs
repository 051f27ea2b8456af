//! Jobs run by the real daemon: log files and their names, stopping at the
//! first failure, the clean environment, the global slot limit, timeouts
//! killing whole process groups, memory while a job floods its log, and
//! reload on SIGHUP. Runs are triggered by timers: an interval job that
//! never ran runs at once when the daemon starts.

use std::time::Duration;

use nix::sys::signal::Signal;

use crate::harness::{Daemon, Tree, find_log, group_alive, proc_kib, wait_for, wait_run_end};

const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn a_run_logs_its_output_and_stops_at_the_first_failure() {
    let tree = Tree::new(
        "[karajo]\nsecret = s\n[job \"Test fail\"]\ninterval = 1m\n\
         command = \"echo hello; echo to-stderr >&2\"\ncommand = exit 3\ncommand = echo never\n",
    );
    let _d = Daemon::start(&tree);
    let (status, text) = wait_run_end(&tree, "job", "test_fail", 1, LIMIT);
    assert_eq!(status, "failed", "{text}");
    let lines: Vec<&str> = text.lines().collect();
    let prefix = "job: test_fail: ";
    assert!(lines.iter().all(|l| l.len() > 24 && l[19..24] == *" UTC " && l[24..].starts_with(prefix)), "{text}");
    let bodies: Vec<&str> = lines.iter().map(|l| &l[24 + prefix.len()..]).collect();
    assert!(bodies[0].starts_with("=== BEGIN"), "{text}");
    assert_eq!(bodies[1], "--- Execute  0: echo hello; echo to-stderr >&2");
    assert!(bodies.contains(&"hello") && bodies.contains(&"to-stderr"), "{text}");
    assert!(bodies.contains(&"--- Execute  1: exit 3"), "{text}");
    assert!(bodies.last().unwrap().contains("exit status 3"), "{text}");
    assert!(!text.contains("never"), "{text}");
    assert!(find_log(&tree, "job", "test_fail", 2).is_none());
}

#[test]
fn jobs_see_only_the_karajo_environment() {
    let tree = Tree::new("[karajo]\nsecret = s\n[job \"env\"]\ninterval = 1m\ncommand = env\ncommand = pwd\n");
    let _d = Daemon::start_with(&tree, &[("SECRET_X", "leak-me"), ("HOME", "/root-of-daemon")]);
    let (status, text) = wait_run_end(&tree, "job", "env", 1, LIMIT);
    assert_eq!(status, "success", "{text}");
    assert!(!text.contains("SECRET_X") && !text.contains("leak-me") && !text.contains("HOME="), "{text}");
    let p = "job: env: ";
    let vars: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_once(p))
        .map(|(_, v)| v)
        .filter(|v| v.contains('=') && !v.starts_with("=== "))
        .collect();
    for want in [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "KARAJO_JOB_COUNTER=1",
        "KARAJO_JOB_ID=env",
        "KARAJO_JOB_TRIGGER=timer",
    ] {
        assert!(vars.contains(&want), "{want} in {vars:?}");
    }
    // The shell itself may add PWD, SHLVL and `_`; nothing else comes in.
    for v in &vars {
        let name = v.split('=').next().unwrap();
        assert!(name.starts_with("KARAJO_") || ["PATH", "PWD", "SHLVL", "_", "OLDPWD"].contains(&name), "{v}");
    }
    let workdir = tree.path("var/lib/karajo/job/env");
    assert!(text.contains(&format!("{p}{}\n", workdir.canonicalize().unwrap().display())), "{text}");
}

#[test]
fn one_slot_never_runs_two_jobs_at_once() {
    let mut conf = String::from("[karajo]\nsecret = s\nmax_job_running = 1\n");
    let shared = tempfile::NamedTempFile::new().unwrap();
    let shared_path = shared.path().display().to_string();
    for n in 0..3 {
        conf.push_str(&format!(
            "[job \"slot {n}\"]\ninterval = 1m\n\
             command = \"echo start $(date +%s%N) >> {shared_path}; sleep 0.3; echo end $(date +%s%N) >> {shared_path}\"\n"
        ));
    }
    let tree = Tree::new(&conf);
    let _d = Daemon::start(&tree);
    for n in 0..3 {
        let (status, text) = wait_run_end(&tree, "job", &format!("slot_{n}"), 1, LIMIT);
        assert_eq!(status, "success", "{text}");
    }
    let events = std::fs::read_to_string(shared.path()).unwrap();
    let mut running = 0;
    for line in events.lines() {
        running += if line.starts_with("start") { 1 } else { -1 };
        assert!((0..=1).contains(&running), "two at once:\n{events}");
    }
    assert_eq!(events.lines().count(), 6, "{events}");
}

#[test]
fn a_timeout_kills_the_whole_process_group() {
    let tree = Tree::new(
        "[karajo]\nsecret = s\n[job \"slow\"]\ninterval = 1m\ntimeout = 1s\n\
         command = \"echo $$ > pgid; sleep 300 & wait\"\n",
    );
    let _d = Daemon::start(&tree);
    let (status, text) = wait_run_end(&tree, "job", "slow", 1, LIMIT);
    assert_eq!(status, "failed", "{text}");
    assert!(text.contains("timed out"), "{text}");
    let pgid: i32 = std::fs::read_to_string(tree.path("var/lib/karajo/job/slow/pgid")).unwrap().trim().parse().unwrap();
    wait_for(Duration::from_secs(10), "the group to be gone", || !group_alive(pgid));
}

#[test]
fn sighup_adds_jobs_and_a_broken_config_is_refused() {
    let tree = Tree::new("[karajo]\nsecret = s\n[job \"a\"]\ninterval = 1m\ncommand = echo a\n");
    let d = Daemon::start(&tree);
    wait_run_end(&tree, "job", "a", 1, LIMIT);
    let conf = std::fs::read_to_string(tree.config()).unwrap();
    std::fs::write(tree.config(), format!("{conf}[job \"b\"]\ninterval = 1m\ncommand = echo b\n")).unwrap();
    nix::sys::signal::kill(d.pid(), Signal::SIGHUP).unwrap();
    let (status, _) = wait_run_end(&tree, "job", "b", 1, LIMIT);
    assert_eq!(status, "success");
    std::fs::write(tree.config(), format!("{conf}[job \"c\"]\ninterval = nonsense\ncommand = echo c\n")).unwrap();
    nix::sys::signal::kill(d.pid(), Signal::SIGHUP).unwrap();
    // Still serving with the old config.
    assert_eq!(d.get("/karajo/health").status(), 200);
    assert!(find_log(&tree, "job", "c", 1).is_none());
}

#[test]
fn sigterm_lets_a_short_run_finish_and_exits_zero() {
    let tree = Tree::new(
        "[karajo]\nsecret = s\n[job \"short\"]\ninterval = 1m\ncommand = \"touch started; sleep 1; echo finished\"\n",
    );
    let mut d = Daemon::start(&tree);
    wait_for(LIMIT, "the run to start", || tree.path("var/lib/karajo/job/short/started").exists());
    assert!(d.signal_and_wait(Signal::SIGTERM).success());
    let (status, text) = wait_run_end(&tree, "job", "short", 1, Duration::from_secs(1));
    assert_eq!(status, "success", "{text}");
    assert!(text.contains("finished"));
}

/// A job printing 256 MiB must not grow the daemon: output is streamed.
/// (About 3 s in a debug build; the log is ~400 MB with its prefixes.)
#[test]
fn a_flood_of_output_leaves_memory_flat() {
    let tree = Tree::new(
        "[karajo]\nsecret = s\n[job \"flood\"]\ninterval = 1m\ncommand = echo warm\n\
         command = \"while [ ! -e go ]; do sleep 0.05; done\"\n\
         command = \"yes 0123456789012345678901234567890123456789012345678901234567890123456789 | head -c 268435456\"\n",
    );
    let d = Daemon::start(&tree);
    let running = tree.path("var/log/karajo/job/flood/flood.1.running");
    wait_for(LIMIT, "the warm-up output", || std::fs::read_to_string(&running).is_ok_and(|t| t.contains("warm\n")));
    let pid = d.child.id();
    let idle = proc_kib(pid, "VmRSS");
    std::fs::write(tree.path("var/lib/karajo/job/flood/go"), "").unwrap();
    let (status, _) = wait_run_end(&tree, "job", "flood", 1, Duration::from_secs(300));
    assert_eq!(status, "success");
    let (after, peak) = (proc_kib(pid, "VmRSS"), proc_kib(pid, "VmHWM"));
    let size = std::fs::metadata(find_log(&tree, "job", "flood", 1).unwrap().0).unwrap().len();
    eprintln!("RSS idle {idle} KiB, after {after} KiB, peak {peak} KiB; log {size} bytes");
    assert!(size > 268_435_456);
    assert!(after <= idle + 5 * 1024, "RSS grew from {idle} to {after} KiB");
    assert!(peak <= idle + 5 * 1024, "peak RSS {peak} KiB against {idle} KiB idle");
}
