//! Issue 14, "HTTP and auth": each hole found from outside, reproduced
//! against the real daemon: public files, odd methods, HEAD and log names
//! here; logins, signed reads and replay epochs in `auth`; stream and
//! control socket limits in `limits`; credentials of HTTP jobs in `secrets`.

mod auth;
mod limits;
mod secrets;

use std::io::{Read, Write};

use crate::api::{CONF, post, sign};
use crate::harness::{Daemon, Tree};

/// One raw HTTP/1.1 exchange on a fresh connection (`Connection: close`).
pub fn raw(d: &Daemon, head: &str) -> String {
    let addr = d.url.trim_start_matches("http://").to_string();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    write!(s, "{head}\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn public_tree() -> Tree {
    let tree = Tree::new(CONF);
    tree.write("srv/pub/index.html", "home");
    tree.write("srv/pub/a.txt", "file a");
    tree.write("srv/pub/sub/index.html", "sub home");
    let conf = std::fs::read_to_string(tree.config()).unwrap();
    let conf = conf.replacen("[karajo]\n", &format!("[karajo]\ndir_public = {}\n", tree.path("srv/pub").display()), 1);
    std::fs::write(tree.config(), conf).unwrap();
    tree
}

#[test]
fn issue_14_public_files_are_served_as_themselves() {
    let tree = public_tree();
    let d = Daemon::start(&tree);
    let a = d.get("/a.txt");
    assert_eq!(a.status(), 200);
    assert!(a.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert_eq!(a.text().unwrap(), "file a");
    assert_eq!(d.get("/").text().unwrap(), "home");
    assert_eq!(d.get("/sub/").text().unwrap(), "sub home");
    assert_eq!(d.get("/nope.txt").status(), 404);
    std::fs::remove_file(tree.path("srv/pub/index.html")).unwrap();
    assert_eq!(d.get("/a.txt").text().unwrap(), "file a", "files are served without a root index.html");
    assert_eq!(d.get("/").status(), 404);
}

#[test]
fn issue_14_odd_methods_and_uri_forms_answer_4xx() {
    let tree = public_tree();
    let (d, stderr) = Daemon::launch(&tree, &Default::default());
    for head in [
        "CONNECT example.com:443 HTTP/1.1",
        "CONNECT 127.0.0.1:80 HTTP/1.1",
        "GET example.com:443 HTTP/1.1",
        "HEAD example.com:443 HTTP/1.1",
        "CONNECT / HTTP/1.1",
        "OPTIONS * HTTP/1.1",
        "TRACE /a.txt HTTP/1.1",
        "BREW /karajo/api/environment HTTP/1.1",
    ] {
        let out = raw(&d, head);
        let status: u16 = out.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        assert!((400..500).contains(&status), "{head}: {out}");
    }
    assert!(raw(&d, "GET http://x/a.txt HTTP/1.1").contains("file a"), "absolute-form targets still work");
    assert_eq!(d.get("/karajo/health").status(), 200);
    assert!(!stderr.text().contains("panicked"), "{}", stderr.text());
}

#[test]
fn issue_14_head_answers_like_get_without_a_body() {
    let tree = public_tree();
    let d = Daemon::start(&tree);
    for path in [
        "/karajo/api/environment",
        "/karajo/api/job_exec?id=alpha",
        "/karajo/api/job_http?id=ping",
        "/karajo/health",
        "/karajo/",
        "/karajo/app/index.html",
        "/a.txt",
    ] {
        let get = d.get(path);
        let head = crate::harness::client().head(format!("{}{path}", d.url)).send().unwrap();
        assert_eq!(head.status(), get.status(), "HEAD {path}");
        assert_eq!(head.headers().get("content-type"), get.headers().get("content-type"), "HEAD {path}");
        assert_eq!(head.bytes().unwrap().len(), 0, "HEAD {path} has no body");
    }
    let out = raw(&d, "HEAD /karajo/api/job_exec?id=nope HTTP/1.1");
    assert!(out.starts_with("HTTP/1.1 404") && out.ends_with("\r\n\r\n"), "{out}");
}

#[test]
fn issue_14_log_names_are_file_names_once_the_run_ended() {
    let tree = Tree::new(CONF);
    let d = Daemon::start(&tree);
    let (body, sig) = crate::harness::signed_form("s3cret", "alpha");
    assert_eq!(post(&d, "/karajo/api/job_exec/run", &[("X-Karajo-Sign", &sig)], body.into()).0, 200);
    crate::harness::wait_run_end(&tree, "job", "alpha", 1, std::time::Duration::from_secs(10));
    let q = "id=ping&_karajo_epoch=1";
    assert_eq!(
        post(&d, &format!("/karajo/api/job_http/run?{q}"), &[("X-Karajo-Sign", &sign(q.as_bytes()))], vec![]).0,
        200
    );
    let (status, _) = crate::harness::wait_run_end(&tree, "job_http", "ping", 1, std::time::Duration::from_secs(10));
    let get = |p: &str| crate::api::get(&d, p).1;
    let log = get("/karajo/api/job_exec/log?id=alpha&counter=1");
    assert_eq!(log["data"]["name"], "alpha.1.success");
    assert_eq!(get("/karajo/api/job_http/log?id=ping&counter=1")["data"]["name"], format!("ping.1.{status}"));
    crate::harness::wait_for(std::time::Duration::from_secs(10), "the views to see the ends", || {
        let env = get("/karajo/api/environment");
        env["data"]["jobs"]["alpha"]["logs"][0]["name"] == "alpha.1.success"
            && env["data"]["http_jobs"]["ping"]["logs"][0]["name"] == format!("ping.1.{status}")
    });
    assert_eq!(
        post(&d, "/karajo/api/job_exec/run", &[("X-Karajo-Sign", &sign(b"id=slow"))], b"id=slow".to_vec()).0,
        200
    );
    crate::harness::wait_for(std::time::Duration::from_secs(10), "slow to run", || {
        // The keys of SPEC 7; SPEC 15 adds started_at, trigger, ... beside them.
        let log = get("/karajo/api/job_exec?id=slow")["data"]["logs"][0].clone();
        ["job_id", "name", "status", "counter"].map(|k| log[k].clone())
            == [serde_json::json!("slow"), "slow.1".into(), "running".into(), 1.into()]
    });
}

/// Unix time now.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
