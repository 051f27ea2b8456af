//! The daemon's life as a user sees it: it starts, answers health, exits
//! cleanly on signals.

use nix::sys::signal::Signal;

use crate::harness::{Daemon, Tree};

#[test]
fn serves_health_and_exits_zero_on_sigterm() {
    let tree = Tree::new("[karajo]\nsecret = s3cret\n");
    let mut d = Daemon::start(&tree);
    let r = d.get("/karajo/health");
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["status"], "ok");
    assert!(d.signal_and_wait(Signal::SIGTERM).success());
}

#[test]
fn exits_zero_on_sigint() {
    let tree = Tree::new("[karajo]\nsecret = s3cret\n");
    let mut d = Daemon::start(&tree);
    assert!(d.signal_and_wait(Signal::SIGINT).success());
}

#[test]
fn prints_a_generated_secret_when_none_is_set() {
    let tree = Tree::new("[karajo]\nname = t\n");
    let d = Daemon::start(&tree);
    let line = d.stdout_lines.iter().find(|l| l.contains("generated")).expect("a line with the secret");
    let secret = line.rsplit(' ').next().unwrap();
    assert_eq!(secret.len(), 32, "{line}");
    assert!(secret.chars().all(|c| c.is_ascii_alphanumeric()));
}

#[test]
fn unknown_karajo_paths_are_404() {
    let tree = Tree::new("[karajo]\nsecret = x\n");
    let d = Daemon::start(&tree);
    assert_eq!(d.get("/karajo/nope").status(), 404);
}
