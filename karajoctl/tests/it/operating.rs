//! Day-one operations (SPEC 22) with the real karajoctl against the real
//! karajod: `status`, `run --wait`, `logs -n`, `logs --all -f`, `list`
//! fitted to a width, job-ID completion from the daemon in bash, zsh and
//! fish, and `--url https://` through a TLS proxy.

use std::path::Path;

use crate::harness::{BIN, Live, command, on_socket, run_cmd};
use crate::karajod::{Daemon, SECRET, wait_for};
use crate::tls;

const JOBS: &str = r#"
[job "hello-world"]
path = /hello-world
command = echo "Hello, world"

[job "backup"]
command = echo one
command = echo two
command = echo three

[job "broken"]
command = echo "about to fail"
command = false

[job "Weekly report"]
schedule = weekly@Sunday,Wednesday@03:30
command = true

[job.http "ping"]
http_url = /karajo/health
"#;

#[test]
fn status_over_socket_and_tcp() {
    let d = Daemon::start(JOBS);
    let s = d.sock(&["status", "--json"]).expect(0).json();
    assert_eq!(s["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(s["config_file"], d.path("etc/karajo/karajo.conf").display().to_string());
    assert_eq!(s["jobs"]["started"], 4, "{s}");
    assert_eq!(s["http_jobs"]["started"], 1, "{s}");
    assert_eq!(s["runs"]["active"], 0, "{s}");
    assert_eq!(s["cluster"], "none");
    let text = d.tcp(&["status"]).expect(0).stdout;
    for key in ["version", "up", "config file", "jobs", "http jobs", "runs", "cluster"] {
        assert!(text.lines().any(|l| l.starts_with(&format!("{key} "))), "{key} in\n{text}");
    }
    assert!(text.contains("4 never run"), "{text}");
}

#[test]
fn run_wait_follows_the_run_and_exits_by_its_status() {
    let d = Daemon::start(JOBS);
    let ok = d.sock(&["job", "run", "backup", "--wait"]).expect(0);
    let lines: Vec<&str> = ok.stdout.lines().collect();
    assert!(lines.iter().any(|l| l.ends_with(": three")), "{}", ok.stdout);
    let failed = d.sock(&["job", "run", "broken", "--wait"]).expect(1);
    assert!(failed.stdout.contains("about to fail"), "{}", failed.stdout);
    assert!(failed.stderr.contains("job broken run #1 ended failed"), "{}", failed.stderr);
    let json = d.tcp(&["job", "run", "broken", "--wait", "--json"]).expect(1).json();
    assert_eq!(json, serde_json::json!({"counter": 2, "status": "failed"}));
    assert!(d.sock(&["http", "run", "ping", "--wait"]).expect(0).stdout.contains("200"));
}

#[test]
fn logs_n_prints_the_last_lines() {
    let d = Daemon::start(JOBS);
    d.sock(&["job", "run", "backup", "--wait"]).expect(0);
    let all = d.sock(&["logs", "backup"]).expect(0).stdout;
    let last2 = d.sock(&["logs", "backup", "-n", "2"]).expect(0).stdout;
    let want: Vec<&str> = all.lines().rev().take(2).collect::<Vec<_>>().into_iter().rev().collect();
    assert_eq!(last2.lines().collect::<Vec<_>>(), want);
    assert!(all.lines().count() > 2);
}

#[test]
fn logs_all_follow_prefixes_every_jobs_new_lines() {
    let d = Daemon::start(JOBS);
    d.sock(&["job", "run", "backup", "--wait"]).expect(0);
    let live = Live::spawn(&["--socket", d.socket.to_str().unwrap(), "logs", "--all", "-f"]);
    live.until_stderr_contains("following the new log lines of 5 jobs");
    // Runs from before are not replayed; the new ones come with their IDs.
    d.sock(&["job", "run", "hello-world"]).expect(0);
    let line = live.until_contains("Hello, world");
    assert!(line.starts_with("hello-world: "), "{line}");
    d.sock(&["job", "run", "backup"]).expect(0);
    let line = live.until_contains("backup: ");
    assert!(line.contains("backup: "), "{line}");
    d.sock(&["http", "run", "ping"]).expect(0);
    live.until_contains("ping (http): ");
}

#[test]
fn list_fits_the_width_and_wide_shows_every_column() {
    let d = Daemon::start(JOBS);
    let mut cmd = command(&["--socket", d.socket.to_str().unwrap(), "list"]);
    cmd.env("COLUMNS", "80");
    let narrow = run_cmd(cmd).expect(0).stdout;
    assert!(narrow.lines().all(|l| l.chars().count() <= 80), "{narrow}");
    assert!(narrow.contains("never run"), "{narrow}");
    let mut cmd = command(&["--socket", d.socket.to_str().unwrap(), "list", "--wide"]);
    cmd.env("COLUMNS", "80");
    let wide = run_cmd(cmd).expect(0).stdout;
    assert!(wide.lines().next().unwrap().contains("LAST RUN (UTC)"), "{wide}");
    assert!(wide.contains("every Sunday and Wednesday at 03:30"), "{wide}");
}

/// `PATH` with karajoctl's directory first, as the scripts call `karajoctl`.
fn path_with_karajoctl() -> String {
    let dir = Path::new(BIN).parent().unwrap().display().to_string();
    format!("{dir}:{}", std::env::var("PATH").unwrap_or_default())
}

#[test]
fn completion_offers_job_ids_from_the_daemon() {
    let d = Daemon::start(JOBS);
    let sock = d.socket.to_str().unwrap();
    // bash, for real: the script `completions bash` prints, then <TAB> after `job pause `.
    let script = r#"source <(karajoctl completions bash)
COMP_WORDS=(karajoctl job pause ""); COMP_CWORD=3; COMP_TYPE=9
_clap_complete_karajoctl karajoctl "" pause
printf '%s\n' "${COMPREPLY[@]}""#;
    let out = std::process::Command::new("bash")
        .args(["-c", script])
        .env("PATH", path_with_karajoctl())
        .env("KARAJO_SOCKET", sock)
        .output()
        .expect("bash");
    let bash = String::from_utf8_lossy(&out.stdout);
    for id in ["backup", "broken", "hello-world", "weekly_report", "ping"] {
        assert!(bash.lines().any(|l| l == id), "bash offers {id}: {bash:?} {}", String::from_utf8_lossy(&out.stderr));
    }
    // zsh and fish call back the same way; the socket typed on the line is used.
    for (shell, index) in [("zsh", "4"), ("fish", "")] {
        let mut cmd = command(&["--", "karajoctl", "--socket", sock, "logs", "ba"]);
        cmd.env("COMPLETE", shell).env("_CLAP_COMPLETE_INDEX", index).env("_CLAP_IFS", "\n");
        let got = run_cmd(cmd).expect(0).stdout;
        assert!(got.lines().any(|l| l.starts_with("backup")), "{shell}: {got:?}");
        assert!(!got.contains("hello-world"), "{shell} filters by the prefix: {got:?}");
    }
}

#[test]
fn url_https_works_through_a_tls_proxy() {
    let d = Daemon::start(JOBS);
    let proxy = tls::start(&d.url);
    let mut cmd = command(&["--url", &proxy.url, "--secret", SECRET, "list", "--json"]);
    cmd.env("SSL_CERT_FILE", &proxy.ca_file);
    assert_eq!(run_cmd(cmd).expect(0).json()["jobs"]["backup"]["id"], "backup");
    let mut cmd = command(&["--url", &proxy.url, "--secret", SECRET, "job", "pause", "backup"]);
    cmd.env("SSL_CERT_FILE", &proxy.ca_file);
    assert_eq!(run_cmd(cmd).expect(0).stdout, "paused job backup\n");
    wait_for("the pause to show", || d.sock(&["job", "show", "backup", "--json"]).json()["status"] == "paused");
    // A certificate nobody vouches for is refused: cannot reach, exit 3.
    let untrusted = run_cmd(command(&["--url", &proxy.url, "list"])).expect(3);
    assert!(untrusted.stderr.contains(&proxy.url), "{}", untrusted.stderr);
}

/// Issue 19: karajod speaks HTTPS itself with `tls_cert`/`tls_key`;
/// karajoctl trusts a private certificate through `SSL_CERT_FILE`.
#[test]
fn url_https_works_against_karajod_tls() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (pem, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&pem, cert.cert.pem()).unwrap();
    std::fs::write(&key, cert.key_pair.serialize_pem()).unwrap();
    let d = Daemon::start(&format!("tls_cert = {}\ntls_key = {}\n{JOBS}", pem.display(), key.display()));
    assert!(d.url.starts_with("https://127.0.0.1:"), "{}", d.url);
    let url = d.url.replacen("127.0.0.1", "localhost", 1);
    let mut cmd = command(&["--url", &url, "--secret", SECRET, "job", "pause", "backup"]);
    cmd.env("SSL_CERT_FILE", &pem);
    assert_eq!(run_cmd(cmd).expect(0).stdout, "paused job backup\n");
    let mut cmd = command(&["--url", &url, "--secret", SECRET, "list", "--json"]);
    cmd.env("SSL_CERT_FILE", &pem);
    assert_eq!(run_cmd(cmd).expect(0).json()["jobs"]["backup"]["status"], "paused");
    assert_eq!(run_cmd(command(&["--url", &url, "list"])).expect(3).code, 3, "an unknown CA is refused");
}

#[test]
fn list_shows_checks_and_check_show_pause_resume_work_over_the_socket() {
    let d = Daemon::start("[check \"Backup elsewhere\"]\nkey = 0123456789abcdef0123\nperiod = 1h\n");
    let list = on_socket(&d.socket, &["list"]).expect(0);
    let line = list.stdout.lines().find(|l| l.starts_with("check")).unwrap_or_else(|| panic!("{}", list.stdout));
    assert!(line.contains("backup_elsewhere") && line.contains("new") && line.contains("every 1 h"), "{line}");
    let shown = on_socket(&d.socket, &["--json", "check", "show", "backup_elsewhere"]).expect(0).json();
    assert_eq!(shown["status"], "new");
    let paused = on_socket(&d.socket, &["check", "pause", "Backup elsewhere"]).expect(0);
    assert!(paused.stdout.contains("paused check backup_elsewhere"), "{}", paused.stdout);
    assert_eq!(
        on_socket(&d.socket, &["--json", "check", "show", "backup_elsewhere"]).expect(0).json()["status"],
        "paused"
    );
    on_socket(&d.socket, &["check", "resume", "backup_elsewhere"]).expect(0);
    let unknown = on_socket(&d.socket, &["check", "show", "nope"]);
    assert_eq!(unknown.code, 1, "{}", unknown.stderr);
}
