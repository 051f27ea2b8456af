//! HTTPS on `listen_address` (SPEC 21): a self-signed certificate made in
//! the test, the `Secure` session cookie, and a certificate rotated by
//! SIGHUP while the listener stays.

use std::time::Duration;

use crate::harness::{Daemon, Tree, wait_for};

/// A fresh self-signed certificate for 127.0.0.1 and localhost, written
/// as `NAME.pem` and `NAME.key` under `etc/karajo/`; its PEM.
fn certificate(tree: &Tree, name: &str) -> String {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    tree.write(&format!("etc/karajo/{name}.pem"), &cert.cert.pem());
    tree.write(&format!("etc/karajo/{name}.key"), &cert.key_pair.serialize_pem());
    cert.cert.pem()
}

/// A client that trusts only `pem`, one connection per request.
fn trusting(pem: &str) -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn health(client: &reqwest::blocking::Client, url: &str) -> Option<u16> {
    client.get(format!("{url}/karajo/health")).send().ok().map(|r| r.status().as_u16())
}

#[test]
fn tls_serves_https_with_a_secure_cookie_and_rotates_on_sighup() {
    let tree = Tree::new("[karajo]\nsecret = s3cret\n[job \"a\"]\ncommand = true\n");
    let first = certificate(&tree, "live");
    let conf = std::fs::read_to_string(tree.config()).unwrap();
    let tls = format!(
        "[karajo]\ntls_cert = {}\ntls_key = {}\n",
        tree.path("etc/karajo/live.pem").display(),
        tree.path("etc/karajo/live.key").display()
    );
    tree.write("etc/karajo/karajo.conf", &conf.replacen("[karajo]\n", &tls, 1));
    let hash = bcrypt::hash("pw", 4).unwrap();
    tree.write("etc/karajo/user.conf", &format!("[user \"alice\"]\npassword = {hash}\n"));
    let d = Daemon::start(&tree);
    assert!(d.url.starts_with("https://"), "{}", d.url);
    assert_eq!(health(&trusting(&first), &d.url), Some(200));
    let plain = d.url.replacen("https://", "http://", 1);
    assert_eq!(health(&crate::harness::client(), &plain), None, "no plain HTTP on a TLS listener");

    let login = trusting(&first)
        .post(format!("{}/karajo/api/auth/login", d.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=alice&password=pw")
        .send()
        .unwrap();
    assert_eq!(login.status(), 200);
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("; Secure"), "{cookie}");

    // Rotation: new files under the same names, then SIGHUP.
    let second = certificate(&tree, "live");
    assert_eq!(health(&trusting(&second), &d.url), None, "the old certificate is served until the reload");
    nix::sys::signal::kill(d.pid(), nix::sys::signal::Signal::SIGHUP).unwrap();
    wait_for(Duration::from_secs(10), "the rotated certificate", || health(&trusting(&second), &d.url) == Some(200));
    assert_eq!(health(&trusting(&first), &d.url), None, "new connections get the new certificate");
}

#[test]
fn tls_keys_are_checked_where_they_are_written() {
    let tree = Tree::new("[karajo]\ntls_cert = /nonexistent/cert.pem\n");
    let out = crate::harness::run_karajod(&["check", "--config", tree.config().to_str().unwrap()], tree.base());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("tls_cert") && stderr.contains("go together"), "{stderr}");
    let tree = Tree::new("[karajo]\ntls_cert = /nonexistent/cert.pem\ntls_key = /nonexistent/key.pem\n");
    let out = crate::harness::run_karajod(&["check", "--config", tree.config().to_str().unwrap()], tree.base());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("karajo.conf:") && stderr.contains("/nonexistent/cert.pem"), "{stderr}");
    // A file that is not PEM stops the start with its path named.
    let tree = Tree::new("[karajo]\n");
    tree.write("etc/karajo/bad.pem", "not a certificate\n");
    let conf = std::fs::read_to_string(tree.config()).unwrap();
    let bad = tree.path("etc/karajo/bad.pem").display().to_string();
    tree.write(
        "etc/karajo/karajo.conf",
        &conf.replacen("[karajo]\n", &format!("[karajo]\ntls_cert = {bad}\ntls_key = {bad}\n"), 1),
    );
    let out = std::process::Command::new(crate::harness::BIN)
        .arg("--config")
        .arg(tree.config())
        .current_dir(tree.base())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.pem"), "{}", String::from_utf8_lossy(&out.stderr));
}
