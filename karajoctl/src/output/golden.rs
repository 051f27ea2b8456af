//! Golden tests of the human views: a fixed environment
//! (`testdata/golden/environment.json`) rendered at a fixed now, compared
//! byte for byte with `testdata/golden/*.txt`. Run with `UPDATE_GOLDEN=1`
//! to rewrite the files after an intended change, then review the diff.

use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use proto::Environment;

use super::Style;
use super::view;

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
fn list_table() {
    check("list.txt", &view::list(&fixture(), &style(false)));
}

#[test]
fn list_table_in_colour_keeps_its_columns() {
    let plain = view::list(&fixture(), &style(false));
    let colour = view::list(&fixture(), &style(true));
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
    assert_eq!(view::list(&env, &style(false)), "no jobs\n");
}
