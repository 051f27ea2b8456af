//! `kill -9` of the daemon, then a start: the old runs' processes are
//! ended before the daemon listens (and before the logs are recovered);
//! a recorded process group whose leader is now another process is left
//! alone; stale temporary files go; 16 clients pausing and resuming one
//! job leave the flag on disk and the state in memory equal.

use super::{act, env, job, kill_marked, marked, marker, modes, wait_marked};
use crate::harness::{Daemon, Tree, find_log};

#[test]
fn a_start_after_kill_9_ends_the_old_runs_processes_first() {
    for mode in modes() {
        let mark = marker("crash");
        let mut conf = String::from("[karajo]\nsecret = s3cret\nmax_job_running = 4\n");
        for (id, body) in
            [("setsid", "setsid sleep 300 & sleep 300"), ("fork", "(sleep 300 &); trap '' TERM; sleep 300")]
        {
            conf.push_str(&format!("[job \"{id}\"]\ncommand = \"export KT_MARK={mark}; {body}\"\n"));
        }
        let tree = Tree::new(&conf);
        let mut d = Daemon::start_with(&tree, &env(mode));
        assert_eq!(act(&d, "run", "setsid").0, 200);
        assert_eq!(act(&d, "run", "fork").0, 200);
        wait_marked(&mark, 4);
        nix::sys::signal::kill(d.pid(), nix::sys::signal::Signal::SIGKILL).unwrap();
        d.child.wait().unwrap();
        let orphans = marked(&mark);
        assert!(orphans.len() >= 4, "{mode}: the kill -9 took the runs' processes with it ({orphans:?}): no bite");
        // Cross the modes too: what is recorded is enough for either.
        let next = if mode == "cgroup" { "subreaper" } else { "auto" };
        let d = Daemon::start_with(&tree, &env(next));
        let left = marked(&mark);
        kill_marked(&mark);
        assert!(left.is_empty(), "{mode} then {next}: processes of the old runs survived the restart: {left:?}");
        for id in ["setsid", "fork"] {
            let (_, status) = find_log(&tree, "job", id, 1).unwrap();
            assert_eq!(status, "failed", "{mode}: {id}.1");
        }
        assert!(std::fs::read_dir(tree.path("var/run/karajo/process")).unwrap().next().is_none(), "records left");
        drop(d);
    }
}

#[test]
fn a_recorded_group_whose_leader_is_another_process_is_left_alone() {
    use std::os::unix::process::CommandExt;
    let tree = Tree::new("[karajo]\nsecret = s3cret\n");
    // A process in a group of its own, standing for one that got a pid an
    // old run's group had.
    let mut innocent = std::process::Command::new("sleep").arg("300").process_group(0).spawn().unwrap();
    let pid = innocent.id();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let start: u64 = stat[stat.rfind(')').unwrap() + 1..].split_whitespace().nth(19).unwrap().parse().unwrap();
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    let record = format!(
        "tag KARAJO_RUN_TAG=gone:job:ghost:1\ngroup {pid} {} {}\ngroup {pid} {start} another-boot\n",
        start + 1,
        boot.trim()
    );
    tree.write("var/run/karajo/process/job.ghost.1", &record);
    let d = Daemon::start_with(&tree, &env("subreaper"));
    let alive = innocent.try_wait().unwrap().is_none();
    let _ = innocent.kill();
    let _ = innocent.wait();
    assert!(alive, "the daemon killed a process whose pid and group matched an old record but not its start time");
    drop(d);
}

#[test]
fn temporary_files_of_a_killed_daemon_are_removed_at_start() {
    let tree = Tree::new("[karajo]\nsecret = s3cret\n[job \"a\"]\ncommand = true\n");
    tree.write("var/lib/karajo/state/job/.a.4242.0.tmp", "paused\n");
    tree.write("var/run/karajo/request/a.7.body", "{}");
    let _d = Daemon::start_with(&tree, &env("auto"));
    assert!(!tree.path("var/lib/karajo/state/job/.a.4242.0.tmp").exists(), "pause-flag temp file left");
    assert!(!tree.path("var/run/karajo/request/a.7.body").exists(), "request body left");
}

#[test]
fn sixteen_clients_pausing_and_resuming_leave_disk_and_memory_equal() {
    let tree = Tree::new("[karajo]\nsecret = s3cret\n[job \"p\"]\ncommand = true\n");
    let d = Daemon::start_with(&tree, &env("auto"));
    let flag = tree.path("var/lib/karajo/state/job/p");
    for round in 0..3 {
        std::thread::scope(|s| {
            for t in 0..16 {
                let d = &d;
                s.spawn(move || {
                    for i in 0..10 {
                        let action = if (t + i + round) % 2 == 0 { "pause" } else { "resume" };
                        let (code, v) = act(d, action, "p");
                        assert_eq!(code, 200, "{action}: {v}");
                    }
                });
            }
        });
        let (_, v) = job(&d, "p");
        let paused = v["data"]["status"] == "paused";
        assert_eq!(
            paused,
            flag.exists(),
            "round {round}: memory says paused={paused}, the disk says {}",
            flag.exists()
        );
    }
    let before = job(&d, "p").1["data"]["status"].clone();
    drop(d);
    let d = Daemon::start_with(&tree, &env("auto"));
    assert_eq!(job(&d, "p").1["data"]["status"], before, "the state after a restart");
}
