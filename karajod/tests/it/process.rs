//! Process lifetime (SPEC 17, issue 23) against the real daemon: every
//! process a run starts ends with it, also those that leave its process
//! group or session, under both ways of tracking them (a cgroup per run,
//! and the child subreaper forced by `KARAJOD_PROCESS_TRACKING`).
//!
//! Every command exports `KT_MARK=<unique marker>`, which each process it
//! starts inherits, so a scan of `/proc/*/environ` proves that none
//! survives. Grace periods are short (`KARAJOD_KILL_GRACE`).

mod matrix;
mod reload;
mod restart;

use std::time::Duration;

use serde_json::Value;

use crate::harness::Daemon;

const SECRET: &str = "s3cret";
/// How long a run may take to end after its ending began (SPEC 17):
/// the grace (`KARAJOD_KILL_GRACE=500ms` below) + 1 s.
const BOUND: Duration = Duration::from_millis(1500);

/// The tracking modes this machine can test: the cgroup path needs root
/// and a writable cgroup v2; without them it is skipped (or fails in CI).
pub(crate) fn modes() -> Vec<&'static str> {
    let mut modes = vec!["subreaper"];
    if cgroup_v2_writable() {
        modes.insert(0, "cgroup");
    } else if std::env::var_os("CI").is_some() {
        panic!("CI is set but this machine cannot make cgroup v2 groups: the cgroup path would go untested");
    } else {
        println!("SKIPPED: the cgroup path (not root or no writable cgroup v2); testing the subreaper path only");
    }
    modes
}

fn cgroup_v2_writable() -> bool {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let Some(mount) = info.lines().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        (right.split_whitespace().next()? == "cgroup2").then(|| left.split_whitespace().nth(4).map(String::from))?
    }) else {
        return false;
    };
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let own = own.lines().find_map(|l| l.strip_prefix("0::")).unwrap_or("/").trim_start_matches('/').to_string();
    let probe = std::path::Path::new(&mount).join(own).join(format!("kt-probe-{}", std::process::id()));
    let ok = std::fs::create_dir(&probe).is_ok() && probe.join("cgroup.kill").exists();
    let _ = std::fs::remove_dir(&probe);
    ok
}

/// The daemon's environment for a mode.
fn env(mode: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("KARAJOD_PROCESS_TRACKING", mode),
        ("KARAJOD_KILL_GRACE", "500ms"),
        ("KARAJOD_SHUTDOWN_GRACE", "200ms"),
        ("KARAJO_LOG", "warn"),
    ]
}

/// A marker no other test or run uses.
pub(crate) fn marker(what: &str) -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("kt-{what}-{}-{n}-{t}", std::process::id())
}

/// Live processes whose environment holds `KT_MARK=<marker>` (a zombie's
/// environment reads empty, so it does not count).
pub(crate) fn marked(marker: &str) -> Vec<i32> {
    let want = format!("KT_MARK={marker}").into_bytes();
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| env.split(|&b| b == 0).any(|e| e == want))
        })
        .collect()
}

/// Kills whatever carries the marker (cleanup after a failed assertion).
pub(crate) fn kill_marked(marker: &str) {
    for pid in marked(marker) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
    }
}

/// A signed POST of the job_exec API (`run`, `cancel`, `pause`, `resume`).
fn act(d: &Daemon, action: &str, id: &str) -> (u16, Value) {
    crate::harness::signed_action(client(), d, SECRET, action, id)
}

/// GET a job's view: (HTTP status, body).
fn job(d: &Daemon, id: &str) -> (u16, Value) {
    let r = client().get(format!("{}/karajo/api/job_exec?id={id}", d.url)).send().expect("GET job_exec");
    (r.status().as_u16(), r.json().unwrap_or(Value::Null))
}

fn client() -> &'static reqwest::blocking::Client {
    static C: std::sync::OnceLock<reqwest::blocking::Client> = std::sync::OnceLock::new();
    C.get_or_init(crate::harness::client)
}

/// Waits until at least `n` processes carry the marker.
fn wait_marked(marker: &str, n: usize) {
    crate::harness::wait_for(Duration::from_secs(10), &format!("{n} processes marked {marker}"), || {
        marked(marker).len() >= n
    });
}
