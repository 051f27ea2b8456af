//! When a job runs, in words, for tables and `show`: the daemon's
//! `schedule_text` (worded once, in [`proto::words`]).
//!
//! Invariant: nothing here parses a schedule; a daemon too old to send
//! `schedule_text` gets its schedule shown as written.

use proto::words::When;

/// What triggers a job. `path` is empty for HTTP jobs.
pub fn trigger(text: &str, schedule: &str, interval_ns: i64, path: &str) -> String {
    if !text.is_empty() {
        return text.to_string();
    }
    if !schedule.is_empty() {
        return schedule.to_string();
    }
    let when = match (interval_ns > 0, path.is_empty()) {
        (true, _) => When::Interval(interval_ns),
        (false, false) => When::Webhook,
        (false, true) => When::Manual,
    };
    when.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daemons_words_win_then_the_schedule_then_the_trigger() {
        const MIN: i64 = 60_000_000_000;
        assert_eq!(trigger("every day at 00:00", "daily", 0, ""), "every day at 00:00");
        assert_eq!(trigger("", "daily", MIN, "/x"), "daily");
        assert_eq!(trigger("", "", 90 * MIN / 60, "/x"), "every 1 minute 30 seconds");
        assert_eq!(trigger("", "", 0, "/hook"), "on webhook");
        assert_eq!(trigger("", "", 0, ""), "by hand only");
    }
}
