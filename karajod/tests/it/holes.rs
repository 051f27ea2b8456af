//! Issue 14, "HTTP and auth": each hole found from outside, reproduced
//! against the real daemon (public files, odd methods, login races, signed
//! reads, replay epochs, stream limits, redaction, the control socket,
//! HEAD, log names).

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

fn signed_get(d: &Daemon, path: &str, query: &str, signed_over: &str) -> (u16, serde_json::Value) {
    let url = if query.is_empty() { format!("{}{path}", d.url) } else { format!("{}{path}?{query}", d.url) };
    let r = crate::harness::client().get(url).header("X-Karajo-Sign", sign(signed_over.as_bytes())).send().unwrap();
    (r.status().as_u16(), r.json().unwrap_or(serde_json::Value::Null))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[test]
fn issue_14_a_signed_read_must_sign_a_fresh_epoch() {
    let tree = tree_with_user();
    let d = Daemon::start(&tree);
    let env = "/karajo/api/environment";
    let (s, v) = signed_get(&d, env, "", "");
    assert_ne!(s, 200, "HMAC(secret, \"\") grants nothing: {v}");
    assert!(v["data"].is_null());
    let fresh = format!("_karajo_epoch={}", now());
    assert_eq!(signed_get(&d, env, &fresh, &fresh).0, 200);
    assert_eq!(signed_get(&d, env, &fresh, &fresh).0, 200, "without replay_window a read may repeat");
    let stale = format!("_karajo_epoch={}", now() - 600);
    let (s, v) = signed_get(&d, env, &stale, &stale);
    assert_eq!((s, v["name"].as_str()), (409, Some("ERR_REPLAY")));
    // The epoch in an unsigned query does not make the fixed signature fresh.
    assert_eq!(signed_get(&d, env, &fresh, "").0, 401);
    let job = format!("id=alpha&_karajo_epoch={}", now());
    assert_eq!(signed_get(&d, "/karajo/api/job_exec", &job, &job).0, 200);
    assert_eq!(signed_get(&d, "/karajo/api/job_exec", "id=alpha", "id=alpha").0, 400);
}

fn replay_tree(users: bool) -> Tree {
    let tree = Tree::new(&CONF.replacen("[karajo]\n", "[karajo]\nreplay_window = 5m\n", 1));
    if users {
        let hash = bcrypt::hash("pw", 4).unwrap();
        tree.write("etc/karajo/user.conf", &format!("[user \"alice\"]\npassword = {hash}\n"));
    }
    tree
}

#[test]
fn issue_14_signed_reads_fall_under_the_replay_window() {
    let tree = replay_tree(true);
    let d = Daemon::start(&tree);
    let q = format!("_karajo_epoch={}&n=1", now());
    assert_eq!(signed_get(&d, "/karajo/api/environment", &q, &q).0, 200);
    let (s, v) = signed_get(&d, "/karajo/api/environment", &q, &q);
    assert_eq!((s, v["name"].as_str()), (409, Some("ERR_REPLAY")), "an exact replay");
    assert_eq!(signed_get(&d, "/karajo/api/job_http", &format!("id=ping&{q}"), &format!("id=ping&{q}")).0, 200);
}

#[test]
fn issue_14_with_a_replay_window_the_epoch_comes_from_the_signed_bytes_only() {
    let tree = replay_tree(false);
    let d = Daemon::start(&tree);
    let fresh = format!("_karajo_epoch={}", now());
    // job_exec signs the form body: an epoch in the (unsigned) query is not taken.
    let path = format!("/karajo/api/job_exec/pause?{fresh}");
    let (s, v) = post(&d, &path, &[("X-Karajo-Sign", &sign(b"id=alpha"))], b"id=alpha".to_vec());
    assert_eq!((s, v["name"].as_str()), (400, Some("ERR_BAD_REQUEST")), "{v}");
    // Nor for a webhook, whose body is signed.
    let path = format!("/karajo/api/job_exec/run/alpha?{fresh}");
    let (s, v) = post(&d, &path, &[("X-Karajo-Sign", &sign(b"{}"))], b"{}".to_vec());
    assert_eq!((s, v["name"].as_str()), (400, Some("ERR_BAD_REQUEST")), "{v}");
    // A signed fresh epoch passes once.
    let body = format!("{{\"_karajo_epoch\":{}}}", now());
    let hook =
        |b: &str| post(&d, "/karajo/api/job_exec/run/alpha", &[("X-Karajo-Sign", &sign(b.as_bytes()))], b.into());
    assert_eq!(hook(&body).0, 200);
    assert_eq!(hook(&body).1["name"], "ERR_REPLAY");
    let form = format!("{fresh}&id=alpha");
    assert_eq!(
        post(&d, "/karajo/api/job_exec/pause", &[("X-Karajo-Sign", &sign(form.as_bytes()))], form.into()).0,
        200
    );
}

/// A TCP connection to the daemon from the loopback address `127.0.0.N`.
fn connect_from(d: &Daemon, n: u8) -> std::net::TcpStream {
    use nix::sys::socket::{AddressFamily, SockFlag, SockType, SockaddrIn, bind, connect, socket};
    let fd = socket(AddressFamily::Inet, SockType::Stream, SockFlag::SOCK_CLOEXEC, None).unwrap();
    bind(std::os::fd::AsRawFd::as_raw_fd(&fd), &SockaddrIn::new(127, 0, 0, n, 0)).unwrap();
    let to: std::net::SocketAddrV4 = d.url.trim_start_matches("http://").parse().unwrap();
    connect(std::os::fd::AsRawFd::as_raw_fd(&fd), &SockaddrIn::from(to)).unwrap();
    std::net::TcpStream::from(fd)
}

/// Opens the log stream of `waiter` from `127.0.0.N`; returns the status
/// line's code and the connection (kept open by the caller).
fn open_stream(d: &Daemon, n: u8) -> (u16, String, std::net::TcpStream) {
    let mut s = connect_from(d, n);
    s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    write!(s, "GET /karajo/api/job_exec/log/stream?id=waiter HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && s.read(&mut byte).unwrap_or(0) == 1 {
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let code = head.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, head, s)
}

#[test]
fn issue_14_open_streams_are_bounded_per_client_and_in_all() {
    let conf = format!(
        "{CONF}[job \"waiter\"]\ncommand = \"while [ ! -e go ]; do sleep 0.1; [ -e tick ] && rm tick && echo tick; done; true\"\n"
    );
    let tree = Tree::new(&conf);
    let d = Daemon::start(&tree);
    let (body, sig) = crate::harness::signed_form("s3cret", "waiter");
    assert_eq!(post(&d, "/karajo/api/job_exec/run", &[("X-Karajo-Sign", &sig)], body.into()).0, 200);
    crate::harness::wait_for(std::time::Duration::from_secs(10), "waiter to run", || {
        crate::api::get(&d, "/karajo/api/job_exec?id=waiter").1["data"]["status"] == "running"
    });
    let mut held = Vec::new();
    for i in 0..16 {
        let (code, head, s) = open_stream(&d, 1);
        if code != 200 {
            let mut rest = String::new();
            let _ = s.take(300).read_to_string(&mut rest);
            panic!("stream {i}: {head}{rest}");
        }
        held.push(s);
    }
    let refused =
        crate::harness::client().get(format!("{}/karajo/api/job_exec/log/stream?id=waiter", d.url)).send().unwrap();
    assert_eq!(refused.status(), 429);
    let v: serde_json::Value = refused.json().unwrap();
    assert_eq!((v["code"].as_u64(), v["name"].as_str()), (Some(429), Some("ERR_TOO_MANY_REQUESTS")));
    // Other addresses fill the daemon's total (256); one more is refused.
    for n in 2..=16u8 {
        for _ in 0..16 {
            let (code, head, s) = open_stream(&d, n);
            assert_eq!(code, 200, "from 127.0.0.{n}: {head}");
            held.push(s);
        }
    }
    assert_eq!(open_stream(&d, 17).0, 429, "the total is bounded");
    let start = std::time::Instant::now();
    assert_eq!(d.get("/karajo/health").status(), 200);
    assert!(start.elapsed() < std::time::Duration::from_secs(2), "health answers at once");
    // A closed stream gives its slot back once the daemon writes to it (the
    // next log line here; a keep-alive comment every 15 s otherwise).
    let gone = held.pop().unwrap();
    let linger = nix::libc::linger { l_onoff: 1, l_linger: 0 };
    nix::sys::socket::setsockopt(&gone, nix::sys::socket::sockopt::Linger, &linger).unwrap();
    drop(gone);
    let workdir = tree.path("var/lib/karajo/job/waiter");
    std::fs::write(workdir.join("tick"), "").unwrap();
    crate::harness::wait_for(std::time::Duration::from_secs(10), "a slot to free", || open_stream(&d, 17).0 == 200);
    std::fs::write(workdir.join("go"), "").unwrap();
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
        get("/karajo/api/job_exec?id=slow")["data"]["logs"][0]
            == serde_json::json!({"job_id": "slow", "name": "slow.1", "status": "running", "counter": 1})
    });
}

fn with_socket(tree: &Tree, socket: &std::path::Path) {
    let conf = std::fs::read_to_string(tree.config()).unwrap();
    let conf = conf.replacen("[karajo]\n", &format!("[karajo]\ncontrol_socket = {}\n", socket.display()), 1);
    std::fs::write(tree.config(), conf).unwrap();
}

#[test]
fn issue_14_a_control_socket_others_could_replace_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let tree = Tree::new(CONF);
    let open = tree.path("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    with_socket(&tree, &open.join("karajod.sock"));
    let out = crate::harness::run_karajod(&["--config", tree.config().to_str().unwrap()], tree.base());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("{} (mode 777)", open.canonicalize().unwrap().display())), "{stderr}");
    assert!(!open.join("karajod.sock").exists());
}

#[test]
fn issue_14_a_control_socket_path_of_107_bytes_works() {
    let tree = Tree::new(CONF);
    let base = tree.base().as_os_str().len();
    let socket = tree.path(&"s".repeat(107 - base - 1));
    assert_eq!(socket.as_os_str().len(), 107);
    with_socket(&tree, &socket);
    let d = Daemon::start(&tree);
    crate::harness::wait_for(std::time::Duration::from_secs(10), "the socket", || socket.exists());
    let mut s = std::os::unix::net::UnixStream::connect(&socket).unwrap();
    s.write_all(b"GET /karajo/api/job_exec?id=alpha HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    let parent = std::fs::read_dir(tree.base()).unwrap().flatten().map(|e| e.file_name()).collect::<Vec<_>>();
    assert!(!parent.iter().any(|n| n.to_string_lossy().starts_with(".kb")), "no bind directory left: {parent:?}");
    drop(d);
}

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
