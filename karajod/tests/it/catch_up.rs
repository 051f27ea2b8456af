//! Timer slots and catch-up (SPEC 17) on the real daemon and its SQLite
//! file: `KARAJO_JOB_SLOT` on every timer run, the slot in the history row,
//! and after a stop and a restart, the missed seconds run one by one in
//! order with trigger `catch_up`, none twice and none left out.

use std::time::Duration;

use crate::harness::{Daemon, Tree, wait_for};

const LIMIT: Duration = Duration::from_secs(30);

fn rows(d: &Daemon) -> Vec<serde_json::Value> {
    let v: serde_json::Value = d.get("/karajo/api/job_exec/runs?id=sec&limit=1000").json().unwrap();
    let mut rows = v["data"].as_array().cloned().unwrap_or_default();
    rows.reverse();
    rows
}

fn ended(rows: &[serde_json::Value]) -> Vec<serde_json::Value> {
    rows.iter().filter(|r| r["status"] != "running").cloned().collect()
}

fn slot_secs(r: &serde_json::Value) -> i64 {
    let s = r["slot"].as_str().unwrap_or_else(|| panic!("a slot in {r}"));
    chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp()
}

#[test]
fn every_missed_second_runs_once_in_order_after_a_restart() {
    let tree = Tree::new(
        "[karajo]\nsecret = s\n[job \"sec\"]\nschedule = \"* * * * * *\"\ncatch_up = all\nlog_retention = 1000\n\
         command = \"echo slot=$KARAJO_JOB_SLOT trigger=$KARAJO_JOB_TRIGGER\"\n",
    );
    let mut d = Daemon::start(&tree);
    wait_for(LIMIT, "two timer runs", || ended(&rows(&d)).len() >= 2);
    let first = ended(&rows(&d));
    let row = &first[0];
    assert_eq!(row["trigger"], "timer", "{row}");
    let path = crate::harness::find_log(&tree, "job", "sec", row["counter"].as_u64().unwrap()).unwrap().0;
    let log = std::fs::read_to_string(path).unwrap();
    let slot = row["slot"].as_str().unwrap();
    assert!(slot.ends_with('Z') && slot.len() == 20, "RFC 3339 UTC, whole seconds: {slot}");
    assert!(log.contains(&format!("slot={slot} trigger=timer")), "KARAJO_JOB_SLOT is the row's slot: {log}");
    d.signal_and_wait(nix::sys::signal::Signal::SIGTERM);
    let last = slots_in_logs(&tree).into_iter().max().unwrap();
    std::thread::sleep(Duration::from_secs(3)); // karajod is down: these seconds are missed
    let d = Daemon::start(&tree);
    wait_for(LIMIT, "catch-up runs", || ended(&rows(&d)).iter().any(|r| r["trigger"] == "catch_up"));
    wait_for(LIMIT, "a timer run after the catch-up", || {
        ended(&rows(&d)).iter().filter(|r| r["trigger"] == "timer").any(|r| slot_secs(r) > last + 3)
    });
    let all = ended(&rows(&d));
    let caught: Vec<i64> = all.iter().filter(|r| r["trigger"] == "catch_up").map(slot_secs).collect();
    assert!(caught.len() >= 3, "at least the 3 s it was down: {caught:?}");
    // A tick dropped while a run went on (a loaded machine) was handled
    // too, so the first caught-up slot may come a little after the last log.
    let want: Vec<i64> = (caught[0]..caught[0] + caught.len() as i64).collect();
    assert_eq!(caught, want, "each missed second once, oldest first: {caught:?}");
    assert!(caught[0] > last && caught[0] <= last + 3, "it starts after the last slot run ({last}): {caught:?}");
    let mut slots: Vec<i64> = all.iter().map(slot_secs).collect();
    let n = slots.len();
    slots.dedup();
    assert_eq!(slots.len(), n, "no slot ran twice");
    assert!(all.iter().all(|r| r["status"] == "success"), "{all:?}");
}

/// The slots (Unix seconds) the run logs on disk name.
fn slots_in_logs(tree: &Tree) -> Vec<i64> {
    let dir = crate::harness::log_dir(tree, "job", "sec");
    let mut slots = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        // The first "slot=" is the command line's `$KARAJO_JOB_SLOT`.
        let printed = text.split("slot=").skip(1).filter_map(|t| t.split_whitespace().next());
        slots.extend(printed.filter_map(|v| chrono::DateTime::parse_from_rfc3339(v).ok()).map(|t| t.timestamp()));
    }
    slots
}

/// `catch_up = latest` after a restart: the newest missed second runs, the
/// older ones become `missed` rows, and each of those fires
/// `notif_on_missed` at a real receiver with its slot as `started_at`.
#[test]
fn slots_left_out_by_latest_are_missed_rows_and_notified() {
    let r = crate::alerts::receiver::Receiver::start();
    let tree = Tree::new(&format!(
        "[karajo]\nsecret = s\n[notif \"ops\"]\nkind = webhook\nurl = {}\n\n[job \"sec\"]\nschedule = \"* * * * * *\"\n\
         catch_up = latest\nnotif_on_missed = ops\nlog_retention = 100\ncommand = true\n",
        r.url
    ));
    let mut d = Daemon::start(&tree);
    wait_for(LIMIT, "a timer run", || !ended(&rows(&d)).is_empty());
    d.signal_and_wait(nix::sys::signal::Signal::SIGTERM);
    std::thread::sleep(Duration::from_secs(4)); // down: these seconds are missed
    let d = Daemon::start(&tree);
    wait_for(LIMIT, "the catch-up run", || ended(&rows(&d)).iter().any(|r| r["trigger"] == "catch_up"));
    let all = rows(&d);
    let missed: Vec<&serde_json::Value> = all.iter().filter(|r| r["status"] == "missed").collect();
    let caught: Vec<i64> = all.iter().filter(|r| r["trigger"] == "catch_up").map(slot_secs).collect();
    assert_eq!(caught.len(), 1, "latest runs one slot: {all:?}");
    assert!(missed.len() >= 2, "the older missed seconds have rows: {all:?}");
    assert!(missed.iter().all(|m| slot_secs(m) < caught[0]), "the run is the newest slot: {all:?}");
    wait_for(LIMIT, "a notification per missed row", || r.requests().len() >= missed.len());
    std::thread::sleep(Duration::from_millis(300));
    let got = r.requests();
    let mut told: Vec<String> = got
        .iter()
        .map(|g| g.json())
        .inspect(|v| assert_eq!((v["event"].as_str(), v["job_id"].as_str()), (Some("missed"), Some("sec")), "{v}"))
        .map(|v| v["started_at"].as_str().unwrap().to_string())
        .collect();
    told.sort();
    let mut want: Vec<String> = missed.iter().map(|m| m["slot"].as_str().unwrap().to_string()).collect();
    want.sort();
    assert_eq!(told, want, "one notification per missed slot, naming it");
}
