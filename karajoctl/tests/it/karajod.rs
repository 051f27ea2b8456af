//! The real karajod for karajoctl's tests: a temp dir_base, the control
//! socket in it and a port-0 listener, killed on drop.
//!
//! karajod is found next to this test binary (`target/debug/karajod`, built
//! by `cargo test --workspace` or `cargo build -p karajod`) or at
//! `KARAJOD_BIN`. It prints `karajod: listening on http://ADDR` once its
//! listeners are up; the socket is waited for with a deadline.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{Run, WAIT, on_socket, run};

pub const SECRET: &str = "s3cret";

/// A user.conf with one user (testdata's): over TCP, reads then need a
/// session or a signature.
pub const USER_CONF: &str =
    "[user \"alice\"]\npassword = $2b$10$KPTCEJNY1QygTk8JwnAAk.pXCVB.no5ceFQXARprfHn.WLKfnotqm\n";

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
pub struct Daemon {
    dir: tempfile::TempDir,
    child: Child,
    pub url: String,
    pub socket: PathBuf,
}

impl Daemon {
    /// A daemon with these job sections and no users.
    pub fn start(jobs: &str) -> Daemon {
        Daemon::start_with(jobs, "")
    }

    /// A daemon with these job sections and this user.conf.
    pub fn start_with(jobs: &str, users: &str) -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path();
        let socket = base.join("karajod.sock");
        let conf = base.join("etc/karajo/karajo.conf");
        std::fs::create_dir_all(conf.parent().unwrap()).unwrap();
        let text = format!(
            "[karajo]\nname = karajoctl tests\ndir_base = {}\nlisten_address = 127.0.0.1:0\n\
             control_socket = {}\nsecret = {SECRET}\nmax_job_running = 2\n\n{jobs}",
            base.display(),
            socket.display()
        );
        std::fs::write(&conf, text).unwrap();
        if !users.is_empty() {
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

    /// The daemon again with `[karajo] classic_signatures = false`, reloaded
    /// over the socket (so only `X-Karajo-Signature` is accepted).
    pub fn with_classic_off(self) -> Daemon {
        let conf = self.path("etc/karajo/karajo.conf");
        let text = std::fs::read_to_string(&conf).unwrap();
        std::fs::write(&conf, text.replacen("[karajo]\n", "[karajo]\nclassic_signatures = false\n", 1)).unwrap();
        self.sock(&["reload"]).expect(0);
        self
    }

    /// karajoctl over the control socket.
    pub fn sock(&self, args: &[&str]) -> Run {
        on_socket(&self.socket, args)
    }

    /// karajoctl over TCP, with the secret.
    pub fn tcp(&self, args: &[&str]) -> Run {
        let mut all = vec!["--url", self.url.as_str(), "--secret", SECRET];
        all.extend_from_slice(args);
        run(&all)
    }

    /// A job's working directory, where the test jobs look for files.
    /// A file under the daemon's dir_base (its configuration lives there).
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn workdir(&self, id: &str) -> PathBuf {
        self.dir.path().join("var/lib/karajo/job").join(id)
    }

    /// The file of run `counter` of job `id`, ended with `status`.
    pub fn log_path(&self, id: &str, counter: u64, status: &str) -> PathBuf {
        self.dir.path().join("var/log/karajo/job").join(id).join(format!("{id}.{counter}.{status}"))
    }

    /// Creates `name` in the working directory of job `id`.
    pub fn touch(&self, id: &str, name: &str) {
        let dir = self.workdir(id);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), "").unwrap();
    }

    /// Waits until job `id` (as `job show --json` over the socket says)
    /// has status `status`.
    pub fn wait_status(&self, id: &str, status: &str) {
        wait_for(&format!("job {id} to be {status}"), || {
            let r = self.sock(&["job", "show", id, "--json"]);
            r.code == 0 && r.json()["status"] == status
        });
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
