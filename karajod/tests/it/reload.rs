//! The one reload path against the real daemon: over the control socket
//! (what `karajoctl reload` and the unit's ExecReload use) and on SIGHUP;
//! a reload reaches the HTTP side (sessions of removed users or changed
//! passwords end at once), a refused config names every error and keeps
//! the old one, and the HTTP side runs on the engine's clock.

use std::io::{Read, Write};
use std::time::Duration;

use serde_json::Value;

use crate::api::CONF;
use crate::harness::{Daemon, Tree, client, signed_form, wait_for};

/// Writes user.conf with these (name, bcrypt hash) pairs.
fn users(tree: &Tree, list: &[(&str, &str)]) {
    let text: String = list.iter().map(|(name, hash)| format!("[user \"{name}\"]\npassword = {hash}\n")).collect();
    tree.write("etc/karajo/user.conf", &text);
}

fn hash(password: &str) -> String {
    bcrypt::hash(password, 4).unwrap()
}

/// Logs in; returns the `karajo=...` cookie.
fn login(d: &Daemon, name: &str, password: &str) -> String {
    let r = client()
        .post(format!("{}/karajo/api/auth/login", d.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("name={name}&password={password}"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "login of {name}");
    r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string()
}

fn environment_with(d: &Daemon, cookie: &str) -> u16 {
    let r = client().get(format!("{}/karajo/api/environment", d.url)).header("cookie", cookie).send().unwrap();
    r.status().as_u16()
}

/// `POST /karajo/api/reload` on the control socket: (status, body).
fn reload_over_socket(tree: &Tree) -> (u16, Value) {
    let sock = tree.path("var/run/karajo/karajod.sock");
    let mut s = std::os::unix::net::UnixStream::connect(sock).unwrap();
    s.write_all(b"POST /karajo/api/reload HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = out.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    // The socket answers chunked when it streams; take the JSON object inside.
    let json = body.find('{').zip(body.rfind('}')).map_or("null", |(a, b)| &body[a..=b]);
    (status, serde_json::from_str(json).unwrap_or(Value::Null))
}

#[test]
fn regression_issue_13_a_reload_that_removes_a_user_ends_their_session_at_once() {
    let tree = Tree::new(CONF);
    let bob_hash = hash("pw");
    users(&tree, &[("alice", &hash("pw")), ("bob", &bob_hash)]);
    let d = Daemon::start(&tree);
    let (alice, bob) = (login(&d, "alice", "pw"), login(&d, "bob", "pw"));
    assert_eq!(environment_with(&d, &alice), 200);
    users(&tree, &[("bob", &bob_hash)]);
    let (status, body) = reload_over_socket(&tree);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["sessions_ended_for"], serde_json::json!(["alice"]), "{body}");
    assert_eq!(environment_with(&d, &alice), 401, "the removed user's session must end with the reload");
    assert_eq!(environment_with(&d, &bob), 200, "an unchanged user keeps their session");
}

#[test]
fn a_password_changed_on_sighup_ends_the_session_and_the_new_password_works() {
    let tree = Tree::new(CONF);
    users(&tree, &[("alice", &hash("old"))]);
    let d = Daemon::start(&tree);
    let cookie = login(&d, "alice", "old");
    assert_eq!(environment_with(&d, &cookie), 200);
    users(&tree, &[("alice", &hash("new"))]);
    nix::sys::signal::kill(d.pid(), nix::sys::signal::Signal::SIGHUP).unwrap();
    wait_for(Duration::from_secs(10), "the old session to end after SIGHUP", || environment_with(&d, &cookie) == 401);
    let fresh = login(&d, "alice", "new");
    assert_eq!(environment_with(&d, &fresh), 200);
}

#[test]
fn a_reload_reports_what_changed_and_a_refused_one_lists_every_error() {
    let tree = Tree::new(CONF);
    let d = Daemon::start(&tree);
    tree.write("etc/karajo/job.d/more.conf", "[job \"added\"]\ncommand = true\n");
    let (status, body) = reload_over_socket(&tree);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["jobs"]["added"], serde_json::json!(["added"]), "{body}");
    assert_eq!(body["data"]["jobs"]["removed"], serde_json::json!([]), "{body}");
    assert!(d.get("/karajo/api/job_exec?id=added").status().is_success());

    tree.write("etc/karajo/job.d/more.conf", "[job \"added\"]\nschedule = hourly@99\ncommand = true\n[job \"x\"]\n");
    let (status, body) = reload_over_socket(&tree);
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["name"], "ERR_CONFIG", "{body}");
    let errors = body["data"]["errors"].as_array().expect("every error listed");
    assert_eq!(errors.len(), 2, "{body}");
    assert!(errors.iter().all(|e| e.as_str().unwrap().contains("more.conf:")), "located errors: {body}");
    assert!(d.get("/karajo/api/job_exec?id=added").status().is_success(), "the old config stays in force");
}

#[test]
fn the_http_side_runs_on_the_engines_clock() {
    // The daemon's clock is 10 minutes ahead: a signature made on the real
    // clock is outside the 5-minute window, one made on the daemon's is in.
    let conf = CONF.replace("[karajo]\n", "[karajo]\nreplay_window = 5m\n");
    let tree = Tree::new(&conf);
    let ahead = Duration::from_secs(600);
    let d = Daemon::start_with(&tree, &[("KARAJOD_TEST_CLOCK_OFFSET_MS", &ahead.as_millis().to_string())]);
    let pause = |body: String, sig: String| {
        let r = client()
            .post(format!("{}/karajo/api/job_exec/pause", d.url))
            .header("X-Karajo-Sign", sig)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .unwrap();
        r.status().as_u16()
    };
    let (body, sig) = signed_form("s3cret", "alpha");
    assert_eq!(pause(body, sig), 409, "an epoch 10 minutes behind the daemon's clock is a replay");
    let epoch = chrono::Utc::now().timestamp() + ahead.as_secs() as i64;
    let body = format!("_karajo_epoch={epoch}&id=alpha");
    let sig = proto::sign::hmac_sha256_hex(b"s3cret", body.as_bytes());
    assert_eq!(pause(body, sig), 200);
}
