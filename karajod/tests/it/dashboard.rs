//! What the dashboard reads from the Job JSON (SPEC 20), against the real
//! daemon: `description_html` sanitised by the daemon next to the
//! `description` as written, and `queued` while a trigger waits.

use std::time::Duration;

use serde_json::Value;

use crate::api::get;
use crate::harness::{Daemon, Tree, wait_for};
use crate::operating::run_now;

const CONF: &str = "[karajo]\nsecret = s3cret\nmax_job_running = 1\n\
[job \"slow\"]\ncommand = sleep 30\n\
[job \"other\"]\ncommand = true\n\
[job \"described\"]\ncommand = true\n\
description = \"<b>Nightly</b> <a href=\\\"https://example.com/x\\\" onclick=\\\"alert(1)\\\">docs</a>\
<img src=x onerror=\\\"alert(2)\\\"><script>alert(3)</script>\"\n\
[job.http \"ping\"]\nhttp_url = /karajo/health\ndescription = plain & simple\n";

fn job(d: &Daemon, id: &str) -> Value {
    let (code, v) = get(d, &format!("/karajo/api/job_exec?id={id}"));
    assert_eq!(code, 200, "{v}");
    v["data"].clone()
}

#[test]
fn descriptions_come_sanitised_beside_the_text_as_written() {
    let tree = Tree::new(CONF);
    let d = Daemon::start(&tree);
    let j = job(&d, "described");
    assert!(j["description"].as_str().unwrap().contains("<script>"), "description stays as written: {j}");
    assert_eq!(
        j["description_html"],
        "<b>Nightly</b> <a href=\"https://example.com/x\" target=\"_blank\" rel=\"noopener noreferrer nofollow\">docs</a>"
    );
    let (_, h) = get(&d, "/karajo/api/job_http?id=ping");
    assert_eq!(h["data"]["description_html"], "plain &amp; simple");
    assert_eq!(job(&d, "slow")["description_html"], "");
    let (_, env) = get(&d, "/karajo/api/environment");
    assert_eq!(env["data"]["jobs"]["described"]["description_html"], j["description_html"]);
}

#[test]
fn queued_says_a_trigger_waits_behind_the_run_or_for_a_slot() {
    let tree = Tree::new(CONF);
    let d = Daemon::start(&tree);
    assert_eq!(job(&d, "slow")["queued"], false);
    assert_eq!(run_now(&d, "slow"), 200);
    wait_for(Duration::from_secs(10), "slow to run", || job(&d, "slow")["status"] == "running");
    assert_eq!(job(&d, "slow")["queued"], false, "running alone is not queued");
    // A second trigger waits behind the run; another job waits for the one slot.
    assert_eq!(run_now(&d, "slow"), 200);
    assert_eq!(run_now(&d, "other"), 200);
    let (slow, other) = (job(&d, "slow"), job(&d, "other"));
    assert_eq!((&slow["status"], &slow["queued"]), (&Value::from("running"), &Value::from(true)), "{slow}");
    assert_eq!((&other["status"], &other["queued"]), (&Value::from("started"), &Value::from(true)), "{other}");
    assert_eq!(job(&d, "described")["queued"], false);
}
