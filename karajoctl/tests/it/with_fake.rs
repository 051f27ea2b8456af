//! Every command of the real binary against the stand-in daemon, over the
//! socket and over TCP: tables, `--json`, confirmations, signatures, every
//! refusal's exit code, and `logs -f` across runs.

use crate::fake::{Call, Fake, SECRET};
use crate::harness::{Live, golden, normalise_table, on_socket, run};

fn tcp(f: &Fake, args: &[&str]) -> crate::harness::Run {
    let mut all = vec!["--url", f.url.as_str(), "--secret", SECRET];
    all.extend_from_slice(args);
    run(&all)
}

#[test]
fn list_over_socket_and_tcp_is_the_same_table() {
    let f = Fake::start();
    let sock = on_socket(&f.socket, &["list"]).expect(0);
    golden("fake-list.txt", &normalise_table(&sock.stdout));
    assert!(!sock.stdout.contains('\x1b'), "no colour when stdout is not a terminal");
    let over_tcp = tcp(&f, &["list"]).expect(0);
    assert_eq!(normalise_table(&over_tcp.stdout), normalise_table(&sock.stdout));
}

#[test]
fn json_prints_the_api_data() {
    let f = Fake::start();
    let env = on_socket(&f.socket, &["--json", "list"]).expect(0).json();
    assert_eq!(env["jobs"]["hello-world"]["id"], "hello-world");
    assert_eq!(on_socket(&f.socket, &["env", "--json"]).expect(0).json(), env);
    let job = on_socket(&f.socket, &["job", "show", "backup", "--json"]).expect(0).json();
    assert_eq!(job, env["jobs"]["backup"]);
    let h = tcp(&f, &["http", "show", "health_probe", "--json"]).expect(0).json();
    assert_eq!(h, env["http_jobs"]["Health probe"]);
    let paused = on_socket(&f.socket, &["job", "pause", "manual", "--json"]).expect(0).json();
    assert_eq!(paused["status"], "paused");
}

#[test]
fn show_and_env_views() {
    let f = Fake::start();
    let r = on_socket(&f.socket, &["job", "show", "Test_Job_Success"]).expect(0);
    assert!(r.stdout.starts_with("job             test_job_success\n"), "{}", r.stdout);
    let r = tcp(&f, &["http", "show", "trigger_hello-world"]).expect(0);
    assert!(r.stdout.contains("POST /karajo/api/job_exec/run/hello-world"), "{}", r.stdout);
    let r = on_socket(&f.socket, &["env"]).expect(0);
    assert!(r.stdout.starts_with("name             Karajo example\n"), "{}", r.stdout);
}

#[test]
fn pause_resume_run_cancel_confirm_in_one_line() {
    let f = Fake::start();
    assert_eq!(on_socket(&f.socket, &["job", "pause", "backup"]).expect(0).stdout, "paused job backup\n");
    assert_eq!(on_socket(&f.socket, &["job", "resume", "backup"]).expect(0).stdout, "resumed job backup\n");
    assert_eq!(on_socket(&f.socket, &["job", "run", "Manual"]).expect(0).stdout, "queued a run of job manual\n");
    let r = on_socket(&f.socket, &["job", "cancel", "manual"]).expect(0);
    assert_eq!(r.stdout, "job manual is not running: nothing to cancel\n");
    let r = on_socket(&f.socket, &["job", "cancel", "hello-world"]).expect(0);
    assert_eq!(r.stdout, "canceled the run of job hello-world\n");
    assert_eq!(tcp(&f, &["http", "pause", "health_probe"]).expect(0).stdout, "paused http job health_probe\n");
    tcp(&f, &["http", "run", "health_probe"]).expect(1);
}

#[test]
fn admin_calls_are_signed_over_tcp() {
    let f = Fake::start();
    on_socket(&f.socket, &["job", "pause", "backup"]).expect(0);
    tcp(&f, &["job", "resume", "backup"]).expect(0);
    tcp(&f, &["http", "run", "trigger_hello-world"]).expect(0);
    let calls = f.calls();
    let call =
        |path: &str, id: &str, signed, over_socket| Call { path: path.into(), id: id.into(), signed, over_socket };
    assert_eq!(
        calls,
        vec![
            call("/job_exec/pause", "backup", false, true),
            call("/job_exec/resume", "backup", true, false),
            call("/job_http/run", "trigger_hello-world", true, false),
        ]
    );
    // Without the secret the daemon refuses; the hint says what to do.
    let r = run(&["--url", &f.url, "job", "pause", "backup"]).expect(1);
    assert!(r.stderr.contains("HTTP 401") && r.stderr.contains("KARAJO_SECRET"), "{}", r.stderr);
    let r = run(&["--url", &f.url, "--secret", "wrong", "job", "pause", "backup"]).expect(1);
    assert!(r.stderr.contains("HTTP 401"), "{}", r.stderr);
}

#[test]
fn refusals_exit_1_with_the_error_name() {
    let f = Fake::start();
    let cases: [(&[&str], &str); 5] = [
        (&["job", "pause", "nope"], "ERR_JOB_NOT_FOUND"),
        (&["job", "show", "nope"], "ERR_JOB_NOT_FOUND"),
        (&["http", "show", "nope"], "ERR_INVALID_JOB_ID"),
        (&["job", "run", "backup"], "ERR_JOB_PAUSED"),
        (&["job", "run", "hello-world"], "ERR_JOB_ALREADY_RUN"),
    ];
    for (args, name) in cases {
        let r = on_socket(&f.socket, args).expect(1);
        assert!(r.stderr.contains(name), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty());
    }
    let r = on_socket(&f.socket, &["logs", "nope"]).expect(1);
    assert!(r.stderr.contains("ERR_JOB_NOT_FOUND"), "{}", r.stderr);
    let r = on_socket(&f.socket, &["logs", "manual", "99"]).expect(1);
    assert!(r.stderr.contains("ERR_LOG_NOT_FOUND"), "{}", r.stderr);
}

#[test]
fn logs_prints_the_latest_run_of_a_job_or_http_job() {
    let f = Fake::start();
    let n = f.start_run("manual");
    f.line("manual", n, "first");
    f.line("manual", n, "second");
    f.finish("manual", n, "success");
    assert_eq!(on_socket(&f.socket, &["logs", "manual"]).expect(0).stdout, "first\nsecond\n");
    assert_eq!(tcp(&f, &["logs", "manual", &n.to_string()]).expect(0).stdout, "first\nsecond\n");
    let log = on_socket(&f.socket, &["logs", "manual", "--json"]).expect(0).json();
    assert_eq!(log["counter"], n);
    // Not a job: found as an HTTP job; --http goes there directly.
    let h = f.start_run("trigger_hello-world");
    f.line("trigger_hello-world", h, "POST /karajo/api/job_exec/run/hello-world");
    f.finish("trigger_hello-world", h, "success");
    let r = on_socket(&f.socket, &["logs", "trigger_hello-world"]).expect(0);
    assert_eq!(r.stdout, "POST /karajo/api/job_exec/run/hello-world\n");
    on_socket(&f.socket, &["logs", "--http", "trigger_hello-world"]).expect(0);
    on_socket(&f.socket, &["logs", "--http", "manual"]).expect(1);
}

#[test]
fn logs_follow_streams_a_running_job_then_the_next_run() {
    let f = Fake::start();
    let n = f.start_run("manual");
    f.line("manual", n, "one");
    let live = Live::spawn(&["--socket", f.socket.to_str().unwrap(), "logs", "manual", "-f"]);
    assert_eq!(live.next_line(), "one");
    // A line written while karajoctl follows shows before the run ends.
    f.line("manual", n, "two");
    assert_eq!(live.next_line(), "two");
    f.finish("manual", n, "failed");
    let m = f.start_run("manual");
    f.line("manual", m, "next run");
    assert_eq!(live.next_line(), "next run");
    f.finish("manual", m, "success");
}

#[test]
fn logs_follow_over_tcp_waits_for_a_first_run() {
    let f = Fake::start();
    let live = Live::spawn(&["--url", &f.url, "logs", "manual", "-f"]);
    let n = f.start_run("manual");
    f.line("manual", n, "hello");
    assert_eq!(live.next_line(), "hello");
}

#[test]
fn a_closed_pipe_exits_0_quietly() {
    let f = Fake::start();
    let n = f.start_run("manual");
    f.line("manual", n, "first");
    let mut live = Live::spawn(&["--socket", f.socket.to_str().unwrap(), "logs", "manual", "-f"]);
    assert_eq!(live.next_line(), "first");
    live.close_stdout();
    // Keep writing until karajoctl notices the closed pipe.
    let mut i = 0;
    let code = loop {
        if let Some(code) = live.try_code() {
            break code;
        }
        assert!(i < 500, "karajoctl kept running with a closed stdout");
        f.line("manual", n, &format!("more {i}"));
        i += 1;
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(code, 0);
    let stderr = live.stderr_rest();
    assert!(!stderr.contains("karajoctl:"), "{stderr}");
}

#[test]
fn reads_over_tcp_are_signed_for_daemons_with_users() {
    let f = Fake::start();
    f.require_signed_reads();
    let r = run(&["--url", &f.url, "list"]).expect(1);
    assert!(r.stderr.contains("ERR_AUTH_REQUIRED") && r.stderr.contains("--secret"), "{}", r.stderr);
    tcp(&f, &["list"]).expect(0);
    tcp(&f, &["job", "show", "backup"]).expect(0);
    on_socket(&f.socket, &["list"]).expect(0);
    run(&["--url", &f.url, "--secret", "wrong", "env"]).expect(1);
}
