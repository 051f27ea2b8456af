//! Credentials of HTTP jobs (headers, URL userinfo, `$VAR` values) never
//! show in views, run logs or the daemon's own log.

use std::io::{Read, Write};

use super::now;
use crate::api::{CONF, post, sign};
use crate::harness::{Daemon, Tree};

/// The head of one HTTP request accepted on `listener`, answered 200.
fn receive_one(listener: &std::net::TcpListener) -> String {
    let (mut s, _) = listener.accept().unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && s.read(&mut byte).unwrap_or(0) == 1 {
        head.push(byte[0]);
    }
    s.write_all(
        b"HTTP/1.1 200 OK\r\nSet-Cookie: sid=cookie-secret\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
    )
    .unwrap();
    String::from_utf8_lossy(&head).into_owned()
}

#[test]
fn issue_14_credentials_of_http_jobs_never_show() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let conf = format!(
        "{CONF}[job.http \"creds\"]\nhttp_url = http://bob:hunter2@127.0.0.1:{port}/hook\n\
         http_header = Authorization: Bearer bearer-secret\nhttp_header = Cookie: sid=cookie-secret\n\
         http_header = Proxy-Authorization: Basic proxy-secret\nhttp_header = X-Api-Key: $KARAJO_TEST_KEY\n"
    );
    let tree = Tree::new(&conf);
    let env = [("KARAJO_TEST_KEY", "env-secret")];
    let (d, stderr) = Daemon::launch(&tree, &crate::harness::Launch { env: &env, ..Default::default() });
    let secrets = ["hunter2", "bearer-secret", "cookie-secret", "proxy-secret", "env-secret"];
    let env = d.get("/karajo/api/environment").text().unwrap();
    let one = d.get("/karajo/api/job_http?id=creds").text().unwrap();
    for text in [&env, &one] {
        for s in secrets {
            assert!(!text.contains(s), "{s} shows in {text}");
        }
    }
    let v: serde_json::Value = serde_json::from_str(&one).unwrap();
    assert_eq!(v["data"]["http_url"], format!("http://***@127.0.0.1:{port}/hook"));
    assert_eq!(
        v["data"]["http_headers"],
        serde_json::json!([
            "Authorization: ***",
            "Cookie: ***",
            "Proxy-Authorization: ***",
            "X-Api-Key: $KARAJO_TEST_KEY"
        ])
    );
    let q = format!("id=creds&_karajo_epoch={}", now());
    let path = format!("/karajo/api/job_http/run?{q}");
    assert_eq!(post(&d, &path, &[("X-Karajo-Sign", &sign(q.as_bytes()))], vec![]).0, 200);
    let sent = receive_one(&listener).to_ascii_lowercase();
    for want in ["authorization: bearer bearer-secret", "x-api-key: env-secret", "cookie: sid=cookie-secret"] {
        assert!(sent.contains(want), "the request carries the real value {want:?}: {sent}");
    }
    let (status, log) = crate::harness::wait_run_end(&tree, "job_http", "creds", 1, std::time::Duration::from_secs(10));
    assert_eq!(status, "success", "{log}");
    for s in secrets {
        assert!(!log.contains(s), "{s} shows in the run log: {log}");
    }
    assert!(log.contains("***@127.0.0.1") && log.contains("Authorization: ***"), "{log}");
    for s in secrets {
        assert!(!stderr.text().contains(s), "{s} shows in the daemon's own log");
    }
}

#[test]
fn issue_14_an_unset_header_variable_is_a_located_config_error() {
    let conf = format!("{CONF}[job.http \"creds\"]\nhttp_url = /x\nhttp_header = X-Api-Key: $KARAJO_UNSET_VAR_14\n");
    let tree = Tree::new(&conf);
    let out = crate::harness::run_karajod(&["check", "--config", tree.config().to_str().unwrap()], tree.base());
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{text}");
    let line =
        std::fs::read_to_string(tree.config()).unwrap().lines().position(|l| l.contains("KARAJO_UNSET")).unwrap() + 1;
    let located = format!("karajo.conf:{line}");
    assert!(text.contains(&located) && text.contains("http_header") && text.contains("KARAJO_UNSET_VAR_14"), "{text}");
}
