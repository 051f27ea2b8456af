//! Bounds from outside: open log streams per client and in all, and the
//! control socket's directory and path length.

use std::io::{Read, Write};

use crate::api::{CONF, post};
use crate::harness::{Daemon, Tree};

/// Ends the waiting job when dropped, also when the test fails midway:
/// dropping the daemon kills it, not its job, and the job would never see
/// its `go` file once the temp tree is gone.
struct Release(std::path::PathBuf);

impl Drop for Release {
    fn drop(&mut self) {
        crate::harness::kill_processes_under(&self.0);
    }
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
    let release = Release(tree.path("var/lib/karajo/job/waiter"));
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
    std::fs::write(release.0.join("tick"), "").unwrap();
    crate::harness::wait_for(std::time::Duration::from_secs(10), "a slot to free", || open_stream(&d, 17).0 == 200);
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
