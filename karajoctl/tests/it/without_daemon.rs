//! What karajoctl does with no daemon at all: usage errors (exit 2), an
//! unreachable socket or URL (exit 3, naming it), completions and man page.

use crate::harness::{command, run, run_cmd};

#[test]
fn unreachable_socket_exits_3_and_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("nope.sock");
    let r = run(&["job", "pause", "backup", "--socket", sock.to_str().unwrap()]).expect(3);
    assert!(r.stderr.contains(&sock.display().to_string()), "{}", r.stderr);
    assert!(r.stdout.is_empty());
}

#[test]
fn socket_from_the_environment() {
    let mut cmd = command(&["list"]);
    cmd.env("KARAJO_SOCKET", "/nonexistent/k.sock");
    let r = run_cmd(cmd).expect(3);
    assert!(r.stderr.contains("/nonexistent/k.sock"), "{}", r.stderr);
}

#[test]
fn unreachable_url_exits_3_and_names_it() {
    // Bind then drop a port so nothing listens on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let r = run(&["env", "--url", &url]).expect(3);
    assert!(r.stderr.contains(&url), "{}", r.stderr);
}

#[test]
fn usage_errors_exit_2() {
    run(&["job", "frobnicate", "x"]).expect(2);
    run(&["logs"]).expect(2);
    run(&["logs", "x", "not-a-counter"]).expect(2);
    let r = run(&["list", "--url", "ftp://example.invalid"]).expect(2);
    assert!(r.stderr.contains("--url"), "{}", r.stderr);
}

#[test]
fn completions_and_man_page_come_from_the_same_definitions() {
    // The scripts call karajoctl back (COMPLETE=SHELL) for every word,
    // so subcommands and job IDs come from the same binary.
    for shell in ["bash", "zsh", "fish"] {
        let r = run(&["completions", shell]).expect(0);
        assert!(r.stdout.contains("COMPLETE="), "{shell}: {}", r.stdout);
        assert!(r.stdout.contains("karajoctl"), "{shell}");
    }
    let man = run(&["man"]).expect(0);
    assert!(man.stdout.contains(".TH karajoctl"), "{}", &man.stdout[..200]);
    assert!(man.stdout.contains("completions"));
}

/// Issue 14: output into a pipe whose reader is gone (`karajoctl man | head`)
/// ends quietly with exit 0.
#[test]
fn issue14_man_and_completions_into_a_closed_pipe_end_quietly() {
    for args in [&["man"][..], &["completions", "bash"]] {
        let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
        drop(theirs);
        let mut cmd = command(args);
        cmd.stdout(std::process::Stdio::from(std::os::fd::OwnedFd::from(ours)));
        let r = run_cmd(cmd);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert!(r.stderr.is_empty(), "{args:?}: {}", r.stderr);
    }
}
