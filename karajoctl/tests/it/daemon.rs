//! The real karajoctl against the real karajod: a temp dir_base, the
//! control socket in it and a port-0 listener, every command over both.
//!
//! karajod is found next to this test binary (`target/debug/karajod`, built
//! by `cargo test --workspace` or `cargo build -p karajod`) or at
//! `KARAJOD_BIN`. It prints `karajod: listening on http://ADDR` once its
//! listeners are up; the socket is waited for with a deadline.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{Live, Run, WAIT, golden, normalise_table, on_socket, run};

const SECRET: &str = "s3cret";

fn karajod_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("KARAJOD_BIN") {
        return p.into();
    }
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().and_then(Path::parent).unwrap().join("karajod");
    assert!(bin.exists(), "{} is missing: run `cargo build -p karajod` (or set KARAJOD_BIN)", bin.display());
    bin
}

/// A running karajod on a temp tree; killed on drop.
struct Daemon {
    dir: tempfile::TempDir,
    child: Child,
    url: String,
    socket: PathBuf,
}

impl Daemon {
    fn start(jobs: &str) -> Daemon {
        Daemon::start_with(jobs, "", None)
    }

    /// With more `[karajo]` lines and, when given, a user.conf.
    fn start_with(jobs: &str, karajo_extra: &str, user_conf: Option<&str>) -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path();
        let socket = base.join("karajod.sock");
        let conf = base.join("etc/karajo/karajo.conf");
        std::fs::create_dir_all(conf.parent().unwrap()).unwrap();
        let text = format!(
            "[karajo]\nname = karajoctl tests\ndir_base = {}\nlisten_address = 127.0.0.1:0\n\
             control_socket = {}\nsecret = {SECRET}\nmax_job_running = 2\n{karajo_extra}\n{jobs}",
            base.display(),
            socket.display()
        );
        std::fs::write(&conf, text).unwrap();
        if let Some(users) = user_conf {
            std::fs::write(base.join("etc/karajo/user.conf"), users).unwrap();
        }
        let mut child = Command::new(karajod_bin())
            .arg("--config")
            .arg(&conf)
            .current_dir(base)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn karajod");
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let url = loop {
            let mut line = String::new();
            assert!(reader.read_line(&mut line).unwrap_or(0) > 0, "karajod exited before listening");
            if let Some(u) = line.trim().strip_prefix("karajod: listening on ") {
                break u.to_string();
            }
        };
        std::thread::spawn(move || for _ in reader.lines() {});
        wait_for("the control socket", || socket.exists());
        Daemon { dir, child, url, socket }
    }

    fn sock(&self, args: &[&str]) -> Run {
        on_socket(&self.socket, args)
    }

    fn tcp(&self, args: &[&str]) -> Run {
        let mut all = vec!["--url", self.url.as_str(), "--secret", SECRET];
        all.extend_from_slice(args);
        run(&all)
    }

    /// A job's working directory, where the test jobs look for files.
    fn workdir(&self, id: &str) -> PathBuf {
        self.dir.path().join("var/lib/karajo/job").join(id)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

const JOBS: &str = r#"
[job "hello-world"]
path = /hello-world
command = echo "Hello, world"

[job "Monthly"]
schedule = monthly@1,15@18:00
command = echo monthly

[job "slow"]
description = Prints, then waits for a file named "go" in its working directory.
command = echo "start $KARAJO_JOB_COUNTER"
command = "while [ ! -e go ]; do sleep 0.05; done; rm -f go"
command = echo "end $KARAJO_JOB_COUNTER"

[job.http "ping"]
http_url = /karajo/health
"#;

#[test]
fn every_read_command_over_socket_and_tcp() {
    let d = Daemon::start(JOBS);
    let list = d.sock(&["list"]).expect(0);
    golden("daemon-list.txt", &normalise_table(&list.stdout));
    assert_eq!(normalise_table(&d.tcp(&["list"]).expect(0).stdout), normalise_table(&list.stdout));
    let env = d.sock(&["list", "--json"]).expect(0).json();
    assert_eq!(env["jobs"]["hello-world"]["id"], "hello-world");
    assert_eq!(d.tcp(&["env", "--json"]).expect(0).json()["name"], "karajoctl tests");
    assert!(d.sock(&["env"]).expect(0).stdout.starts_with("name "));
    for r in [d.sock(&["job", "show", "Hello-World"]), d.tcp(&["job", "show", "hello-world"])] {
        assert!(r.expect(0).stdout.starts_with("job "));
    }
    assert_eq!(d.sock(&["http", "show", "ping", "--json"]).expect(0).json()["id"], "ping");
    assert!(d.tcp(&["http", "show", "ping"]).expect(0).stdout.contains("/karajo/health"));
}

/// Issue 14: with users, a signed read must sign a fresh `_karajo_epoch`
/// (also under a replay window, where identical reads in one second must
/// not count as replays).
#[test]
fn signed_reads_over_tcp_when_users_exist() {
    let users = "[user \"alice\"]\npassword = $2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy\n";
    let d = Daemon::start_with(JOBS, "replay_window = 5m\n", Some(users));
    assert_eq!(run(&["--url", &d.url, "list"]).code, 1, "unsigned reads are refused");
    for _ in 0..3 {
        assert_eq!(d.tcp(&["env", "--json"]).expect(0).json()["name"], "karajoctl tests");
        assert!(d.tcp(&["job", "show", "hello-world"]).expect(0).stdout.starts_with("job "));
    }
    d.tcp(&["list"]).expect(0);
}

#[test]
fn actions_over_socket_and_tcp() {
    let d = Daemon::start(JOBS);
    for (r, word) in [
        (d.sock(&["job", "pause", "monthly"]), "paused job monthly\n"),
        (d.tcp(&["job", "resume", "monthly"]), "resumed job monthly\n"),
        (d.tcp(&["http", "pause", "ping"]), "paused http job ping\n"),
        (d.sock(&["http", "resume", "ping"]), "resumed http job ping\n"),
        (d.sock(&["job", "cancel", "monthly"]), "job monthly is not running: nothing to cancel\n"),
    ] {
        assert_eq!(r.expect(0).stdout, word);
    }
    assert_eq!(d.tcp(&["job", "run", "hello-world"]).expect(0).stdout, "queued a run of job hello-world\n");
    wait_for("the run's log", || d.sock(&["logs", "hello-world"]).stdout.contains("Hello, world"));
    assert!(d.tcp(&["logs", "hello-world", "1"]).expect(0).stdout.contains("Hello, world"));
    assert_eq!(d.sock(&["logs", "hello-world", "--json"]).expect(0).json()["counter"], 1);
    d.sock(&["http", "run", "ping"]).expect(0);
    wait_for("the http job's log", || d.sock(&["logs", "ping"]).code == 0);
}

#[test]
fn refusals_and_their_exit_codes() {
    let d = Daemon::start(JOBS);
    assert!(d.sock(&["job", "pause", "nope"]).expect(1).stderr.contains("ERR_JOB_NOT_FOUND"));
    assert!(d.tcp(&["http", "show", "nope"]).expect(1).stderr.contains("ERR_INVALID_JOB_ID"));
    assert!(d.sock(&["logs", "nope"]).expect(1).stderr.contains("ERR_JOB_NOT_FOUND"));
    assert!(d.sock(&["logs", "monthly", "7"]).code == 1);
    let unsigned = run(&["--url", &d.url, "job", "pause", "monthly"]).expect(1);
    assert!(unsigned.stderr.contains("HTTP 401"), "{}", unsigned.stderr);
    // One run active and one queued: a third trigger is refused.
    d.sock(&["job", "run", "slow"]).expect(0);
    d.sock(&["job", "run", "slow"]).expect(0);
    assert!(d.sock(&["job", "run", "slow"]).expect(1).stderr.contains("ERR_JOB_ALREADY_RUN"));
    d.sock(&["job", "cancel", "slow"]).expect(0);
    let gone = d.socket.with_extension("gone");
    assert_eq!(on_socket(&gone, &["list"]).code, 3);
}

#[test]
fn logs_follow_a_running_job_then_the_next_run() {
    let d = Daemon::start(JOBS);
    d.sock(&["job", "run", "slow"]).expect(0);
    let live = Live::spawn(&["--socket", d.socket.to_str().unwrap(), "logs", "slow", "-f"]);
    // The first line shows while the run still waits for its file.
    live.until_contains("start 1");
    assert_eq!(d.sock(&["job", "show", "slow", "--json"]).expect(0).json()["status"], "running");
    std::fs::write(d.workdir("slow").join("go"), "").unwrap();
    live.until_contains("end 1");
    d.tcp(&["job", "run", "slow"]).expect(0);
    live.until_contains("start 2");
    std::fs::write(d.workdir("slow").join("go"), "").unwrap();
    live.until_contains("end 2");
}
