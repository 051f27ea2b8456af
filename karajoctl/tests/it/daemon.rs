//! The real karajoctl against the real karajod (`karajod.rs`), over the
//! control socket and over TCP: tables, `--json`, views, confirmations,
//! signatures and every refusal's exit code. Logs are in `logs.rs`.

use crate::harness::{golden, normalise_table, on_socket, run};
use crate::karajod::{Daemon, USER_CONF, wait_for};

pub const JOBS: &str = r#"
[job "hello-world"]
path = /hello-world
command = echo "Hello, world"

[job "Monthly"]
schedule = monthly@1,15@18:00
command = echo monthly

[job "slow"]
description = Prints, then waits for a file named "go" in its working directory.
command = echo "start $KARAJO_JOB_COUNTER"
command = "while [ ! -e go ]; do sleep 0.05; done; rm -f go"
command = echo "end $KARAJO_JOB_COUNTER"

[job "fails"]
command = echo first
command = false

[job "Manual"]
command = echo first
command = echo second

[job "flood"]
description = A line every 10 ms until a file named "stop" exists (at most 30 s).
command = "i=0; while [ ! -e stop ] && [ $i -lt 3000 ]; do echo more $i; i=$((i+1)); sleep 0.01; done"

[job "big"]
description = About 200 KiB of output: a log answer of many chunks.
command = seq 1 30000

[job.http "ping"]
http_url = /karajo/health

[job.http "Trigger hello-world"]
http_method = POST
http_url = /karajo/api/job_exec/run/hello-world
"#;

/// The words of a view's first line: its label, then its value.
fn first_line_words(view: &str) -> Vec<&str> {
    view.lines().next().unwrap_or("").split_whitespace().collect()
}

#[test]
fn every_read_command_over_socket_and_tcp() {
    let d = Daemon::start(JOBS);
    let list = d.sock(&["list"]).expect(0);
    golden("daemon-list.txt", &normalise_table(&list.stdout));
    assert!(!list.stdout.contains('\x1b'), "no colour when stdout is not a terminal");
    assert_eq!(normalise_table(&d.tcp(&["list"]).expect(0).stdout), normalise_table(&list.stdout));
    let env = d.sock(&["list", "--json"]).expect(0).json();
    assert_eq!(env["jobs"]["hello-world"]["id"], "hello-world");
    assert_eq!(d.tcp(&["env", "--json"]).expect(0).json()["name"], "karajoctl tests");
    assert_eq!(first_line_words(&d.sock(&["env"]).expect(0).stdout), ["name", "karajoctl", "tests"]);
    for r in [d.sock(&["job", "show", "Hello-World"]), d.tcp(&["job", "show", "hello-world"])] {
        assert_eq!(first_line_words(&r.expect(0).stdout), ["job", "hello-world"]);
    }
    assert_eq!(d.sock(&["http", "show", "ping", "--json"]).expect(0).json()["id"], "ping");
    assert!(d.tcp(&["http", "show", "ping"]).expect(0).stdout.contains("/karajo/health"));
    let r = d.tcp(&["http", "show", "trigger_hello-world"]).expect(0);
    assert!(r.stdout.contains("POST /karajo/api/job_exec/run/hello-world"), "{}", r.stdout);
}

#[test]
fn json_prints_the_api_data() {
    let d = Daemon::start(JOBS);
    let env = d.sock(&["--json", "list"]).expect(0).json();
    assert_eq!(d.tcp(&["env", "--json"]).expect(0).json(), env);
    assert_eq!(d.sock(&["job", "show", "monthly", "--json"]).expect(0).json(), env["jobs"]["Monthly"]);
    let h = d.tcp(&["http", "show", "trigger_hello-world", "--json"]).expect(0).json();
    assert_eq!(h, env["http_jobs"]["Trigger hello-world"]);
    let paused = d.sock(&["job", "pause", "monthly", "--json"]).expect(0).json();
    assert_eq!(paused["status"], "paused");
}

#[test]
fn the_table_shows_each_status_a_run_can_leave() {
    let d = Daemon::start(JOBS);
    d.sock(&["job", "run", "fails"]).expect(0);
    d.wait_status("fails", "failed");
    d.sock(&["job", "run", "hello-world"]).expect(0);
    d.wait_status("hello-world", "success");
    d.sock(&["job", "pause", "monthly"]).expect(0);
    d.sock(&["job", "run", "flood"]).expect(0);
    d.wait_status("flood", "running");
    d.sock(&["job", "cancel", "flood"]).expect(0);
    d.wait_status("flood", "canceled");
    d.sock(&["http", "run", "ping"]).expect(0);
    crate::karajod::wait_for("ping to succeed", || {
        d.sock(&["http", "show", "ping", "--json"]).json()["status"] == "success"
    });
    d.sock(&["job", "run", "slow"]).expect(0);
    d.wait_status("slow", "running");
    let list = d.sock(&["list"]).expect(0);
    golden("daemon-states-list.txt", &normalise_table(&list.stdout));
    assert_eq!(normalise_table(&d.tcp(&["list"]).expect(0).stdout), normalise_table(&list.stdout));
    d.touch("slow", "go");
}

/// Issue 14: with users, a signed read must sign a fresh `_karajo_epoch`
/// (also under a replay window, where identical reads in one second must
/// not count as replays).
#[test]
fn signed_reads_over_tcp_when_users_exist() {
    let users = "[user \"alice\"]\npassword = $2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy\n";
    // Lines before the first section header stay in [karajo].
    let d = Daemon::start_with(&format!("replay_window = 5m\n{JOBS}"), users);
    assert_eq!(run(&["--url", &d.url, "list"]).code, 1, "unsigned reads are refused");
    for _ in 0..3 {
        assert_eq!(d.tcp(&["env", "--json"]).expect(0).json()["name"], "karajoctl tests");
        assert!(d.tcp(&["job", "show", "hello-world"]).expect(0).stdout.starts_with("job "));
    }
    d.tcp(&["list"]).expect(0);
}

#[test]
fn actions_over_socket_and_tcp() {
    let d = Daemon::start(JOBS);
    for (r, word) in [
        (d.sock(&["job", "pause", "monthly"]), "paused job monthly\n"),
        (d.tcp(&["job", "resume", "monthly"]), "resumed job monthly\n"),
        (d.tcp(&["http", "pause", "ping"]), "paused http job ping\n"),
        (d.sock(&["http", "resume", "ping"]), "resumed http job ping\n"),
        (d.sock(&["job", "cancel", "monthly"]), "job monthly is not running: nothing to cancel\n"),
        (d.sock(&["job", "run", "Manual"]), "queued a run of job manual\n"),
    ] {
        assert_eq!(r.expect(0).stdout, word);
    }
    assert_eq!(d.tcp(&["job", "run", "hello-world"]).expect(0).stdout, "queued a run of job hello-world\n");
    crate::karajod::wait_for("the run's log", || d.sock(&["logs", "hello-world"]).stdout.contains("Hello, world"));
    d.sock(&["job", "run", "slow"]).expect(0);
    d.wait_status("slow", "running");
    assert_eq!(d.tcp(&["job", "cancel", "slow"]).expect(0).stdout, "canceled the run of job slow\n");
    d.wait_status("slow", "canceled");
    assert_eq!(d.tcp(&["http", "pause", "ping"]).expect(0).stdout, "paused http job ping\n");
    assert!(d.tcp(&["http", "run", "ping"]).expect(1).stderr.contains("ERR_JOB_PAUSED"));
    d.sock(&["http", "resume", "ping"]).expect(0);
    d.tcp(&["http", "run", "ping"]).expect(0);
    crate::karajod::wait_for("the http job's log", || d.sock(&["logs", "ping"]).code == 0);
}

#[test]
fn admin_calls_over_tcp_need_the_secret() {
    let d = Daemon::start(JOBS);
    let r = run(&["--url", &d.url, "job", "pause", "monthly"]).expect(1);
    assert!(r.stderr.contains("HTTP 401") && r.stderr.contains("KARAJO_SECRET"), "{}", r.stderr);
    let r = run(&["--url", &d.url, "--secret", "wrong", "job", "pause", "monthly"]).expect(1);
    assert!(r.stderr.contains("HTTP 401"), "{}", r.stderr);
    let r = run(&["--url", &d.url, "--secret", "wrong", "http", "run", "ping"]).expect(1);
    assert!(r.stderr.contains("HTTP 401"), "{}", r.stderr);
    // Refused calls changed nothing; the signed one does.
    assert_eq!(d.sock(&["job", "show", "monthly", "--json"]).expect(0).json()["status"], "started");
    d.tcp(&["job", "pause", "monthly"]).expect(0);
    assert_eq!(d.sock(&["job", "show", "monthly", "--json"]).expect(0).json()["status"], "paused");
}

#[test]
fn refusals_and_their_exit_codes() {
    let d = Daemon::start(JOBS);
    d.sock(&["job", "pause", "monthly"]).expect(0);
    let cases: [(&[&str], &str); 7] = [
        (&["job", "pause", "nope"], "ERR_JOB_NOT_FOUND"),
        (&["job", "show", "nope"], "ERR_JOB_NOT_FOUND"),
        (&["http", "show", "nope"], "ERR_INVALID_JOB_ID"),
        (&["job", "run", "monthly"], "ERR_JOB_PAUSED"),
        (&["logs", "nope"], "ERR_JOB_NOT_FOUND"),
        (&["logs", "monthly", "7"], "ERR_LOG_NOT_FOUND"),
        (&["logs", "--http", "manual"], "ERR_INVALID_JOB_ID"),
    ];
    for (args, name) in cases {
        for r in [d.sock(args), d.tcp(args)] {
            let r = r.expect(1);
            assert!(r.stderr.contains(name), "{args:?}: {}", r.stderr);
            assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
        }
    }
    // One run active and one queued: a third trigger is refused.
    d.sock(&["job", "run", "slow"]).expect(0);
    d.sock(&["job", "run", "slow"]).expect(0);
    assert!(d.sock(&["job", "run", "slow"]).expect(1).stderr.contains("ERR_JOB_ALREADY_RUN"));
    d.sock(&["job", "cancel", "slow"]).expect(0);
    let gone = d.socket.with_extension("gone");
    assert_eq!(on_socket(&gone, &["list"]).code, 3);
}

#[test]
fn reads_over_tcp_are_signed_for_daemons_with_users() {
    let d = Daemon::start_with(JOBS, USER_CONF);
    let r = run(&["--url", &d.url, "list"]).expect(1);
    assert!(r.stderr.contains("ERR_AUTH_REQUIRED") && r.stderr.contains("--secret"), "{}", r.stderr);
    d.tcp(&["list"]).expect(0);
    d.tcp(&["job", "show", "monthly"]).expect(0);
    d.sock(&["list"]).expect(0);
    run(&["--url", &d.url, "--secret", "wrong", "env"]).expect(1);
}

#[test]
fn reload_says_what_changed_and_a_refused_config_exits_1_with_every_error() {
    let d = Daemon::start(JOBS);
    let more = d.path("etc/karajo/job.d/more.conf");
    std::fs::create_dir_all(more.parent().unwrap()).unwrap();
    std::fs::write(&more, "[job \"added\"]\ncommand = true\n").unwrap();
    for r in [d.sock(&["reload"]), d.tcp(&["reload"])] {
        let out = r.expect(0).stdout;
        assert!(out.starts_with("reloaded ") && out.contains("karajo.conf"), "{out}");
    }
    assert_eq!(d.sock(&["job", "show", "added", "--json"]).expect(0).json()["id"], "added");
    std::fs::write(&more, "[job \"added\"]\nschedule = hourly@99\ncommand = true\n").unwrap();
    let refused = d.sock(&["reload"]).expect(1);
    assert!(refused.stderr.contains("ERR_CONFIG"), "{}", refused.stderr);
    assert!(refused.stderr.contains("more.conf:2"), "the located error is shown: {}", refused.stderr);
    let json = d.sock(&["reload", "--json"]);
    assert_eq!(json.code, 1);
    d.sock(&["job", "show", "added"]).expect(0);
}

/// Issue 14: every command gives the same message for an unknown ID, with
/// the hint to run `karajoctl list`, and takes a job's name where it takes
/// an ID.
#[test]
fn issue14_unknown_ids_get_one_message_and_names_work_like_ids() {
    let d = Daemon::start(
        "[job \"Nightly report\"]\ncommand = echo report\n\n[job.http \"Health probe\"]\nhttp_url = /karajo/health\n",
    );
    let commands: [&[&str]; 10] = [
        &["job", "show", "nope"],
        &["job", "run", "nope"],
        &["job", "pause", "nope"],
        &["job", "resume", "nope"],
        &["job", "cancel", "nope"],
        &["http", "show", "nope"],
        &["http", "run", "nope"],
        &["http", "cancel", "nope"],
        &["logs", "nope"],
        &["logs", "--http", "nope", "-f"],
    ];
    for args in commands {
        for r in [d.sock(args), d.tcp(args)] {
            let r = r.expect(1);
            let (first, hint) = r.stderr.split_once('\n').unwrap_or((&r.stderr, ""));
            assert!(
                first.starts_with("karajoctl: no ") && first.contains(" has the ID or name \"nope\" (ERR_"),
                "{args:?}: {}",
                r.stderr
            );
            assert!(hint.contains("karajoctl list"), "{args:?}: {}", r.stderr);
        }
    }
    assert_eq!(d.sock(&["job", "pause", "Nightly report"]).expect(0).stdout, "paused job nightly_report\n");
    assert_eq!(d.tcp(&["job", "resume", "Nightly report"]).expect(0).stdout, "resumed job nightly_report\n");
    assert_eq!(d.sock(&["job", "show", "Nightly report", "--json"]).expect(0).json()["id"], "nightly_report");
    assert_eq!(d.tcp(&["http", "show", "Health probe", "--json"]).expect(0).json()["id"], "health_probe");
    d.sock(&["job", "run", "Nightly report"]).expect(0);
    wait_for("the run's log", || d.sock(&["logs", "Nightly report"]).stdout.contains("report"));
    d.sock(&["http", "run", "Health probe"]).expect(0);
    wait_for("the http job's log", || d.tcp(&["logs", "Health probe"]).code == 0);
}

/// Issue 19: karajoctl signs with `X-Karajo-Signature`, so it works when
/// the daemon refuses the classic form; `karajoctl audit` shows who did it.
#[test]
fn signed_calls_bind_the_action_and_the_audit_shows_them() {
    let d = Daemon::start(&format!("{JOBS}\n")).with_classic_off();
    d.tcp(&["job", "pause", "monthly"]).expect(0);
    d.tcp(&["job", "resume", "monthly"]).expect(0);
    d.tcp(&["reload"]).expect(0);
    let r = run(&["--url", &d.url, "--secret", "wrong", "job", "pause", "monthly"]).expect(1);
    assert!(r.stderr.contains("HTTP 401"), "{}", r.stderr);
    d.tcp(&["job", "pause", "monthly"]).expect(0);
    // A forged call is not audited (a flood must not fill the disk). The oldest entry, the socket reload, names this machine's uid and a pid.
    let table = d.sock(&["audit", "-n", "4"]).expect(0).stdout;
    golden("audit.txt", &normalise_table(&table));
    let json = d.sock(&["audit", "--json", "-n", "1"]).expect(0).json();
    assert_eq!(json.as_array().map(Vec::len), Some(1), "{json}");
    assert_eq!((json[0]["action"].as_str(), json[0]["result"].as_str()), (Some("job_exec/pause"), Some("ok")));
}
