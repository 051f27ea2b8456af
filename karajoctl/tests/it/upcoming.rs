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
    let nightly = runs.iter().filter(|r| r["id"] == "nightly").count();
    assert!((1..=2).contains(&nightly), "a daily job, twice in 48 h (once across a 25-hour day): {json}");
    assert!(runs.iter().all(|r| r["id"] != "manual" && r["kind"] == "job"), "{json}");
    let table = d.tcp(&["upcoming", "--hours", "2"]).expect(0).stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("AT (UTC)") && lines[0].contains("KIND") && lines[0].contains("ID"), "{table}");
    let quarters = lines.iter().filter(|l| l.contains(" quarter")).count();
    assert!((7..=8).contains(&quarters), "two hours of quarter hours:\n{table}");
    let short = d.sock(&["upcoming", "--hours", "1", "--json"]).expect(0).json();
    let quarters = short.as_array().unwrap().iter().filter(|r| r["id"] == "quarter").count();
    assert!((3..=4).contains(&quarters), "one hour of quarter hours: {short}");
    let bad = d.sock(&["upcoming", "--hours", "0"]).expect(2);
    assert!(bad.stderr.contains("--hours"), "{}", bad.stderr);
}

#[test]
fn job_show_gives_the_zone_and_jitter_of_a_schedule() {
    let d = Daemon::start(JOBS);
    let show = d.sock(&["job", "show", "nightly"]).expect(0).stdout;
    let line = |key: &str| show.lines().find(|l| l.starts_with(key)).unwrap_or_default().to_string();
    assert!(line("timezone").ends_with("Europe/Berlin"), "{show}");
    assert!(line("jitter").ends_with("up to 20 s after each slot"), "{show}");
    assert!(line("runs").contains("at 02:30 (Europe/Berlin)"), "{show}");
    let quarter = d.sock(&["job", "show", "quarter"]).expect(0).stdout;
    assert!(quarter.lines().any(|l| l.starts_with("timezone") && l.ends_with("UTC")), "{quarter}");
    assert!(!quarter.lines().any(|l| l.starts_with("jitter")), "{quarter}");
}

#[test]
fn job_show_gives_overlap_retries_and_catch_up_only_when_set() {
    let d = Daemon::start(
        "[job \"backup\"]\nschedule = 30 2 * * *\noverlap = skip\nretry = 3\nretry_delay = 30s\n\
         retry_backoff = 2\nretry_on = 1,75\ncatch_up = all\ncatch_up_window = 6h\ncommand = true\n\n\
         [job \"plain\"]\nschedule = 30 2 * * *\ncommand = true\n",
    );
    let show = d.sock(&["job", "show", "backup"]).expect(0).stdout;
    let line = |key: &str| show.lines().find(|l| l.starts_with(key)).unwrap_or_default().to_string();
    assert!(line("while running").ends_with("skip"), "{show}");
    assert!(line("retry").ends_with("3 times, waiting 30 s x2 up to 10 min, on 1,75"), "{show}");
    assert!(line("catch up").ends_with("all within 6 h"), "{show}");
    let plain = d.sock(&["job", "show", "plain"]).expect(0).stdout;
    for key in ["while running", "retry", "catch up"] {
        assert!(!plain.lines().any(|l| l.starts_with(key)), "{key} is not shown at its default: {plain}");
    }
}
