//! Issue 14, "HTTP and auth": each hole found from outside, reproduced
//! against the real daemon (public files, odd methods, login races, signed
//! reads, replay epochs, stream limits, redaction, the control socket,
//! HEAD, log names).

use std::io::{Read, Write};

use crate::api::CONF;
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
    let d = Daemon::start(&tree);
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

/// A tree whose user.conf has `alice` with password `pw` (bcrypt cost 8,
/// slow enough that parallel attempts overlap).
fn tree_with_user() -> Tree {
    let tree = Tree::new(CONF);
    let hash = bcrypt::hash("pw", 8).unwrap();
    tree.write("etc/karajo/user.conf", &format!("[user \"alice\"]\npassword = {hash}\n"));
    tree
}

fn login(d: &Daemon, password: &str) -> u16 {
    crate::harness::client()
        .post(format!("{}/karajo/api/auth/login", d.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("name=alice&password={password}"))
        .send()
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn issue_14_the_login_limit_holds_under_concurrency() {
    let tree = tree_with_user();
    let d = Daemon::start(&tree);
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..60).map(|_| s.spawn(|| login(&d, "wrong"))).collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let checked = statuses.iter().filter(|&&s| s == 400).count();
    let refused = statuses.iter().filter(|&&s| s == 429).count();
    assert_eq!(checked + refused, 60, "{statuses:?}");
    assert_eq!(checked, 5, "only the limit's worth of bcrypt checks ran: {statuses:?}");
    assert_eq!(login(&d, "pw"), 429, "the right password is refused too until the window passes");
}
