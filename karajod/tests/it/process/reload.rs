//! A reload that removes a running job and adds it back keeps that run:
//! its `.running` log is never renamed while it runs, no second run starts
//! beside it, and counters go on. Also: cancel drops the queued trigger,
//! and `KARAJO_REQUEST_BODY` is absolute with a relative dir_base.

use std::time::Duration;

use super::{act, env, job};
use crate::harness::{Daemon, Tree, find_log, wait_for, wait_run_end};

const BASE: &str = "[karajo]\nsecret = s3cret\nmax_job_running = 4\n";
/// Runs until the file `go` appears in its working directory.
const JOB_R: &str = "[job \"r\"]\ncommand = \"echo waiting; while [ ! -e go ]; do sleep 0.02; done; echo went\"\n";
const JOB_OTHER: &str = "[job \"other\"]\ncommand = true\n";

fn reload(d: &Daemon, tree: &Tree, text: &str, r_present: bool) {
    let conf = std::fs::read_to_string(tree.config()).unwrap();
    let head = conf.split("[job").next().unwrap().to_string();
    std::fs::write(tree.config(), format!("{head}{text}")).unwrap();
    nix::sys::signal::kill(d.pid(), nix::sys::signal::Signal::SIGHUP).unwrap();
    let want = if r_present { 200 } else { 404 };
    wait_for(Duration::from_secs(10), "the reload to apply", || job(d, "r").0 == want && job(d, "other").0 == 200);
}

#[test]
fn reload_removing_and_re_adding_a_running_job_keeps_its_run() {
    let tree = Tree::new(&format!("{BASE}{JOB_R}{JOB_OTHER}"));
    let d = Daemon::start_with(&tree, &env("auto"));
    assert_eq!(act(&d, "run", "r").0, 200);
    wait_for(Duration::from_secs(10), "run r.1 to start", || {
        find_log(&tree, "job", "r", 1)
            .is_some_and(|(p, _)| std::fs::read_to_string(p).unwrap_or_default().contains("waiting"))
    });
    reload(&d, &tree, JOB_OTHER, false);
    assert_eq!(find_log(&tree, "job", "r", 1).unwrap().1, "running", "the run's log was renamed while it runs");
    reload(&d, &tree, &format!("{JOB_R}{JOB_OTHER}"), true);
    assert_eq!(find_log(&tree, "job", "r", 1).unwrap().1, "running", "re-adding renamed the running log");
    let (_, v) = job(&d, "r");
    assert_eq!(v["data"]["status"], "running", "{v}");
    // A trigger now queues behind the run instead of starting a second one.
    assert_eq!(act(&d, "run", "r").0, 200);
    assert!(find_log(&tree, "job", "r", 2).is_none(), "a second run started beside the first");
    std::fs::write(tree.path("var/lib/karajo/job/r/go"), "").unwrap();
    let (status, text) = wait_run_end(&tree, "job", "r", 1, Duration::from_secs(10));
    assert_eq!(status, "success", "{text}");
    assert!(!text.contains("daemon stopped"), "the run got a recovery note:\n{text}");
    let (status, _) = wait_run_end(&tree, "job", "r", 2, Duration::from_secs(10));
    assert_eq!(status, "success");
}

#[test]
fn cancel_drops_the_queued_trigger() {
    let tree = Tree::new(&format!("{BASE}{JOB_R}{JOB_OTHER}"));
    let d = Daemon::start_with(&tree, &env("auto"));
    assert_eq!(act(&d, "run", "r").0, 200);
    wait_for(Duration::from_secs(10), "run r.1 to start", || find_log(&tree, "job", "r", 1).is_some());
    assert_eq!(act(&d, "run", "r").0, 200, "the second trigger is queued");
    let (code, v) = act(&d, "cancel", "r");
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["data"]["id"], "r", "cancel answers with the Job JSON: {v}");
    assert_eq!(v["message"], proto::response::CANCEL_QUEUED_DROPPED, "the answer says the queued run went: {v}");
    let (status, _) = wait_run_end(&tree, "job", "r", 1, Duration::from_secs(10));
    assert_eq!(status, "canceled");
    // The queued trigger is gone: the next run is #2, and it is ours.
    std::fs::write(tree.path("var/lib/karajo/job/r/go"), "").unwrap();
    wait_for(Duration::from_secs(10), "r to be idle", || job(&d, "r").1["data"]["status"] == "canceled");
    assert!(find_log(&tree, "job", "r", 2).is_none(), "the queued trigger ran after the cancel");
    assert_eq!(act(&d, "run", "r").0, 200);
    assert_eq!(wait_run_end(&tree, "job", "r", 2, Duration::from_secs(10)).0, "success");
    assert!(find_log(&tree, "job", "r", 3).is_none());
}

#[test]
fn request_body_path_is_absolute_with_a_relative_dir_base() {
    let tree = Tree::new(
        "[karajo]\nsecret = s3cret\ndir_base = .\n[job \"hook\"]\npath = /hook\ncommand = \"case $KARAJO_REQUEST_BODY in /*) cat $KARAJO_REQUEST_BODY;; *) echo relative: $KARAJO_REQUEST_BODY; exit 1;; esac\"\n",
    );
    let d = Daemon::start_with(&tree, &env("auto"));
    let body = br#"{"hello":"body"}"#.to_vec();
    let sig = proto::sign::hmac_sha256_hex(super::SECRET.as_bytes(), &body);
    let r = super::client()
        .post(format!("{}/karajo/api/job_exec/run/hook", d.url))
        .header("X-Karajo-Sign", sig)
        .body(body)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (status, text) = wait_run_end(&tree, "job", "hook", 1, Duration::from_secs(10));
    assert_eq!(status, "success", "{text}");
    assert!(text.contains(r#"{"hello":"body"}"#), "{text}");
}
