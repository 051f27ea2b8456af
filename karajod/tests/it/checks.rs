//! Passive checks (SPEC 18) against the real daemon: pings are real HTTP
//! requests as curl sends them, transitions are polled with deadlines on
//! `/environment`, notifications arrive at a real receiver.

use std::time::Duration;

use serde_json::Value;

use crate::alerts::receiver::Receiver;
use crate::harness::{Daemon, Tree, client, wait_for};

const SECRET: &str = "s3cret";
const KEY: &str = "k3y-0123456789abcdef";
const WAIT: Duration = Duration::from_secs(20);

fn conf(extra_check: &str, hook_url: &str) -> String {
    format!(
        "[karajo]\nsecret = {SECRET}\n[notif \"ops\"]\nkind = webhook\nurl = {hook_url}\n\
         [check \"Nightly backup\"]\nkey = {KEY}\nperiod = 2s\ngrace = 2s\nnotif_on_down = ops\nnotif_on_up = ops\n{extra_check}\n"
    )
}

fn check(d: &Daemon) -> Value {
    let env: Value = d.get("/karajo/api/environment").json().unwrap();
    env["data"]["checks"]["Nightly backup"].clone()
}

fn status(d: &Daemon) -> String {
    check(d)["status"].as_str().unwrap_or_default().to_string()
}

fn wait_status(d: &Daemon, want: &str) {
    wait_for(WAIT, &format!("check status {want}"), || status(d) == want);
}

/// GET or POST a ping path the way `curl -fsS -m 10 --retry 3 URL` does.
fn ping(d: &Daemon, path: &str, body: Option<Vec<u8>>) -> u16 {
    let url = format!("{}/karajo/ping/{path}", d.url);
    let req = match body {
        Some(b) => client().post(url).header("User-Agent", "curl/8.5.0").body(b),
        None => client().get(url).header("User-Agent", "curl/8.5.0"),
    };
    req.send().unwrap().status().as_u16()
}

#[test]
fn pings_move_a_check_new_up_late_down_up_and_down_and_up_notify_once() {
    let r = Receiver::start();
    let tree = Tree::new(&conf("", &r.url));
    let d = Daemon::start(&tree);
    let c = check(&d);
    assert_eq!(c["status"], "new");
    assert_eq!(
        (c["id"].as_str(), c["period"].as_i64(), c["grace"].as_i64()),
        (Some("nightly_backup"), Some(2_000_000_000), Some(2_000_000_000))
    );
    assert!(c.get("key").is_none() && !c.to_string().contains(KEY), "the key is never shown: {c}");
    assert_eq!(ping(&d, KEY, None), 200);
    assert_eq!(status(&d), "up");
    wait_status(&d, "late");
    wait_status(&d, "down");
    let got = r.wait_for(1, WAIT);
    let v = got[0].json();
    assert_eq!(
        (v["event"].as_str(), v["kind"].as_str(), v["job_id"].as_str()),
        (Some("down"), Some("check"), Some("nightly_backup"))
    );
    assert_eq!(ping(&d, &format!("{KEY}/0"), Some(b"all good".to_vec())), 200);
    assert_eq!(status(&d), "up");
    let got = r.wait_for(2, WAIT);
    assert_eq!(got[1].json()["event"], "up");
    assert_eq!(ping(&d, &format!("{KEY}/fail"), None), 200);
    assert_eq!(status(&d), "down", "a fail ping is down at once");
    let got = r.wait_for(3, WAIT);
    assert_eq!(got[2].json()["event"], "down");
    assert_eq!(r.requests().len(), 3, "each transition notified once");
    let metrics = d.get("/karajo/metrics").text().unwrap();
    assert!(metrics.contains("karajo_checks{status=\"down\"} 1"), "{metrics}");
}

#[test]
fn an_unknown_key_or_path_answers_404_and_reveals_nothing() {
    let tree = Tree::new(&conf("", "http://127.0.0.1:9/x"));
    let d = Daemon::start(&tree);
    let nothing = d.get("/karajo/no/such/page");
    let (want_status, want_body) = (nothing.status().as_u16(), nothing.text().unwrap());
    for path in ["wrong-key-0123456789", &format!("{KEY}x"), &format!("{KEY}/bogus"), &format!("{KEY}/256"), ""] {
        let resp = client().get(format!("{}/karajo/ping/{path}", d.url)).send().unwrap();
        assert_eq!(resp.status().as_u16(), 404, "{path}");
        assert_eq!(resp.text().unwrap(), want_body, "{path}: like any unknown path");
    }
    assert_eq!(want_status, 404);
    assert_eq!(status(&d), "new", "no ping counted");
}

#[test]
fn a_101_kib_body_is_cut_to_100_kib_and_kept_as_the_pings_log() {
    let tree = Tree::new(&conf("", "http://127.0.0.1:9/x"));
    let d = Daemon::start(&tree);
    let body: Vec<u8> = (0..101 * 1024).map(|i| b'a' + (i % 26) as u8).collect();
    assert_eq!(ping(&d, &format!("{KEY}/fail"), Some(body.clone())), 200, "cut, not refused");
    assert_eq!(status(&d), "down");
    let log = tree.path("var/log/karajo/check/nightly_backup/nightly_backup.1.failed");
    wait_for(WAIT, "the ping's log", || log.exists());
    assert_eq!(std::fs::read(&log).unwrap(), &body[..100 * 1024]);
    assert_eq!(check(&d)["last_ping_kind"], "fail");
}

/// POST `check/ACTION?name=nightly_backup`, signed over the query as job_http/pause is.
fn signed(d: &Daemon, action: &str) -> (u16, Value) {
    let query = format!("name=nightly_backup&_karajo_epoch={}", chrono::Utc::now().timestamp());
    let sig = proto::sign::hmac_sha256_hex(SECRET.as_bytes(), query.as_bytes());
    let url = format!("{}/karajo/api/check/{action}?{query}", d.url);
    let resp = client().post(url).header("X-Karajo-Sign", &sig).send().unwrap();
    (resp.status().as_u16(), resp.json().unwrap_or(Value::Null))
}

#[test]
fn pause_and_resume_through_the_api_and_a_restart_keeps_status_and_last_ping() {
    let tree = Tree::new(&conf("", "http://127.0.0.1:9/x"));
    let mut d = Daemon::start(&tree);
    assert_eq!(ping(&d, &format!("{KEY}/start"), None), 200);
    assert_eq!(status(&d), "new", "a start ping is not a success");
    assert_eq!(ping(&d, KEY, Some(b"done".to_vec())), 200);
    let before = check(&d);
    assert_eq!(before["status"], "up");
    // Unsigned: refused like job_http/pause.
    let resp = client().post(format!("{}/karajo/api/check/pause?name=nightly_backup", d.url)).send().unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let (code, v) = signed(&d, "pause");
    assert_eq!(code, 200);
    assert_eq!(v["data"]["status"], "paused");
    let unknown = client().get(format!("{}/karajo/api/check?name=nope", d.url)).send().unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
    // Restart: paused survives, and so does the last ping.
    d.signal_and_wait(nix::sys::signal::Signal::SIGTERM);
    let d = Daemon::start(&tree);
    let after = check(&d);
    assert_eq!(after["status"], "paused", "{after}");
    assert_eq!(after["last_ping"], before["last_ping"]);
    assert_eq!(signed(&d, "resume").0, 200);
    assert_ne!(status(&d), "paused");
}

#[test]
fn a_restart_keeps_an_up_check_up_with_its_pings() {
    let tree = Tree::new(&conf("", "http://127.0.0.1:9/x").replace("period = 2s", "period = 1h"));
    let mut d = Daemon::start(&tree);
    for _ in 0..3 {
        assert_eq!(ping(&d, KEY, None), 200);
    }
    let before = check(&d);
    assert_eq!((before["status"].as_str(), before["pings"].as_u64()), (Some("up"), Some(3)));
    // The rows are written in the background; a stop flushes them.
    d.signal_and_wait(nix::sys::signal::Signal::SIGTERM);
    let d = Daemon::start(&tree);
    let after = check(&d);
    assert_eq!((after["status"].as_str(), after["pings"].as_u64()), (Some("up"), Some(3)), "{after}");
    assert_eq!(after["last_ping"], before["last_ping"]);
    assert_eq!(after["next_due"], before["next_due"]);
}

#[test]
fn karajod_check_lists_checks_without_their_key() {
    let tree = Tree::new(&conf("", "https://hooks.example.com/x"));
    let out = crate::harness::run_karajod(&["check", "--config", tree.config().to_str().unwrap()], tree.base());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("checks: 1"), "{stdout}");
    assert!(
        stdout.contains("nightly_backup") && stdout.contains("period 2s, grace 2s; notif_on_down ops; notif_on_up ops"),
        "{stdout}"
    );
    assert!(!stdout.contains(KEY), "{stdout}");
}

/// With users, the API needs a session, the ping endpoints still do not.
#[test]
fn pings_need_no_session_when_the_api_does() {
    let tree = Tree::new(&conf("", "http://127.0.0.1:9/x"));
    let hash = bcrypt::hash("pw", 4).unwrap();
    tree.write("etc/karajo/user.conf", &format!("[user \"alice\"]\npassword = {hash}\n"));
    let d = Daemon::start(&tree);
    assert_eq!(ping(&d, KEY, None), 200);
    let resp = client().get(format!("{}/karajo/api/check?name=nightly_backup", d.url)).send().unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert_eq!(
        client().get(format!("{}/karajo/ping/nope-0123456789abcdef", d.url)).send().unwrap().status().as_u16(),
        404
    );
}

/// A check on a schedule carries it as written and in words, as a job does.
#[test]
fn a_scheduled_check_shows_its_schedule_in_words() {
    let tree = Tree::new(&format!(
        "[karajo]\nsecret = {SECRET}\n[check \"Nightly backup\"]\nkey = {KEY}\nschedule = 30 2 * * 1-5\n\
         timezone = Europe/Berlin\ngrace = 1h\n"
    ));
    let d = Daemon::start(&tree);
    let c = check(&d);
    assert_eq!(
        (c["schedule"].as_str(), c["timezone"].as_str(), c["period"].as_i64()),
        (Some("30 2 * * 1-5"), Some("Europe/Berlin"), Some(0))
    );
    let words = c["schedule_text"].as_str().unwrap_or_default();
    assert!(words.contains("02:30") && words.to_lowercase().contains("monday"), "{c}");
}
