//! `karajoctl logs` against the real karajod: one run's log of a job or an
//! HTTP job, `-f` across runs and before the first one, and a closed pipe.

use crate::daemon::JOBS;
use crate::harness::Live;
use crate::karajod::{Daemon, wait_for};

/// The text of the log lines, without the `DATE TIME UTC job: ID: ` prefix.
fn texts(log: &str) -> Vec<&str> {
    log.lines().filter_map(|l| l.split_once(": ").and_then(|(_, rest)| rest.split_once(": ")).map(|(_, t)| t)).collect()
}

#[test]
fn logs_prints_the_latest_run_of_a_job_or_http_job() {
    let d = Daemon::start(JOBS);
    // --wait: the status is already success while the second run goes on.
    d.sock(&["job", "run", "manual", "--wait"]).expect(0);
    d.sock(&["job", "run", "manual", "--wait"]).expect(0);
    let latest = d.sock(&["logs", "manual"]).expect(0).stdout;
    let t = texts(&latest);
    let (first, second) = (t.iter().position(|l| *l == "first"), t.iter().position(|l| *l == "second"));
    assert!(first.is_some() && first < second, "{latest}");
    assert_eq!(d.tcp(&["logs", "manual", "2"]).expect(0).stdout, latest);
    assert_eq!(d.tcp(&["logs", "manual", "1", "--json"]).expect(0).json()["counter"], 1);
    let log = d.sock(&["logs", "manual", "--json"]).expect(0).json();
    assert_eq!((log["counter"].as_u64(), log["status"].as_str()), (Some(2), Some("success")));
    // Not a job: found as an HTTP job; --http goes there directly.
    d.sock(&["http", "run", "ping"]).expect(0);
    wait_for("the http job's run", || d.sock(&["http", "show", "ping", "--json"]).json()["status"] == "success");
    let r = d.sock(&["logs", "ping"]).expect(0);
    assert!(r.stdout.contains("/karajo/health"), "{}", r.stdout);
    assert_eq!(d.tcp(&["logs", "--http", "ping"]).expect(0).stdout, r.stdout);
}

#[test]
fn a_log_of_many_chunks_prints_exactly_as_on_disk() {
    let d = Daemon::start(JOBS);
    d.sock(&["job", "run", "big"]).expect(0);
    d.wait_status("big", "success");
    let on_disk = std::fs::read_to_string(d.log_path("big", 1, "success")).unwrap();
    assert!(on_disk.len() > 4 * 48 * 1024, "{} bytes", on_disk.len());
    assert!(d.sock(&["logs", "big"]).expect(0).stdout == on_disk);
    assert!(d.tcp(&["logs", "big", "1"]).expect(0).stdout == on_disk);
    let t = texts(&on_disk);
    assert_eq!(t.iter().filter(|l| l.parse::<u32>().is_ok()).count(), 30000);
}

#[test]
fn logs_follow_a_running_job_then_the_next_run() {
    let d = Daemon::start(JOBS);
    d.sock(&["job", "run", "slow"]).expect(0);
    let live = Live::spawn(&["--socket", d.socket.to_str().unwrap(), "logs", "slow", "-f"]);
    // The first line shows while the run still waits for its file.
    live.until_contains("start 1");
    assert_eq!(d.sock(&["job", "show", "slow", "--json"]).expect(0).json()["status"], "running");
    d.touch("slow", "go");
    live.until_contains("end 1");
    d.tcp(&["job", "run", "slow"]).expect(0);
    live.until_contains("start 2");
    d.touch("slow", "go");
    live.until_contains("end 2");
}

#[test]
fn logs_follow_over_tcp_waits_for_a_first_run() {
    let d = Daemon::start(JOBS);
    let live = Live::spawn(&["--url", &d.url, "logs", "manual", "-f"]);
    // Whether karajoctl is still waiting or already finds the run, it prints it.
    d.sock(&["job", "run", "manual"]).expect(0);
    live.until_contains("first");
    live.until_contains("second");
}

#[test]
fn a_closed_pipe_exits_0_quietly() {
    let d = Daemon::start(JOBS);
    d.sock(&["job", "run", "flood"]).expect(0);
    let mut live = Live::spawn(&["--socket", d.socket.to_str().unwrap(), "logs", "flood", "-f"]);
    live.until_contains("more 0");
    live.close_stdout();
    // The job keeps writing; karajoctl notices the closed pipe at its next line.
    let mut code = None;
    wait_for("karajoctl to exit on its closed stdout", || {
        code = live.try_code();
        code.is_some()
    });
    d.touch("flood", "stop");
    assert_eq!(code, Some(0));
    let stderr = live.stderr_rest();
    assert!(!stderr.contains("karajoctl:"), "{stderr}");
}
