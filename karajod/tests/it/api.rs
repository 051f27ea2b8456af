//! The HTTP API against the real daemon: every endpoint, its errors, the
//! original's documented webhook example, SSE, metrics, limits and
//! malformed input.

use std::io::{Read, Write};
use std::time::Duration;

use serde_json::Value;

use crate::harness::{Daemon, Tree, client, wait_for};

pub const CONF: &str = "[karajo]\nsecret = s3cret\nmetrics_token = mtok\n\
[job \"alpha\"]\npath = /alpha\ncommand = echo hello\n\
[job \"slow\"]\ncommand = echo started\ncommand = sleep 2\ncommand = echo finished\n\
[job \"gh\"]\npath = /gh\nauth_kind = github\ncommand = true\n\
[job \"srht\"]\npath = /srht\nauth_kind = sourcehut\ncommand = true\n\
[job.http \"ping\"]\nhttp_url = /karajo/health\n";

pub fn sign(payload: &[u8]) -> String {
    proto::sign::hmac_sha256_hex(b"s3cret", payload)
}

pub fn post(d: &Daemon, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> (u16, Value) {
    let mut req = client().post(format!("{}{path}", d.url)).body(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().unwrap();
    (r.status().as_u16(), r.json().unwrap_or(Value::Null))
}

pub fn get(d: &Daemon, path: &str) -> (u16, Value) {
    let r = d.get(path);
    (r.status().as_u16(), r.json().unwrap_or(Value::Null))
}

fn signed_form(d: &Daemon, action: &str, id: &str) -> (u16, Value) {
    let body = format!("_karajo_epoch=1677350854&id={id}");
    post(d, &format!("/karajo/api/job_exec/{action}"), &[("X-Karajo-Sign", &sign(body.as_bytes()))], body.into())
}

#[test]
fn read_endpoints_and_their_errors() {
    let tree = Tree::new(CONF);
    let d = Daemon::start(&tree);
    let (s, v) = get(&d, "/karajo/api/environment");
    assert_eq!((s, v["code"].as_u64()), (200, Some(200)));
    assert_eq!(v["data"]["jobs"]["alpha"]["id"], "alpha");
    assert_eq!(get(&d, "/karajo/api/job_exec?id=ALPHA").0, 200);
    assert_eq!(get(&d, "/karajo/api/job_exec?id=nope").1["name"], "ERR_JOB_NOT_FOUND");
    assert_eq!(get(&d, "/karajo/api/job_http?id=ping").0, 200);
    assert_eq!(get(&d, "/karajo/api/job_http?id=").1["name"], "ERR_INVALID_JOB_ID");
    assert_eq!(get(&d, "/karajo/api/job_exec/log?id=alpha&counter=9").0, 404);
    assert_eq!(get(&d, "/karajo/api/job_exec/log?id=alpha&counter=x").0, 400);
    assert_eq!(get(&d, "/karajo/api/job_http/log?id=nope&counter=1").0, 404);
    assert_eq!(get(&d, "/karajo/nope").1["name"], "ERR_NOT_FOUND");
    assert_eq!(get(&d, "/karajo/health").1["status"], "ok");
}

#[test]
fn signed_admin_calls_and_run_log() {
    let tree = Tree::new(CONF);
    let d = Daemon::start(&tree);
    let (s, v) = signed_form(&d, "run", "alpha");
    assert_eq!((s, v["data"]["id"].as_str()), (200, Some("alpha")));
    wait_for(Duration::from_secs(10), "alpha's first run", || {
        get(&d, "/karajo/api/job_exec/log?id=alpha&counter=1").0 == 200
    });
    let (_, v) = get(&d, "/karajo/api/job_exec/log?id=alpha&counter=1");
    assert_eq!(v["data"]["name"], "alpha.1.success");
    assert_eq!(signed_form(&d, "pause", "alpha").1["data"]["status"], "paused");
    let body = br#"{"_karajo_epoch":1677350854}"#.to_vec();
    let (s, v) = post(&d, "/karajo/api/job_exec/run/alpha", &[("X-Karajo-Sign", &sign(&body))], body.clone());
    assert_eq!((s, v["name"].as_str()), (412, Some("ERR_JOB_PAUSED")));
    assert_eq!(signed_form(&d, "resume", "alpha").0, 200);
    assert_eq!(signed_form(&d, "cancel", "alpha").0, 200);
    assert_eq!(signed_form(&d, "pause", "nope").1["name"], "ERR_JOB_NOT_FOUND");
    let (s, v) = post(&d, "/karajo/api/job_exec/pause", &[("X-Karajo-Sign", "00")], b"id=alpha".to_vec());
    assert_eq!((s, v), (401, serde_json::json!({"code":401,"message":"empty or invalid signature"})));
    for action in ["pause", "resume", "run", "cancel"] {
        let q = "_karajo_epoch=1677350854&id=ping";
        let path = format!("/karajo/api/job_http/{action}?{q}");
        assert_eq!(post(&d, &path, &[("X-Karajo-Sign", &sign(q.as_bytes()))], vec![]).0, 200, "{action}");
        assert_eq!(post(&d, &path, &[], vec![]).0, 401, "{action}");
    }
}

#[test]
fn sse_sees_a_line_before_the_job_ends() {
    let tree = Tree::new(CONF);
    let d = Daemon::start(&tree);
    assert_eq!(signed_form(&d, "run", "slow").0, 200);
    wait_for(Duration::from_secs(10), "slow to start", || {
        get(&d, "/karajo/api/job_exec?id=slow").1["data"]["status"] == "running"
    });
    let addr = d.url.trim_start_matches("http://").to_string();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET /karajo/api/job_exec/log/stream?id=slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while !seen.contains("started") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "stream ended early: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(!seen.contains("event:end"), "the line came before the end");
    assert_eq!(get(&d, "/karajo/api/job_exec?id=slow").1["data"]["status"], "running");
    let mut rest = String::new();
    let _ = s.read_to_string(&mut rest);
    assert!(rest.contains("event:end") && rest.contains(r#""status":"success""#), "{rest}");
}

#[test]
fn metrics_with_the_bearer_token() {
    let tree = Tree::new(CONF);
    let d = Daemon::start(&tree);
    let r = client().get(format!("{}/karajo/metrics", d.url)).header("Authorization", "Bearer mtok").send().unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().unwrap().contains("karajo_running"));
}

#[test]
fn big_bodies_and_malformed_requests() {
    let tree = Tree::new(CONF);
    let d = Daemon::start(&tree);
    let (s, v) = post(&d, "/karajo/api/job_exec/run/alpha", &[], vec![b'a'; 2 * 1024 * 1024]);
    assert_eq!((s, v["name"].as_str()), (413, Some("ERR_BODY_TOO_LARGE")));
    let addr = d.url.trim_start_matches("http://").to_string();
    let mut seed = 0x9e3779b97f4a7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..1000 {
        let mut req = match i % 3 {
            0 => format!(
                "GET /karajo/api/job_exec/log?id=%{:x}&counter={} HTTP/1.1\r\n\r\n",
                next() % 300,
                next() as i64
            ),
            1 => format!("POST /karajo/api/job_exec/pause HTTP/1.1\r\nContent-Length: {}\r\n\r\n", next() % 50),
            _ => String::new(),
        }
        .into_bytes();
        req.extend((0..next() % 200).map(|_| next() as u8));
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let _ = s.write_all(&req);
        let _ = s.shutdown(std::net::Shutdown::Write);
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
    }
    assert_eq!(get(&d, "/karajo/health").1["status"], "ok");
}
