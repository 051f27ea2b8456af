//! The control socket and dir_public against the real daemon.

use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};

use crate::api::CONF;
use crate::harness::{Daemon, Tree};

fn over_socket(path: &std::path::Path, req: &str) -> String {
    let mut s = std::os::unix::net::UnixStream::connect(path).unwrap();
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn the_socket_is_0660_trusted_exclusive_and_removed() {
    let tree = Tree::new(CONF);
    let mut d = Daemon::start(&tree);
    let sock = tree.path("var/run/karajo/karajod.sock");
    let meta = std::fs::symlink_metadata(&sock).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o660);
    let resp = over_socket(
        &sock,
        "POST /karajo/api/job_exec/pause HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 8\r\n\r\nid=alpha",
    );
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let second = crate::harness::run_karajod(&["--config", tree.config().to_str().unwrap()], tree.base());
    assert!(!second.status.success(), "a second daemon on the same socket refuses to start");
    assert!(d.signal_and_wait(nix::sys::signal::Signal::SIGTERM).success());
    assert!(!sock.exists());
}

#[test]
fn public_files_never_escape() {
    let tree = Tree::new(CONF);
    tree.write("srv/pub/index.html", "home");
    tree.write("secret.txt", "secret");
    std::os::unix::fs::symlink(tree.path("secret.txt"), tree.path("srv/pub/link.txt")).unwrap();
    let conf = std::fs::read_to_string(tree.config()).unwrap();
    let conf = conf.replacen("[karajo]\n", &format!("[karajo]\ndir_public = {}\n", tree.path("srv/pub").display()), 1);
    std::fs::write(tree.config(), conf).unwrap();
    let d = Daemon::start(&tree);
    assert_eq!(d.get("/").text().unwrap(), "home");
    let addr = d.url.trim_start_matches("http://").to_string();
    for path in
        ["/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/link.txt", "//etc/passwd", "/%2fetc%2fpasswd"]
    {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert!(!out.contains("secret") && !out.contains("root:"), "{path}: {out}");
        assert!(out.starts_with("HTTP/1.1 404"), "{path}: {out}");
    }
}
