//! Starting the real `karajod` on a temp dir_base and a loopback port.
//! No fixed sleeps: every wait polls a condition with a deadline.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_karajod");

/// A temp `dir_base` with `etc/karajo/karajo.conf` written from `main_conf`
/// (the `[karajo]` section gets `dir_base` and a port-0 listen address
/// unless the text sets them).
pub struct Tree {
    pub dir: tempfile::TempDir,
}

impl Tree {
    pub fn new(main_conf: &str) -> Tree {
        let dir = tempfile::tempdir().expect("temp dir");
        let t = Tree { dir };
        let mut text = String::new();
        if !main_conf.contains("[karajo]") {
            text.push_str("[karajo]\n");
        }
        text.push_str(main_conf);
        let base = format!("dir_base = {}\n", t.base().display());
        let listen = if main_conf.contains("listen_address") { "" } else { "listen_address = 127.0.0.1:0\n" };
        let text = text.replacen("[karajo]\n", &format!("[karajo]\n{base}{listen}"), 1);
        t.write("etc/karajo/karajo.conf", &text);
        t
    }

    pub fn base(&self) -> &Path {
        self.dir.path()
    }

    pub fn config(&self) -> PathBuf {
        self.base().join("etc/karajo/karajo.conf")
    }

    /// Writes a file under dir_base, creating its parents.
    pub fn write(&self, rel: &str, text: &str) {
        let p = self.base().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.base().join(rel)
    }
}

/// A running daemon; killed on drop.
pub struct Daemon {
    pub child: Child,
    pub url: String,
    pub stdout_lines: Vec<String>,
}

impl Daemon {
    /// Starts `karajod --config` on the tree and waits until it listens.
    pub fn start(tree: &Tree) -> Daemon {
        Self::start_with(tree, &[])
    }

    /// Like [`Daemon::start`] with extra environment variables.
    pub fn start_with(tree: &Tree, env: &[(&str, &str)]) -> Daemon {
        let mut cmd = Command::new(BIN);
        cmd.arg("--config").arg(tree.config()).current_dir(tree.base());
        cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn karajod");
        Daemon::await_listening(child, String::new)
    }

    /// Reads the daemon's stdout up to its `listening` line, then keeps
    /// draining it so the daemon never blocks on a full pipe. `more` adds
    /// to the failure message if the daemon exits first.
    fn await_listening(mut child: Child, more: impl Fn() -> String) -> Daemon {
        let stdout = child.stdout.take().unwrap();
        let mut reader = BufReader::new(stdout);
        let mut lines = Vec::new();
        let url = loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                let status = child.wait().unwrap();
                panic!("karajod exited ({status}) before listening; stdout: {lines:?}{}", more());
            }
            if let Some(u) = line.trim().strip_prefix("karajod: listening on ") {
                break u.to_string();
            }
            lines.push(line.trim_end().to_string());
        };
        std::thread::spawn(move || for _ in reader.lines() {});
        Daemon { child, url, stdout_lines: lines }
    }

    pub fn get(&self, path: &str) -> reqwest::blocking::Response {
        client().get(format!("{}{path}", self.url)).send().expect("GET")
    }

    pub fn pid(&self) -> nix::unistd::Pid {
        nix::unistd::Pid::from_raw(self.child.id() as i32)
    }

    /// Sends a signal and waits for the exit status.
    pub fn signal_and_wait(&mut self, sig: nix::sys::signal::Signal) -> std::process::ExitStatus {
        nix::sys::signal::kill(self.pid(), sig).unwrap();
        wait_exit(&mut self.child, Duration::from_secs(15)).expect("karajod did not exit in time")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build().unwrap()
}

fn wait_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// Polls `cond` every 20 ms until it holds or `limit` passes.
pub fn wait_for(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `karajod ARGS` to completion.
pub fn run_karajod(args: &[&str], cwd: &Path) -> std::process::Output {
    Command::new(BIN).args(args).current_dir(cwd).output().expect("run karajod")
}

/// Where the run logs of a job (`kind` = "job" or "job_http") live.
pub fn log_dir(tree: &Tree, kind: &str, id: &str) -> PathBuf {
    tree.path(&format!("var/log/karajo/{kind}/{id}"))
}

/// The log `ID.COUNTER.*` of a job if it exists: (path, status).
pub fn find_log(tree: &Tree, kind: &str, id: &str, counter: u64) -> Option<(PathBuf, String)> {
    let prefix = format!("{id}.{counter}.");
    std::fs::read_dir(log_dir(tree, kind, id)).ok()?.flatten().find_map(|e| {
        let name = e.file_name().into_string().ok()?;
        let status = name.strip_prefix(&prefix)?.to_string();
        Some((e.path(), status))
    })
}

/// Waits until run COUNTER of a job has ended (its log is no longer
/// `.running`); returns (status, content).
pub fn wait_run_end(tree: &Tree, kind: &str, id: &str, counter: u64, limit: Duration) -> (String, String) {
    let mut found = None;
    wait_for(limit, &format!("{kind} {id} run {counter} to end"), || {
        found = find_log(tree, kind, id, counter).filter(|(_, s)| s != "running");
        found.is_some()
    });
    let (path, status) = found.unwrap();
    (status, std::fs::read_to_string(path).unwrap())
}

/// A process's resident memory in KiB (`VmRSS`, or `VmHWM` for the peak).
pub fn proc_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap_or_else(|| panic!("{field} in /proc status"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// True while some process is in the process group `pgid`.
pub fn group_alive(pgid: i32) -> bool {
    nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid), None).is_ok()
}

/// What [`Daemon::launch`] does beyond [`Daemon::start_with`].
#[derive(Default)]
pub struct Launch<'a> {
    pub env: &'a [(&'a str, &'a str)],
    /// `RLIMIT_FSIZE` of the daemon in bytes (set in the child before exec).
    pub fsize_limit: Option<u64>,
}

/// The daemon's stderr as it arrives, collected by a thread.
#[derive(Clone, Default)]
pub struct Stderr(std::sync::Arc<std::sync::Mutex<String>>);

impl Stderr {
    pub fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }
}

impl Daemon {
    /// Starts `karajod --config` on the tree with the extras of `opts`,
    /// capturing its stderr; waits until it listens.
    pub fn launch(tree: &Tree, opts: &Launch<'_>) -> (Daemon, Stderr) {
        use std::io::Read;
        use std::os::unix::process::CommandExt;
        let mut cmd = Command::new(BIN);
        cmd.arg("--config").arg(tree.config()).current_dir(tree.base());
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        for (k, v) in opts.env {
            cmd.env(k, v);
        }
        if let Some(limit) = opts.fsize_limit {
            // SAFETY: setrlimit is async-signal-safe and allocates nothing.
            unsafe {
                cmd.pre_exec(move || {
                    nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_FSIZE, limit, limit)
                        .map_err(std::io::Error::from)
                });
            }
        }
        let mut child = cmd.spawn().expect("spawn karajod");
        let stderr = Stderr::default();
        let mut pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                eprint!("{}", String::from_utf8_lossy(&buf[..n]));
                sink.0.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let daemon = Daemon::await_listening(child, || format!("; stderr: {}", stderr.text()));
        (daemon, stderr)
    }
}

/// Processes whose working directory is under `dir`.
pub fn processes_under(dir: &Path) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd.starts_with(dir)))
        .collect()
}

/// SIGKILLs every process whose working directory is under `dir` (job
/// commands a killed daemon left behind) and waits until they are gone.
pub fn kill_processes_under(dir: &Path) {
    wait_for(Duration::from_secs(10), "stray job processes to die", || {
        let pids = processes_under(dir);
        for pid in &pids {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(*pid), nix::sys::signal::Signal::SIGKILL);
        }
        pids.is_empty()
    });
}

/// A signed form body `_karajo_epoch=..&id=ID` and its `X-Karajo-Sign`
/// under `secret`, for the pause/resume/cancel/run API.
pub fn signed_form(secret: &str, id: &str) -> (String, String) {
    let body = format!("_karajo_epoch={}&id={id}", chrono::Utc::now().timestamp());
    let sig = proto::sign::hmac_sha256_hex(secret.as_bytes(), body.as_bytes());
    (body, sig)
}

/// POST `job_exec/ACTION` (run, pause, resume, cancel) for `id`, signed
/// with `secret` as the classic API wants; the status and the JSON answer.
pub fn signed_action(
    client: &reqwest::blocking::Client,
    d: &Daemon,
    secret: &str,
    action: &str,
    id: &str,
) -> (u16, serde_json::Value) {
    let (body, sig) = signed_form(secret, id);
    let r = client
        .post(format!("{}/karajo/api/job_exec/{action}", d.url))
        .header("X-Karajo-Sign", sig)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .unwrap_or_else(|e| panic!("POST job_exec/{action} id={id}: {e}"));
    (r.status().as_u16(), r.json().unwrap_or(serde_json::Value::Null))
}
