//! Golden tests of the human views: a fixed environment
//! (`testdata/golden/environment.json`) rendered at a fixed now, compared
//! byte for byte with `testdata/golden/*.txt`. Run with `UPDATE_GOLDEN=1`
//! to rewrite the files after an intended change, then review the diff.

use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use proto::Environment;

use super::Style;
use super::{table, view};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/golden")
}

fn fixture() -> Environment {
    let text = std::fs::read_to_string(dir().join("environment.json")).expect("golden fixture");
    serde_json::from_str(&text).expect("the fixture has the API's shape")
}

fn style(color: bool) -> Style {
    Style { color, now: Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap() }
}

/// Compares `got` with the golden file `name`, or rewrites it.
pub fn check(name: &str, got: &str) {
    let path = dir().join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, got).expect("writing a golden file");
        return;
    }
    let want =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 makes it)", path.display()));
    assert!(got == want, "{name} differs from its golden file\n--- want\n{want}\n--- got\n{got}");
}

#[test]
fn list_table_wide() {
    check("list.txt", &table::list(&fixture(), &style(false), None));
}

#[test]
fn list_table_fits_80_and_200_columns() {
    for (width, name) in [(80, "list-80.txt"), (200, "list-200.txt")] {
        let text = table::list(&fixture(), &style(false), Some(width));
        check(name, &text);
        for line in text.lines() {
            assert!(line.chars().count() <= width, "{name}: {line:?} is wider than {width}");
        }
    }
}

#[test]
fn a_very_narrow_terminal_drops_last_run_and_shortens() {
    let text = table::list(&fixture(), &style(false), Some(60));
    let header = text.lines().next().unwrap();
    assert!(!header.contains("LAST RUN") && header.contains("NEXT RUN"), "{text}");
    assert!(text.contains('…'), "{text}");
}

#[test]
fn never_run_jobs_say_so() {
    let text = table::list(&fixture(), &style(false), None);
    let manual = text.lines().find(|l| l.contains(" manual ")).unwrap();
    assert!(manual.contains("never run"), "{manual}");
}

#[test]
fn status_view() {
    let s = proto::Status {
        name: "Karajo example".into(),
        version: "0.1.0".into(),
        started_at: Utc.with_ymd_and_hms(2026, 11, 1, 9, 55, 0).unwrap(),
        uptime_seconds: 2 * 3600 + 5 * 60,
        config_file: "/etc/karajo/karajo.conf".into(),
        jobs: [("success", 3), ("failed", 1), ("started", 2)].map(|(k, v)| (k.to_string(), v)).into(),
        http_jobs: [("paused", 1)].map(|(k, v)| (k.to_string(), v)).into(),
        runs: proto::status::Runs { active: 1, waiting: 0, queued: 2 },
        cluster: "none".into(),
    };
    check("status.txt", &view::status(&s));
}

#[test]
fn list_table_in_colour_keeps_its_columns() {
    let plain = table::list(&fixture(), &style(false), None);
    let colour = table::list(&fixture(), &style(true), None);
    assert!(colour.contains("\x1b[32msuccess\x1b[0m"));
    let stripped = colour.replace("\x1b[0m", "").replace("\x1b[32m", "").replace("\x1b[31m", "");
    let stripped = ["36", "33", "35", "2"].iter().fold(stripped, |s, c| s.replace(&format!("\x1b[{c}m"), ""));
    assert_eq!(stripped, plain);
}

#[test]
fn job_show() {
    let env = fixture();
    check("job-show.txt", &view::job(&env.jobs["Test job success"], &style(false)));
    check("job-show-webhook.txt", &view::job(&env.jobs["hello-world"], &style(false)));
}

#[test]
fn http_show() {
    let env = fixture();
    check("http-show.txt", &view::job_http(&env.http_jobs["Trigger hello-world"], &style(false)));
    check("http-show-probe.txt", &view::job_http(&env.http_jobs["Health probe"], &style(false)));
}

#[test]
fn env_view() {
    check("env.txt", &view::env(&fixture()));
}

#[test]
fn empty_list() {
    let mut env = fixture();
    env.jobs.clear();
    env.http_jobs.clear();
    assert_eq!(table::list(&env, &style(false), Some(80)), "no jobs\n");
}

#[test]
fn upcoming_table() {
    let at = |h: u32, m: u32, s: u32| Utc.with_ymd_and_hms(2026, 11, 1, h, m, s).unwrap();
    let run = |kind, id: &str, slot, start| proto::Upcoming {
        kind,
        id: proto::JobId::from_name(id),
        name: id.into(),
        at: start,
        slot,
    };
    let runs = [
        run(proto::JobKind::Job, "every_five_minutes", at(12, 5, 0), at(12, 5, 0)),
        run(proto::JobKind::JobHttp, "health_probe", at(12, 30, 0), at(12, 30, 0)),
        run(proto::JobKind::Job, "nightly_report", at(13, 30, 0), at(13, 30, 17)),
    ];
    check("upcoming.txt", &super::upcoming::table(&runs, &style(false)));
    assert_eq!(super::upcoming::table(&[], &style(false)), "no timer runs in that time\n");
}
