//! Tests that need a tool this machine may lack (python3 with aiosmtpd, the
//! right to mount a tmpfs). Under CI (env `CI` set) a missing tool fails
//! the test loudly, so a green CI run has really run it; elsewhere the
//! test says SKIPPED where a human sees it and returns.

use std::io::Write;

/// True when the env var `CI` is set (to anything but empty, `0` or `false`).
pub fn on_ci() -> bool {
    is_ci(std::env::var("CI").ok().as_deref())
}

fn is_ci(value: Option<&str>) -> bool {
    value.is_some_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// The current test cannot run because `what` is missing: panics under CI,
/// else prints `SKIPPED <test>: <what>` and lets the caller return.
///
/// The note goes straight to the process's stderr: libtest captures
/// `eprintln!` of a passing test and would hide it.
pub fn missing(what: &str) {
    let test = std::thread::current().name().unwrap_or("a test").to_string();
    assert!(!on_ci(), "{test}: {what}, and CI is set: this test must run on CI");
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {what}");
}

#[test]
fn ci_is_any_value_but_empty_0_or_false() {
    for (value, ci) in [(None, false), (Some(""), false), (Some("0"), false), (Some("False"), false)] {
        assert_eq!(is_ci(value), ci, "{value:?}");
    }
    for value in ["true", "1", "yes", "github"] {
        assert!(is_ci(Some(value)), "{value}");
    }
}
