//! The raw cost bench/engine.sh compares job throughput with: TOTAL runs of
//! `/bin/sh -c true`, PAR at a time, each spawned the way the runner does
//! (clean environment, own process group, output into a pipe read to EOF),
//! with no daemon around it. Prints one JSON line.
//!
//! `cargo run --release -p karajod --example forkexec -- 3000 4`

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

fn one() {
    let mut child = Command::new("/bin/sh")
        .args(["-c", "true"])
        .env_clear()
        .env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("forkexec: spawn /bin/sh -c true: {e}"));
    let mut sink = Vec::new();
    let _ = child.stdout.take().expect("a piped stdout").read_to_end(&mut sink);
    let status = child.wait().unwrap_or_else(|e| panic!("forkexec: wait for /bin/sh: {e}"));
    assert!(status.success(), "forkexec: /bin/sh -c true ended with {status}");
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().expect("forkexec TOTAL PAR: numbers"));
    let (total, par) = (args.next().unwrap_or(3000), args.next().unwrap_or(4));
    let left = AtomicUsize::new(total);
    let t0 = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..par {
            s.spawn(|| {
                while left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
                    one()
                }
            });
        }
    });
    let secs = t0.elapsed().as_secs_f64();
    println!("{{\"runs\":{total},\"parallel\":{par},\"seconds\":{secs:.3},\"runs_per_s\":{:.1}}}", total as f64 / secs);
}
