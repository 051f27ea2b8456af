//! Audit rows in the run database and who asked for each run (SPEC 21 on
//! SPEC 15), on SQLite and on PostgreSQL: every transport's action is a
//! row of the `audit` table with its actor form, `GET /audit` pages the
//! rows, each run row names its actor (also when it was queued), and an
//! audit log file that cannot take a line blocks nothing.

use std::time::Duration;

use serde_json::Value;

use super::daemon::Db;
use crate::access::{CONF, as_user, bearer, bearer_get, bound, login, new_token, on_socket, user_conf};
use crate::harness::{Daemon, Tree, client, wait_for, wait_run_end};

const LIMIT: Duration = Duration::from_secs(20);
const RUN: &str = "/karajo/api/job_exec/run";

fn tree() -> Tree {
    let conf = CONF.replace("secret = s3cret\n", "secret = s3cret\nmetrics_token = mtok\n");
    let tree =
        Tree::new(&format!("{conf}[job \"hook\"]\npath = /hook\ncommand = true\n[job \"slow\"]\ncommand = sleep 1\n"));
    tree.write("etc/karajo/user.conf", &user_conf(&[("ana", "operator")], ""));
    tree
}

/// `GET /audit` as an admin token, until `want` holds or the deadline.
fn audit_page(d: &Daemon, admin: &str, query: &str, want: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let get = || -> Vec<Value> {
        let r = bearer_get(d, admin, &format!("/karajo/api/audit{query}"));
        assert_eq!(r.status(), 200);
        r.json::<Value>().unwrap()["data"].as_array().cloned().unwrap_or_default()
    };
    let mut page = Vec::new();
    wait_for(LIMIT, &format!("audit rows for {query}"), || {
        page = get();
        want(&page)
    });
    page
}

/// The daemon's Prometheus text (this tree's `metrics_token`).
fn metrics(d: &Daemon) -> String {
    client()
        .get(format!("{}/karajo/metrics", d.url))
        .header("authorization", "Bearer mtok")
        .send()
        .unwrap()
        .text()
        .unwrap()
}

fn has(rows: &[Value], actor: &str, action: &str) -> bool {
    rows.iter().any(|e| e["actor"].as_str().is_some_and(|a| a.starts_with(actor)) && e["action"] == action)
}

fn hook(d: &Daemon, delivery: &str) -> u16 {
    client()
        .post(format!("{}/karajo/api/job_exec/run/hook", d.url))
        .header("X-Karajo-Sign", proto::sign::hmac_sha256_hex(b"s3cret", b"{}"))
        .header("X-Karajo-Delivery", delivery)
        .body("{}")
        .send()
        .unwrap()
        .status()
        .as_u16()
}

/// The `actor` of each run of `id`, oldest first, read with `token`.
fn actors(d: &Daemon, token: &str, id: &str) -> Vec<Value> {
    let body: Value = bearer_get(d, token, &format!("/karajo/api/job_exec/runs?id={id}")).json().unwrap();
    let mut rows = body["data"].as_array().unwrap().clone();
    rows.reverse();
    rows.iter().map(|r| r["actor"].clone()).collect()
}

fn rows_and_actors_per_transport(db: Db) {
    let tree = tree();
    let admin = new_token(&tree, &["root-t", "--role", "admin"]);
    let op = new_token(&tree, &["ci", "--role", "operator"]);
    let d = db.start(&tree);
    let ana = login(&d, "ana");
    let uid = nix::unistd::getuid().as_raw();
    let socket = format!("socket:uid={uid}(");
    // One run of `backup` per transport, each ended before the next.
    let steps: [(&str, &dyn Fn() -> u16); 4] = [
        ("user:ana", &|| as_user(&d, &ana, "POST", RUN, "id=backup").0),
        ("token:ci", &|| bearer(&d, &op, "POST", RUN, "id=backup").0),
        ("signature", &|| bound(&d, "POST", RUN, "id=backup", chrono::Utc::now().timestamp()).0),
        (&socket, &|| if on_socket(&tree, "POST", RUN, "id=backup").starts_with("HTTP/1.1 200") { 200 } else { 0 }),
    ];
    for (n, (actor, call)) in steps.iter().enumerate() {
        assert_eq!(call(), 200, "run as {actor}");
        assert_eq!(wait_run_end(&tree, "job", "backup", n as u64 + 1, LIMIT).0, "success");
    }
    assert_eq!(hook(&d, "d-7"), 200);
    wait_run_end(&tree, "job", "hook", 1, LIMIT);
    let got = actors(&d, &op, "backup");
    assert_eq!(got[..3], [Value::from("user:ana"), Value::from("token:ci"), Value::from("signature")]);
    let by_socket = got[3].as_str().unwrap();
    assert!(by_socket.starts_with(&socket) && by_socket.contains(" pid="), "{by_socket}");
    assert_eq!(actors(&d, &op, "hook"), [Value::from("webhook:hmac-sha256 delivery=d-7")]);

    // The file is emptied: what GET /audit answers now comes from the table.
    std::fs::write(tree.path("var/log/karajo/audit.log"), "").unwrap();
    let rows = audit_page(&d, &admin, "?limit=1000", |rows| {
        ["user:ana", "token:ci", "signature", &socket].iter().all(|a| has(rows, a, "job_exec/run"))
            && has(rows, "webhook:hmac-sha256 delivery=d-7", "webhook")
            && has(rows, "user:ana", "login")
    });
    let row = rows.iter().find(|e| e["actor"] == "token:ci").unwrap();
    assert_eq!(
        (row["via"].as_str(), row["target"].as_str(), row["result"].as_str()),
        (Some("tcp"), Some("backup"), Some("ok"))
    );
    let seqs: Vec<u64> = rows.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "newest first: {seqs:?}");
    let two = audit_page(&d, &admin, "?limit=2", |r| r.len() == 2);
    assert_eq!(two[0]["seq"], seqs[0]);
    let older = audit_page(&d, &admin, &format!("?before={}&limit=3", seqs[1]), |r| !r.is_empty());
    let older_seqs: Vec<u64> = older.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(older_seqs, seqs[2..5], "before is exclusive, limit caps");
}

#[test]
fn audit_rows_and_run_actors_per_transport_on_sqlite() {
    rows_and_actors_per_transport(Db::Sqlite);
}

#[test]
fn audit_rows_and_run_actors_per_transport_on_postgres() {
    if let Some(db) = Db::postgres("audit_rows") {
        rows_and_actors_per_transport(db);
    }
}

/// A trigger queued behind a running run keeps its own actor.
fn queued_trigger_keeps_its_actor(db: Db) {
    let tree = tree();
    let op = new_token(&tree, &["ci", "--role", "operator"]);
    let d = db.start(&tree);
    assert!(on_socket(&tree, "POST", RUN, "id=slow").starts_with("HTTP/1.1 200"));
    assert_eq!(bearer(&d, &op, "POST", RUN, "id=slow").0, 200, "queued behind #1");
    assert_eq!(wait_run_end(&tree, "job", "slow", 2, LIMIT).0, "success");
    let got = actors(&d, &op, "slow");
    assert!(got[0].as_str().is_some_and(|a| a.starts_with("socket:uid=")), "{got:?}");
    assert_eq!(got[1], "token:ci");
}

#[test]
fn a_queued_trigger_keeps_its_actor_on_sqlite() {
    queued_trigger_keeps_its_actor(Db::Sqlite);
}

#[test]
fn a_queued_trigger_keeps_its_actor_on_postgres() {
    if let Some(db) = Db::postgres("audit_queued") {
        queued_trigger_keeps_its_actor(db);
    }
}

/// A full disk under the audit log (`/dev/full`): the request still
/// succeeds, the loss is counted by sink, and the row still reaches the
/// database.
#[test]
fn a_full_audit_log_blocks_nothing_and_the_row_is_still_written() {
    let tree = tree();
    let admin = new_token(&tree, &["root-t", "--role", "admin"]);
    std::fs::create_dir_all(tree.path("var/log/karajo")).unwrap();
    std::os::unix::fs::symlink("/dev/full", tree.path("var/log/karajo/audit.log")).unwrap();
    let d = Daemon::start(&tree);
    let (status, _) = crate::harness::signed_action(&client(), &d, "s3cret", "pause", "backup");
    assert_eq!(status, 200);
    audit_page(&d, &admin, "", |rows| has(rows, "signature", "job_exec/pause"));
    let text = metrics(&d);
    let lost = text.lines().find_map(|l| l.strip_prefix("karajo_audit_write_errors_total{sink=\"file\"} "));
    assert!(lost.is_some_and(|n| n.parse::<u64>().unwrap() >= 1), "{text}");
    assert!(!text.contains("karajo_audit_write_errors_total{sink=\"database\"} 1"), "{text}");
}

/// A flood of audited requests (signed webhooks of a paused job, 412 each)
/// from 8 clients at once: every entry reaches both the file and the
/// table, none counted lost. (The debug daemon here is too slow to fill
/// the old per-row writer's queue; the release build lost 69-80 % of the
/// rows at 27,000 requests/s: BENCHMARKS.md, "Audit rows in batches".)
#[test]
fn a_flood_of_refused_webhooks_is_in_the_table_row_for_row() {
    const CLIENTS: usize = 8;
    const EACH: usize = 500;
    let tree = tree();
    let admin = new_token(&tree, &["root-t", "--role", "admin"]);
    let d = Daemon::start(&tree);
    let (status, _) = crate::harness::signed_action(&client(), &d, "s3cret", "pause", "hook");
    assert_eq!(status, 200);
    std::thread::scope(|s| {
        for c in 0..CLIENTS {
            let d = &d;
            s.spawn(move || {
                let http = client();
                let sign = proto::sign::hmac_sha256_hex(b"s3cret", b"{}");
                for n in 0..EACH {
                    let r = http
                        .post(format!("{}{RUN}/hook", d.url))
                        .header("X-Karajo-Sign", &sign)
                        .header("X-Karajo-Delivery", format!("flood-{c}-{n}"))
                        .body("{}")
                        .send()
                        .unwrap();
                    assert_eq!(r.status(), 412);
                }
            });
        }
    });
    let lines = std::fs::read_to_string(tree.path("var/log/karajo/audit.log")).unwrap().lines().count();
    assert!(lines > CLIENTS * EACH, "{lines} lines in the audit log");
    // The table's ids count from 1: the newest row's seq is the number of rows.
    audit_page(&d, &admin, "?limit=1", |rows| rows.first().is_some_and(|r| r["seq"].as_u64() >= Some(lines as u64)));
    let text = metrics(&d);
    assert!(text.contains("karajo_audit_write_errors_total{sink=\"database\"} 0"), "{text}");
}
