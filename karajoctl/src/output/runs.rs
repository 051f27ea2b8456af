//! The `runs` table: one line per history row, newest first, times in
//! UTC with their relative words, as `list` shows them.

use proto::Run;

use super::Style;
use super::table::render;
use super::time::{duration, when};

/// `karajoctl runs ID` as a table (STATUS is column 2, coloured like `list`).
pub fn runs(rows: &[Run], style: &Style) -> String {
    if rows.is_empty() {
        return "no runs\n".into();
    }
    let header = ["#", "STARTED (UTC)", "STATUS", "TRIGGER", "ACTOR", "DURATION", "ATTEMPTS", "LOG"];
    let mut cells = vec![header.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    for r in rows {
        cells.push(vec![
            r.counter.to_string(),
            // A missed slot never started: its slot is when it should have.
            when(r.started_at.or(r.slot), style.now, "-"),
            r.status.clone(),
            r.trigger.clone().unwrap_or_else(|| "-".into()),
            r.actor.clone().unwrap_or_else(|| "-".into()),
            r.duration_ms.map_or_else(|| "-".into(), |ms| duration(ms.saturating_mul(1_000_000))),
            r.attempts.to_string(),
            log_word(r).to_string(),
        ]);
    }
    render(&cells, style)
}

/// Whether the run's log is on disk; a missed slot never had one.
fn log_word(r: &Run) -> &'static str {
    match (r.log, r.status.as_str()) {
        (true, _) => "kept",
        (false, "missed") => "none",
        (false, _) => "deleted",
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn fixture() -> Vec<Run> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/golden/runs.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).expect("the fixture has the API's shape")
    }

    #[test]
    fn runs_table() {
        let style = Style { color: false, now: Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap() };
        super::super::golden::check("runs.txt", &runs(&fixture(), &style));
        assert_eq!(runs(&[], &style), "no runs\n");
    }
}
