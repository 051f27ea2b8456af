//! Faults against the real daemon (SPEC 6, 13, 14): `kill -9` at random
//! moments of runs (`crash`), run logs that cannot be written (`disk`), and
//! a flood of badly signed requests while scheduled jobs fire (`load`).
//! Each test is bounded well under a minute on a loaded 2-core machine.

mod crash;
pub mod disk;
mod load;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::harness::{Daemon, Tree, log_dir};

/// The secret of every config here.
const SECRET: &str = "s3cret";

/// True when `line` starts `YYYY-MM-DD HH:MM:SS UTC KIND: ID: ` (SPEC 6).
fn has_prefix(line: &str, kind: &str, id: &str) -> bool {
    const STAMP: &[u8] = b"dddd-dd-dd dd:dd:dd UTC ";
    let b = line.as_bytes();
    let rest = b.get(STAMP.len()..).unwrap_or_default();
    b.len() >= STAMP.len()
        && STAMP.iter().zip(b).all(|(&p, &c)| if p == b'd' { c.is_ascii_digit() } else { p == c })
        && rest.starts_with(kind.as_bytes())
        && rest[kind.len()..].starts_with(b": ")
        && rest[kind.len() + 2..].starts_with(id.as_bytes())
        && rest[kind.len() + 2 + id.len()..].starts_with(b": ")
}

/// Asserts that every whole line of a log carries the SPEC 6 prefix; with
/// `whole`, the text must also end with a newline (an ended run's log).
fn assert_lines_prefixed(text: &str, kind: &str, id: &str, whole: bool, what: &str) {
    let done = match text.rfind('\n') {
        Some(i) => &text[..=i],
        None => "",
    };
    if whole {
        assert_eq!(done.len(), text.len(), "{what}: ends mid-line:\n{}", tail(text));
    }
    for (n, line) in done.lines().enumerate() {
        assert!(
            has_prefix(line, kind, id),
            "{what}: line {} has no `YYYY-MM-DD HH:MM:SS UTC {kind}: {id}: ` prefix: {line:?}",
            n + 1
        );
    }
}

/// The last few lines of a log, for failure messages.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join("\n")
}

/// A job's logs on disk: counter -> (status, content). The daemon may be
/// running: a file renamed or deleted while the folder is listed can be
/// missed by the listing or vanish before it is read, so the look is taken
/// again until two listings agree and every file could be read.
fn logs_on_disk(tree: &Tree, id: &str) -> BTreeMap<u64, (String, String)> {
    let dir = log_dir(tree, "job", id);
    let names = || -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&dir)
            .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        v.sort();
        v
    };
    let mut logs = BTreeMap::new();
    for _ in 0..200 {
        logs.clear();
        let listed = names();
        let mut whole = true;
        for name in &listed {
            let Some((counter, status)) = parse_log_name(id, name) else { continue };
            match std::fs::read(dir.join(name)) {
                Ok(bytes) => {
                    logs.insert(counter, (status, String::from_utf8_lossy(&bytes).into_owned()));
                }
                Err(_) => whole = false,
            }
        }
        if whole && names() == listed {
            return logs;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    logs
}

/// `ID.COUNTER.STATUS` -> (counter, status).
fn parse_log_name(id: &str, name: &str) -> Option<(u64, String)> {
    let (counter, status) = name.strip_prefix(id)?.strip_prefix('.')?.split_once('.')?;
    Some((counter.parse().ok()?, status.to_string()))
}

/// One HTTP client for all checks: building one loads the system's CA
/// store, which takes ~100 ms in a debug build.
fn http() -> &'static reqwest::blocking::Client {
    static CLIENT: std::sync::OnceLock<reqwest::blocking::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(crate::harness::client)
}

/// GET a JSON API path; (HTTP status, body).
fn get_json(d: &Daemon, path: &str) -> (u16, Value) {
    let r = http().get(format!("{}{path}", d.url)).send().unwrap_or_else(|e| panic!("GET {path}: {e}"));
    (r.status().as_u16(), r.json().unwrap_or(Value::Null))
}

/// The daemon's view of a job's runs: (status, [(counter, status)]).
fn api_runs(d: &Daemon, id: &str) -> (String, Vec<(u64, String)>) {
    let (code, v) = get_json(d, &format!("/karajo/api/job_exec?id={id}"));
    assert_eq!(code, 200, "GET job_exec?id={id}: {v}");
    let job = &v["data"];
    let runs = job["logs"]
        .as_array()
        .unwrap_or_else(|| panic!("job {id} has no logs list: {job}"))
        .iter()
        .map(|l| (l["counter"].as_u64().unwrap(), l["status"].as_str().unwrap().to_string()))
        .collect();
    (job["status"].as_str().unwrap().to_string(), runs)
}

/// One run's log content as the API serves it.
fn api_log(d: &Daemon, id: &str, counter: u64) -> (String, Vec<u8>) {
    use base64::Engine as _;
    let (code, v) = get_json(d, &format!("/karajo/api/job_exec/log?id={id}&counter={counter}"));
    assert_eq!(code, 200, "GET the log {id}.{counter}: {v}");
    let content = base64::engine::general_purpose::STANDARD
        .decode(v["data"]["content"].as_str().expect("log content"))
        .expect("log content is base64");
    (v["data"]["status"].as_str().unwrap().to_string(), content)
}

/// A signed POST of the pause/resume/cancel/run API; (HTTP status, body).
/// [`crate::harness::signed_action`] with this module's secret.
fn signed_action(client: &reqwest::blocking::Client, d: &Daemon, action: &str, id: &str) -> (u16, Value) {
    crate::harness::signed_action(client, d, SECRET, action, id)
}
