//! Running the real karajoctl binary: to completion, or as a live child
//! whose stdout lines arrive on a channel (for `logs -f`). No fixed sleeps:
//! every wait has a deadline.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_karajoctl");
pub const WAIT: Duration = Duration::from_secs(20);

/// A finished run of karajoctl.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    /// Asserts the exit code, showing both streams when it differs.
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(self.code, code, "exit code\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }
}

/// A clean environment: no inherited KARAJO_* or NO_COLOR surprises.
pub fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_remove("KARAJO_SOCKET").env_remove("KARAJO_SECRET").env_remove("KARAJOCTL_CACERT");
    cmd.env_remove("NO_COLOR");
    cmd
}

pub fn run(args: &[&str]) -> Run {
    run_cmd(command(args))
}

pub fn run_cmd(mut cmd: Command) -> Run {
    let Output { status, stdout, stderr } = cmd.stdin(Stdio::null()).output().expect("run karajoctl");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// `--socket PATH` then the args.
pub fn on_socket(socket: &Path, args: &[&str]) -> Run {
    let mut all = vec!["--socket", socket.to_str().unwrap()];
    all.extend_from_slice(args);
    run(&all)
}

/// A karajoctl left running, its stdout read line by line on a thread.
pub struct Live {
    pub child: Child,
    lines: Receiver<String>,
    errors: Receiver<String>,
}

impl Live {
    pub fn spawn(args: &[&str]) -> Live {
        let mut child = command(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn karajoctl");
        let lines = line_channel(child.stdout.take().unwrap());
        let errors = line_channel(child.stderr.take().unwrap());
        Live { child, lines, errors }
    }

    /// The next stdout line, within the deadline.
    pub fn next_line(&self) -> String {
        next(&self.lines, "stdout")
    }

    /// Reads stderr lines until one contains `needle` (a note such as
    /// "following ..."); returns that line.
    pub fn until_stderr_contains(&self, needle: &str) -> String {
        loop {
            let l = next(&self.errors, "stderr");
            if l.contains(needle) {
                return l;
            }
        }
    }

    /// Reads lines until one equals `want`; returns the ones before it.
    pub fn until(&self, want: &str) -> Vec<String> {
        let mut before = Vec::new();
        loop {
            let l = self.next_line();
            if l == want {
                return before;
            }
            before.push(l);
        }
    }

    /// Reads lines until one contains `needle`; returns that line.
    pub fn until_contains(&self, needle: &str) -> String {
        loop {
            let l = self.next_line();
            if l.contains(needle) {
                return l;
            }
        }
    }

    /// Every stderr line not read yet, up to its end (call after it exited).
    pub fn stderr_rest(&self) -> String {
        let mut out = String::new();
        while let Ok(l) = self.errors.recv_timeout(WAIT) {
            out.push_str(&l);
            out.push('\n');
        }
        out
    }

    /// Drops our end of its stdout (the reader thread stops at its next line).
    pub fn close_stdout(&mut self) {
        self.lines = std::sync::mpsc::channel().1;
    }

    /// The exit code if it has exited.
    pub fn try_code(&mut self) -> Option<i32> {
        self.child.try_wait().unwrap().map(|s| s.code().unwrap_or(-1))
    }

    /// Waits for the exit code.
    pub fn wait(&mut self) -> i32 {
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code().unwrap_or(-1);
            }
            assert!(start.elapsed() < WAIT, "karajoctl did not exit within {WAIT:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The lines of a child's pipe, read on a thread.
fn line_channel(pipe: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn next(rx: &Receiver<String>, what: &str) -> String {
    match rx.recv_timeout(WAIT) {
        Ok(l) => l,
        Err(RecvTimeoutError::Timeout) => panic!("no line on karajoctl's {what} within {WAIT:?}"),
        Err(RecvTimeoutError::Disconnected) => panic!("karajoctl closed its {what}"),
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Table output made stable for golden files: cells split on runs of two
/// or more blanks, times (`YYYY-MM-DD HH:MM:SS (…)`) replaced by `<TIME>`,
/// cells joined by ` | `. Column alignment itself is pinned by the unit
/// golden tests, which render at a fixed now.
pub fn normalise_table(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let cells: Vec<String> = line.split("  ").map(str::trim).filter(|c| !c.is_empty()).map(time_cell).collect();
        out.push_str(&cells.join(" | "));
        out.push('\n');
    }
    out
}

fn time_cell(cell: &str) -> String {
    let b = cell.as_bytes();
    let is_time = b.len() >= 19
        && b[..19].iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b' ',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        });
    if is_time { "<TIME>".into() } else { cell.into() }
}

/// Compares with `testdata/golden/NAME`, or rewrites it with `UPDATE_GOLDEN=1`.
pub fn golden(name: &str, got: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(got == want, "{name} differs\n--- want\n{want}\n--- got\n{got}");
}
