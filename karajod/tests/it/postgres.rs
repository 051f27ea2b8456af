//! A throw-away PostgreSQL server for the history tests: `initdb` of a
//! temp cluster, `postgres` on a free loopback port with its socket in the
//! temp dir, stopped and removed on drop.
//!
//! PostgreSQL refuses to run as root, and the tests run as root here and
//! on CI: the cluster then belongs to `nobody`, and both programs run as
//! that user (the temp dir is opened up to it).

#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a fresh cluster may take to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// `nobody` on Debian.
const NOBODY: u32 = 65534;

pub struct Postgres {
    child: Option<Child>,
    dir: tempfile::TempDir,
    pub port: u16,
}

impl Postgres {
    /// A fresh server, or `None` (after [`crate::tool::missing`]) when PostgreSQL is not installed.
    pub fn start() -> Option<Postgres> {
        let Some(bin) = bin_dir() else {
            crate::tool::missing("PostgreSQL (Debian package postgresql: initdb, postgres)");
            return None;
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let as_root = nix::unistd::geteuid().is_root();
        if as_root {
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
            chown_nobody(dir.path());
            chown_nobody(&data);
        }
        let out = run_as(Command::new(bin.join("initdb")), as_root)
            .args(["-D"])
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"])
            .stdout(Stdio::null())
            .output()
            .expect("run initdb");
        assert!(out.status.success(), "initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        let port = free_port();
        let child = run_as(Command::new(bin.join("postgres")), as_root)
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
            .arg("-k")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn postgres");
        let pg = Postgres { child: Some(child), dir, port };
        pg.await_ready(&bin);
        Some(pg)
    }

    /// The URL of the `postgres` database as the superuser.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Makes a fresh database and answers its URL (one per daemon in a test).
    pub fn database(&self, name: &str) -> String {
        let bin = bin_dir().expect("bin dir");
        let out = Command::new(bin.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", "-q", "-c"])
            .arg(format!("CREATE DATABASE {name}"))
            .output()
            .expect("run psql");
        assert!(out.status.success(), "create database: {}", String::from_utf8_lossy(&out.stderr));
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    fn await_ready(&self, bin: &Path) {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let ok = Command::new(bin.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                return;
            }
            assert!(Instant::now() < deadline, "postgres not ready on port {}", self.port);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server (fast shutdown) and waits for it, e.g. to test an unreachable database.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
            let _ = child.wait();
        }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The newest `/usr/lib/postgresql/N/bin` with both programs.
fn bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin): &(u32, PathBuf)| bin.join("initdb").exists() && bin.join("postgres").exists())
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, bin)| bin)
}

fn run_as(mut cmd: Command, as_root: bool) -> Command {
    if as_root {
        cmd.uid(NOBODY).gid(NOBODY);
        // Its own environment would name root's home, which nobody cannot read.
        cmd.env("HOME", "/tmp");
    }
    cmd
}

fn chown_nobody(p: &Path) {
    std::os::unix::fs::chown(p, Some(NOBODY), Some(NOBODY)).expect("chown to nobody");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
