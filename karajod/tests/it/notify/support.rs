//! Helpers of the notification tests: the aiosmtpd server process, a
//! self-signed certificate, `[notif]` configs and captured log lines.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use karajod::config::model::{NotifConfig, Origin, Secret, SmtpScheme};
use karajod::notify::Notifier;
use serde_json::Value;

pub const USER: &str = "karajo";
pub const PASSWORD: &str = "s3cret-pass";

/// One aiosmtpd server process; killed on drop.
pub struct SmtpServer {
    child: Child,
    stdin: Option<ChildStdin>,
    pub port: u16,
    out: PathBuf,
}

impl SmtpServer {
    /// Starts `server.py MODE` in `dir`. `None` when python3 with aiosmtpd
    /// (or, for TLS modes, openssl) is missing: the test is then SKIPPED, or
    /// fails under CI (see `tool`).
    pub fn start(dir: &Path, mode: &str) -> Option<SmtpServer> {
        let has_aiosmtpd = Command::new("python3").args(["-c", "import aiosmtpd"]).stderr(Stdio::null()).status();
        if !matches!(has_aiosmtpd, Ok(s) if s.success()) {
            crate::tool::missing("python3 with aiosmtpd (scripts/install-test-deps.sh installs it)");
            return None;
        }
        let has_openssl = Command::new("openssl").arg("version").stdout(Stdio::null()).status();
        if mode != "plain" && !matches!(has_openssl, Ok(s) if s.success()) {
            crate::tool::missing("openssl, for the test certificate (scripts/install-test-deps.sh installs it)");
            return None;
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp/server.py");
        let out = dir.join(format!("{mode}-mail.jsonl"));
        let mut cmd = Command::new("python3");
        cmd.arg(script).arg(mode).arg(&out).args(["--user", USER, "--password", PASSWORD]);
        if mode != "plain" {
            let (cert, key) = self_signed_cert(dir);
            cmd.arg("--cert").arg(cert).arg("--key").arg(key);
        }
        let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("spawn server.py");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(20)).expect("server.py did not print its port in 20 s");
        let port = line.trim().strip_prefix("PORT ").and_then(|p| p.parse().ok()).expect("PORT line");
        Some(SmtpServer { child, stdin, port, out })
    }

    /// Every message received so far, one JSON object each.
    pub fn messages(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.out).unwrap_or_default();
        text.lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect()
    }

    pub fn stop(&mut self) {
        self.stdin.take();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn self_signed_cert(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let st = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "2"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl");
    assert!(st.success(), "openssl req failed");
    (cert, key)
}

pub fn notif(name: &str, scheme: SmtpScheme, port: u16, user: Option<&str>, password: &str) -> NotifConfig {
    NotifConfig {
        name: name.into(),
        scheme,
        host: "127.0.0.1".into(),
        port,
        smtp_user: user.map(String::from),
        smtp_password: Secret::new(password),
        smtp_insecure: true,
        from: "Karajo <karajo@example.com>".into(),
        to: vec!["Alice Ops <alice@example.com>".into(), "bob@example.com".into()],
        origin: Origin::default(),
    }
}

pub fn notifier(cfgs: &[NotifConfig]) -> Notifier {
    let map: BTreeMap<String, NotifConfig> = cfgs.iter().map(|c| (c.name.clone(), c.clone())).collect();
    Notifier::new(&map)
}

pub fn names(n: &[&str]) -> Vec<String> {
    n.iter().map(|s| s.to_string()).collect()
}

pub fn write_log(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// The log lines of this thread, for asserting on codes (`reason=...`).
/// Tests run on a current-thread runtime, so the sending tasks log here too.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    pub fn start() -> (Captured, tracing::subscriber::DefaultGuard) {
        let c = Captured::default();
        let writer = c.clone();
        let sub = tracing_subscriber::fmt().with_ansi(false).with_writer(move || writer.clone()).finish();
        (c.clone(), tracing::subscriber::set_default(sub))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// The body as the server decoded it, with SMTP's CRLF turned back to LF.
pub fn body(m: &Value) -> String {
    m["body"].as_str().unwrap().replace("\r\n", "\n")
}
