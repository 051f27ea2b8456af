//! karajoctl facing answers the real karajod never gives (see `fake.rs`):
//! each is a clear error naming the daemon, with exit 1 (an answer, but
//! not the API's) or 3 (the exchange broke off), and never a panic.

use crate::fake::Fake;
use crate::harness::{Live, Run, run};

/// Exit 1, nothing on stdout, and the error names the daemon it asked.
fn refused_naming(r: Run, url: &str) {
    let r = r.expect(1);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(r.stderr.contains(url), "{url} missing: {}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
}

#[test]
fn answers_that_are_not_the_api_exit_1_and_say_so() {
    let f = Fake::start();
    let url = f.url.as_str();
    refused_naming(run(&["--url", url, "list"]), url);
    refused_naming(run(&["--url", url, "env", "--json"]), url);
    refused_naming(run(&["--url", url, "job", "show", "x"]), url);
    refused_naming(run(&["--url", url, "http", "show", "x"]), url);
    refused_naming(run(&["--url", url, "logs", "withlog"]), url);
}

#[test]
fn an_error_page_instead_of_the_api_error_exits_1_with_the_status() {
    let f = Fake::start();
    for args in [["job", "pause", "x"], ["http", "run", "x"]] {
        let mut all = vec!["--url", f.url.as_str(), "--secret", "s"];
        all.extend_from_slice(&args);
        let r = run(&all).expect(1);
        assert!(r.stderr.contains("502") || r.stderr.contains("Bad Gateway"), "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(&f.url), "{args:?}: {}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    }
}

#[test]
fn a_log_stream_cut_before_its_end_exits_3() {
    let f = Fake::start();
    let mut live = Live::spawn(&["--url", &f.url, "logs", "withlog", "-f"]);
    assert_eq!(live.next_line(), "the only line");
    assert_eq!(live.wait(), 3);
    let stderr = live.stderr_rest();
    assert!(stderr.contains("closed before run #1 ended") && !stderr.contains("panicked"), "{stderr}");
}
