//! The real daemon with its history: the runs API, the Job JSON fields,
//! `last_run` across a restart, counters that outlive their logs, a karajo
//! 0.9 tree imported — on SQLite and on PostgreSQL (`KARAJOD_DATABASE`).

use std::time::Duration;

use serde_json::Value;

use crate::harness::{BIN, Daemon, Tree, client, signed_action, wait_run_end};
use crate::postgres::Postgres;

const LIMIT: Duration = Duration::from_secs(20);
const SECRET: &str = "s";

/// Where the daemon keeps its history in a test: the default file, or a fresh PG database.
pub(super) enum Db {
    Sqlite,
    /// The server (kept running for the test) and its database's URL.
    Postgres {
        _server: Postgres,
        url: String,
    },
}

impl Db {
    pub(super) fn postgres(name: &str) -> Option<Db> {
        let pg = Postgres::start()?;
        let url = pg.database(name);
        Some(Db::Postgres { _server: pg, url })
    }

    pub(super) fn start(&self, tree: &Tree) -> Daemon {
        match self {
            Db::Sqlite => Daemon::start(tree),
            Db::Postgres { url, .. } => Daemon::start_with(tree, &[("KARAJOD_DATABASE", url)]),
        }
    }
}

fn get(d: &Daemon, path: &str) -> (u16, Value) {
    let r = d.get(path);
    (r.status().as_u16(), r.json().unwrap_or(Value::Null))
}

fn run_now(d: &Daemon, tree: &Tree, id: &str, counter: u64) -> String {
    let (code, body) = signed_action(&client(), d, SECRET, "run", id);
    assert_eq!(code, 200, "{body}");
    wait_run_end(tree, "job", id, counter, LIMIT).0
}

fn counters(rows: &Value) -> Vec<u64> {
    rows.as_array().unwrap().iter().map(|r| r["counter"].as_u64().unwrap()).collect()
}

fn runs_api_and_restart(db: Db) {
    let tree = Tree::new(&format!(
        "[karajo]\nsecret = {SECRET}\n[job \"h\"]\nlog_retention = 2\nhistory_retention = 3\ncommand = echo hi\n"
    ));
    let d = db.start(&tree);
    for c in 1..=4 {
        assert_eq!(run_now(&d, &tree, "h", c), "success");
    }
    let (code, body) = get(&d, "/karajo/api/job_exec/runs?id=h");
    assert_eq!(code, 200, "{body}");
    let rows = &body["data"];
    assert_eq!(counters(rows), [4, 3, 2], "newest first, history_retention 3");
    let top = &rows[0];
    for key in ["kind", "job_id", "counter", "status", "trigger", "slot", "queued_at", "started_at", "ended_at"] {
        assert!(top.get(key).is_some(), "key {key} in {top}");
    }
    for key in ["duration_ms", "attempts", "exit_code", "node", "fence", "actor", "log"] {
        assert!(top.get(key).is_some(), "key {key} in {top}");
    }
    assert_eq!((top["status"].as_str(), top["trigger"].as_str()), (Some("success"), Some("manual")));
    assert!(top["duration_ms"].is_i64() && top["started_at"].is_string() && top["slot"].is_null());
    assert_eq!(top["attempts"], 1);
    assert_eq!(rows[2]["log"], false, "log_retention 2 deleted #2's log; its row stays");
    assert_eq!(rows[0]["log"], true);
    assert_eq!(counters(&get(&d, "/karajo/api/job_exec/runs?id=h&limit=1").1["data"]), [4]);
    assert_eq!(counters(&get(&d, "/karajo/api/job_exec/runs?id=h&before=4").1["data"]), [3, 2]);
    assert_eq!(counters(&get(&d, "/karajo/api/job_exec/runs?id=h&status=failed").1["data"]), Vec::<u64>::new());
    for (q, code, name) in [
        ("job_exec/runs?id=h&limit=0", 400, "ERR_BAD_REQUEST"),
        ("job_exec/runs?id=h&limit=1001", 400, "ERR_BAD_REQUEST"),
        ("job_exec/runs?id=h&before=x", 400, "ERR_BAD_REQUEST"),
        ("job_exec/runs?id=h&status=nope", 400, "ERR_BAD_REQUEST"),
        ("job_exec/runs?id=nope", 404, "ERR_JOB_NOT_FOUND"),
        ("job_http/runs?id=nope", 400, "ERR_INVALID_JOB_ID"),
    ] {
        let (got, body) = get(&d, &format!("/karajo/api/{q}"));
        assert_eq!((got, body["name"].as_str()), (code, Some(name)), "{q}: {body}");
    }
    let job = get(&d, "/karajo/api/job_exec?id=h").1["data"].clone();
    assert_eq!(job["success_rate"], 1.0);
    assert!(job["last_duration_ms"].is_i64(), "{job}");
    assert_eq!(job["history_retention"], 3);
    let log = job["logs"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (log["counter"].as_u64(), log["trigger"].as_str(), log["attempts"].as_u64()),
        (Some(4), Some("manual"), Some(1))
    );
    assert!(log["started_at"].is_string() && log["ended_at"].is_string() && log["duration_ms"].is_i64(), "{log}");
    let last_run = job["last_run"].clone();
    assert_eq!(
        last_run.as_str().map(|s| &s[..19]),
        top["started_at"].as_str().map(|s| &s[..19]),
        "last_run = start of the last run"
    );
    drop(d);

    // Every log deleted: the counter still goes on, last_run stays the start time.
    std::fs::remove_dir_all(tree.path("var/log/karajo/job/h")).unwrap();
    let d = db.start(&tree);
    let job = get(&d, "/karajo/api/job_exec?id=h").1["data"].clone();
    assert_eq!(job["last_run"], last_run, "last_run is the same after a restart");
    assert_eq!(run_now(&d, &tree, "h", 5), "success", "counters are never reused");
    let rows = get(&d, "/karajo/api/job_exec/runs?id=h").1["data"].clone();
    assert_eq!(counters(&rows), [5, 4, 3]);
    assert_eq!((rows[1]["log"].as_bool(), rows[2]["log"].as_bool()), (Some(false), Some(false)));
}

#[test]
fn history_runs_api_and_restart_on_sqlite() {
    runs_api_and_restart(Db::Sqlite);
}

#[test]
fn history_runs_api_and_restart_on_postgres() {
    if let Some(db) = Db::postgres("runs") {
        runs_api_and_restart(db);
    }
}

/// A karajo 0.9 tree: logs named `ID.N.STATUS`, lines stamped, no rows.
fn imports_old_logs(db: Db) {
    let tree = Tree::new(&format!("[karajo]\nsecret = {SECRET}\n[job \"old\"]\ncommand = echo new\n"));
    let log = |n: u32, status: &str, start: &str, end: &str| {
        let text = format!(
            "{start} UTC job: old: === BEGIN\n{start} UTC job: old: --- Execute  0: echo hi\n{end} UTC job: old: === DONE\n"
        );
        tree.write(&format!("var/log/karajo/job/old/old.{n}.{status}"), &text);
    };
    log(1, "success", "2024-03-01 10:00:00", "2024-03-01 10:00:05");
    log(2, "failed", "2024-03-02 11:00:00", "2024-03-02 11:01:00");
    let d = db.start(&tree);
    let rows = get(&d, "/karajo/api/job_exec/runs?id=old").1["data"].clone();
    assert_eq!(counters(&rows), [2, 1]);
    assert_eq!(rows[0]["status"], "failed");
    assert_eq!(rows[0]["started_at"], "2024-03-02T11:00:00Z");
    assert_eq!(rows[0]["ended_at"], "2024-03-02T11:01:00Z");
    assert_eq!(rows[0]["duration_ms"], 60_000);
    assert!(rows[0]["queued_at"].is_null() && rows[0]["trigger"].is_null());
    let job = get(&d, "/karajo/api/job_exec?id=old").1["data"].clone();
    assert_eq!(job["last_run"], "2024-03-02T11:00:00Z", "last_run is the start of the last run");
    assert_eq!(job["success_rate"], 0.5);
    assert_eq!(run_now(&d, &tree, "old", 3), "success");
    drop(d);
    // A second start imports nothing twice.
    let d = db.start(&tree);
    assert_eq!(counters(&get(&d, "/karajo/api/job_exec/runs?id=old").1["data"]), [3, 2, 1]);
}

#[test]
fn history_imports_karajo_09_logs_on_first_start_on_sqlite() {
    imports_old_logs(Db::Sqlite);
}

#[test]
fn history_imports_karajo_09_logs_on_first_start_on_postgres() {
    if let Some(db) = Db::postgres("import") {
        imports_old_logs(db);
    }
}

/// Runs karajod on the tree until it exits; its status and stderr.
fn start_fails(tree: &Tree, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = std::process::Command::new(BIN);
    cmd.arg("--config").arg(tree.config()).current_dir(tree.base());
    cmd.envs(env.iter().copied());
    let out = cmd.output().expect("run karajod");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn history_unreachable_postgres_stops_the_start() {
    let tree = Tree::new("[karajo]\nsecret = s\n");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("postgres://karajo:pw@127.0.0.1:{port}/karajo");
    let (code, err) = start_fails(&tree, &[("KARAJOD_DATABASE", &url)]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains(&format!("postgres://***@127.0.0.1:{port}/karajo")), "names the database: {err}");
    assert!(!err.contains("pw@"), "the password is hidden: {err}");
}

#[test]
fn history_corrupt_database_file_stops_the_start_naming_it() {
    let tree = Tree::new("[karajo]\nsecret = s\n");
    tree.write("var/lib/karajo/karajo.db", &"not a database ".repeat(512));
    let (code, err) = start_fails(&tree, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("var/lib/karajo/karajo.db"), "{err}");
}

#[test]
fn history_database_locked_by_another_karajod_stops_the_start() {
    let tree = Tree::new("[karajo]\nsecret = s\n");
    let _first = Daemon::start(&tree);
    // Its own listen port and socket, the same dir_base and database.
    let other = tree.path("etc/karajo/other.conf");
    let text = std::fs::read_to_string(tree.config()).unwrap();
    let sock = tree.path("other.sock");
    std::fs::write(&other, text.replace("[karajo]\n", &format!("[karajo]\ncontrol_socket = {}\n", sock.display())))
        .unwrap();
    let out = std::process::Command::new(BIN).arg("--config").arg(&other).current_dir(tree.base()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("karajo.db"), "{err}");
}

/// A restart opens and reads the database while the config loads: an
/// invalid config is still reported as itself (exit 78), never as the
/// database another karajod holds, and the database is left as it was.
#[test]
fn history_a_restart_with_an_invalid_config_names_the_config_not_the_database() {
    let tree = Tree::new("[karajo]\nsecret = s\n[job \"a\"]\ncommand = true\n");
    let first = Daemon::start(&tree);
    run_now(&first, &tree, "a", 1);
    let other = tree.path("etc/karajo/other.conf");
    let text = std::fs::read_to_string(tree.config()).unwrap();
    let sock = tree.path("other.sock");
    let broken = text.replace("[karajo]\n", &format!("[karajo]\ncontrol_socket = {}\n", sock.display()));
    std::fs::write(&other, broken.replace("command = true", "command = true\nschedule = hourly@61")).unwrap();
    let refused = |what: &str| {
        let out = std::process::Command::new(BIN).arg("--config").arg(&other).current_dir(tree.base()).output();
        let out = out.unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(78), "{what}: {err}");
        assert!(err.contains("hourly@61") && !err.contains("karajo.db"), "{what}: {err}");
    };
    refused("while the first karajod holds the database");
    drop(first);
    refused("with the database free");
    // The refused starts changed nothing: the restart has the run.
    let d = Daemon::start(&tree);
    let (status, body) = get(&d, "/karajo/api/job_exec/runs?id=a");
    assert_eq!(status, 200, "{body}");
    assert_eq!(counters(&body["data"]), [1], "{body}");
}

/// `next_run` of an interval job comes from the last run's start, the same
/// in the daemon before and after a restart and in `karajod check`.
fn next_run_from_history(db: Db) {
    let tree = Tree::new(&format!("[karajo]\nsecret = {SECRET}\n[job \"i\"]\ninterval = 1h\ncommand = echo tick\n"));
    let d = db.start(&tree);
    // Never run: an interval job runs at once, as the first run of the timer.
    assert_eq!(wait_run_end(&tree, "job", "i", 1, LIMIT).0, "success");
    let started = get(&d, "/karajo/api/job_exec/runs?id=i").1["data"][0]["started_at"].as_str().unwrap().to_string();
    drop(d);
    let d = db.start(&tree);
    let start = chrono::DateTime::parse_from_rfc3339(&started).unwrap().with_timezone(&chrono::Utc);
    let want = start + chrono::TimeDelta::hours(1);
    let next = |j: &Value| chrono::DateTime::parse_from_rfc3339(j["next_run"].as_str().unwrap()).unwrap();
    let mut job = Value::Null;
    crate::harness::wait_for(LIMIT, "the timer's next_run", || {
        job = get(&d, "/karajo/api/job_exec?id=i").1["data"].clone();
        !job["next_run"].as_str().unwrap_or("0001").starts_with("0001")
    });
    assert_eq!(next(&job), want, "next_run = last run's start + interval after a restart");
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["--config"]).arg(tree.config()).arg("check").current_dir(tree.base());
    if let Db::Postgres { url, .. } = &db {
        cmd.env("KARAJOD_DATABASE", url);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().find(|l| l.trim_start().starts_with("i ")).unwrap_or_default().to_string();
    let shown = want.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    assert!(line.ends_with(&format!("next run {shown}")), "karajod check beside the daemon: {line:?}\n{stdout}");
}

#[test]
fn history_next_run_of_an_interval_job_is_the_same_in_daemon_restart_and_check_on_sqlite() {
    next_run_from_history(Db::Sqlite);
}

#[test]
fn history_next_run_of_an_interval_job_is_the_same_in_daemon_restart_and_check_on_postgres() {
    if let Some(db) = Db::postgres("nextrun") {
        next_run_from_history(db);
    }
}
