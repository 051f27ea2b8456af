//! `karajoctl runs` against the real karajod: the history table, `-n`,
//! `--status`, `--json` as the API answers, over the socket and TCP.

use crate::karajod::Daemon;

const JOBS: &str = "[job \"h\"]\ncommand = echo hi\n[job \"bad\"]\ncommand = false\n";

#[test]
fn runs_lists_the_history_newest_first() {
    let d = Daemon::start(JOBS);
    d.sock(&["job", "run", "h", "--wait"]).expect(0);
    d.sock(&["job", "run", "h", "--wait"]).expect(0);
    d.sock(&["job", "run", "bad", "--wait"]).expect(1);
    let table = d.sock(&["runs", "h"]).expect(0).stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    let words = |l: &str| l.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(words(lines[0]), ["#", "STARTED", "(UTC)", "STATUS", "TRIGGER", "ACTOR", "DURATION", "ATTEMPTS", "LOG"]);
    assert_eq!(words(lines[1])[0], "2");
    assert!(lines[1].contains(" success ") && lines[1].contains(" manual ") && lines[1].ends_with("kept"), "{table}");
    assert!(lines[1].contains(" socket:uid="), "the run was asked over the socket: {table}");
    let json = d.tcp(&["runs", "h", "--json"]).expect(0).json();
    let counters: Vec<u64> = json.as_array().unwrap().iter().map(|r| r["counter"].as_u64().unwrap()).collect();
    assert_eq!(counters, [2, 1]);
    assert_eq!(d.tcp(&["runs", "h", "-n", "1", "--json"]).expect(0).json().as_array().unwrap().len(), 1);
    assert_eq!(d.sock(&["runs", "h", "--status", "failed"]).expect(0).stdout, "no runs\n");
    let bad = d.sock(&["runs", "bad", "--status", "failed", "--json"]).expect(0).json();
    assert_eq!(bad[0]["status"], "failed");
    let unknown = d.sock(&["runs", "nope"]);
    assert_ne!(unknown.code, 0, "{}", unknown.stderr);
    let wrong = d.sock(&["runs", "h", "--status", "bogus"]);
    assert_ne!(wrong.code, 0);
    assert!(wrong.stderr.contains("status"), "{}", wrong.stderr);
}
