//! `karajoctl upcoming` against the real karajod, over the socket and TCP:
//! the table, `--json` as the API answers it, `--hours`, and a bad value.

use crate::karajod::Daemon;

const JOBS: &str = "[job \"quarter\"]\nschedule = */15 * * * *\ncommand = true\n\n\
[job \"nightly\"]\nschedule = 30 2 * * *\ntimezone = Europe/Berlin\njitter = 20s\ncommand = true\n\n\
[job \"manual\"]\ncommand = true\n";

#[test]
fn upcoming_lists_timer_runs_as_a_table_and_as_json() {
    let d = Daemon::start(JOBS);
    let json = d.sock(&["upcoming", "--hours", "48", "--json"]).expect(0).json();
    let runs = json.as_array().unwrap();
    assert_eq!(runs.iter().filter(|r| r["id"] == "quarter").count(), 48 * 4, "{json}");
    assert_eq!(runs.iter().filter(|r| r["id"] == "nightly").count(), 2, "{json}");
    assert!(runs.iter().all(|r| r["id"] != "manual" && r["kind"] == "job"), "{json}");
    let table = d.tcp(&["upcoming", "--hours", "2"]).expect(0).stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("AT (UTC)") && lines[0].contains("KIND") && lines[0].contains("ID"), "{table}");
    let quarters = lines.iter().filter(|l| l.contains(" quarter")).count();
    assert!((7..=8).contains(&quarters), "two hours of quarter hours:\n{table}");
    let short = d.sock(&["upcoming", "--hours", "1", "--json"]).expect(0).json();
    // The nightly run may fall in this hour too, depending on the time the test runs.
    let short_quarters = short.as_array().unwrap().iter().filter(|r| r["id"] == "quarter").count();
    assert!((1..=4).contains(&short_quarters), "{short}");
    let bad = d.sock(&["upcoming", "--hours", "0"]).expect(2);
    assert!(bad.stderr.contains("--hours"), "{}", bad.stderr);
}
