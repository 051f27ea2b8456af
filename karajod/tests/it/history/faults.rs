//! The database failing during runs: a full disk under the SQLite file, a
//! PostgreSQL server that goes away. The run goes on and ends as it would
//! have; its log says the history could not be written; a later start
//! with the database back imports the run from its log.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::faults::disk::Tmpfs;
use crate::harness::{Daemon, Tree, client, signed_action, wait_run_end};
use crate::postgres::Postgres;

const LIMIT: Duration = Duration::from_secs(30);
const CONF: &str = "[karajo]\nsecret = s\n[job \"h\"]\ncommand = echo hi\n";
/// What a run's log says when its row could not be written.
const NOTE: &str = "!!! history database";
/// The tmpfs under `var/lib/karajo`: room for the database, then filled.
const TMPFS_BYTES: u64 = 1024 * 1024;

fn run(d: &Daemon, tree: &Tree, counter: u64) -> (String, String) {
    let (code, body) = signed_action(&client(), d, "s", "run", "h");
    assert_eq!(code, 200, "{body}");
    wait_run_end(tree, "job", "h", counter, LIMIT)
}

fn rows(d: &Daemon) -> Vec<(u64, String)> {
    let body: Value = d.get("/karajo/api/job_exec/runs?id=h").json().unwrap();
    let rows = body["data"].as_array().cloned().unwrap_or_default();
    rows.iter().map(|r| (r["counter"].as_u64().unwrap(), r["status"].as_str().unwrap().to_string())).collect()
}

/// Writes into `dir` until the file system is full.
fn fill(dir: &std::path::Path) -> std::path::PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.sync_all();
    path
}

/// Copies the WAL into the file and cuts it to 0 bytes, with the sqlite3
/// CLI beside the running daemon. `false` (a failure under CI) without the CLI.
fn truncate_wal(db: &std::path::Path) -> bool {
    let out = std::process::Command::new("sqlite3")
        .args(["-cmd", ".timeout 5000"])
        .arg(db)
        .arg("PRAGMA wal_checkpoint(TRUNCATE)")
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let wal = db.with_extension("db-wal");
            assert_eq!(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0), 0, "{}", wal.display());
            true
        }
        Ok(o) => panic!("sqlite3 {}: {}", db.display(), String::from_utf8_lossy(&o.stderr)),
        Err(e) => {
            crate::tool::missing(&format!("the full-disk case needs the sqlite3 CLI: {e}"));
            false
        }
    }
}

#[test]
fn history_full_disk_during_a_run_is_noted_in_its_log_and_the_run_succeeds() {
    let tree = Tree::new(CONF);
    let dir = tree.path("var/lib/karajo");
    std::fs::create_dir_all(&dir).unwrap();
    let Some(mount) = Tmpfs::mount(&dir, TMPFS_BYTES) else { return };
    let d = Daemon::start(&tree);
    assert_eq!(run(&d, &tree, 1).0, "success");
    // Without a WAL file on the full disk, the run's first write needs a
    // new block; with one left from run 1, a write may fit in it and the
    // next one not, which would test less.
    if !truncate_wal(&dir.join("karajo.db")) {
        return;
    }
    let filler = fill(&dir);
    let t0 = Instant::now();
    let (status, text) = run(&d, &tree, 2);
    assert_eq!(status, "success", "{text}");
    assert!(text.contains(NOTE), "the log says the row is missing:\n{text}");
    assert!(t0.elapsed() < Duration::from_secs(10), "the run waited {:?} on the database", t0.elapsed());
    drop(d);
    std::fs::remove_file(filler).unwrap();
    let d = Daemon::start(&tree);
    assert_eq!(rows(&d), [(2, "success".to_string()), (1, "success".to_string())], "the run imported from its log");
    drop(d);
    drop(mount);
}

#[test]
fn history_postgres_gone_during_a_run_is_noted_in_its_log_and_the_run_succeeds() {
    let Some(mut pg) = Postgres::start() else { return };
    let url = pg.database("gone");
    let tree = Tree::new(CONF);
    let d = Daemon::start_with(&tree, &[("KARAJOD_DATABASE", &url)]);
    assert_eq!(run(&d, &tree, 1).0, "success");
    pg.stop();
    let (status, text) = run(&d, &tree, 2);
    assert_eq!(status, "success", "{text}");
    assert!(text.contains(NOTE), "the log says the row is missing:\n{text}");
    assert!(!text.contains(&url), "no URL with credentials in the log");
    assert!(d.get("/karajo/health").status().is_success());
}
