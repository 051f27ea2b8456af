//! Times as people read them: exact UTC stamps and relative words
//! ("3 min ago", "in 2 min"), always computed against an injected `now`.
//!
//! Invariant: rounding is toward zero, so "in 1 min" never shows for a run
//! that is 30 s away and "59 s ago" stays under a minute.

use chrono::{DateTime, Utc};

/// `2026-11-01 12:03:00`, UTC (the tables say so in their header).
pub fn exact(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// "just now", "45 s ago", "3 min ago", "in 2 h 5 min", "in 3 days".
pub fn relative(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (t - now).num_seconds();
    if secs.abs() < 1 {
        return "now".into();
    }
    let words = span(secs.unsigned_abs());
    if secs < 0 { format!("{words} ago") } else { format!("in {words}") }
}

/// The exact time with its relative form: `2026-11-01 12:03:00 (3 min ago)`,
/// or `none` when the time never happened.
pub fn when(t: Option<DateTime<Utc>>, now: DateTime<Utc>, none: &str) -> String {
    match t {
        Some(t) => format!("{} ({})", exact(t), relative(t, now)),
        None => none.to_string(),
    }
}

/// A coarse span for relative times: the largest unit, plus the next one
/// for hours ("2 h 5 min"), which is what someone waiting for a run wants.
pub fn span(secs: u64) -> String {
    const MIN: u64 = 60;
    const HOUR: u64 = 60 * MIN;
    const DAY: u64 = 24 * HOUR;
    match secs {
        s if s < MIN => format!("{s} s"),
        s if s < HOUR => format!("{} min", s / MIN),
        s if s < DAY => match (s % HOUR) / MIN {
            0 => format!("{} h", s / HOUR),
            m => format!("{} h {m} min", s / HOUR),
        },
        s if s < 2 * DAY => "1 day".into(),
        s => format!("{} days", s / DAY),
    }
}

/// An exact duration in words, every non-zero unit: `1 h 30 min`, `90 ms`.
pub fn duration(nanos: i64) -> String {
    if nanos <= 0 {
        return "0 s".into();
    }
    let nanos = nanos as u64;
    let (mut secs, ms) = (nanos / 1_000_000_000, (nanos / 1_000_000) % 1000);
    let mut parts = Vec::new();
    for (unit, name) in [(86_400, "d"), (3_600, "h"), (60, "min"), (1, "s")] {
        if secs >= unit {
            parts.push(format!("{} {name}", secs / unit));
            secs %= unit;
        }
    }
    if ms > 0 {
        parts.push(format!("{ms} ms"));
    }
    if parts.is_empty() { format!("{nanos} ns") } else { parts.join(" ") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap()
    }

    #[test]
    fn relative_words_with_a_fixed_now() {
        let cases = [
            (0, "now"),
            (-45, "45 s ago"),
            (-59, "59 s ago"),
            (-60, "1 min ago"),
            (-180, "3 min ago"),
            (-3599, "59 min ago"),
            (120, "in 2 min"),
            (30, "in 30 s"),
            (3600, "in 1 h"),
            (2 * 3600 + 5 * 60 + 59, "in 2 h 5 min"),
            (-86_400, "1 day ago"),
            (3 * 86_400 + 5, "in 3 days"),
        ];
        for (delta, want) in cases {
            assert_eq!(relative(now() + Duration::seconds(delta), now()), want, "{delta}");
        }
    }

    #[test]
    fn exact_and_when() {
        let t = now() - Duration::minutes(3);
        assert_eq!(exact(t), "2026-11-01 11:57:00");
        assert_eq!(when(Some(t), now(), "never"), "2026-11-01 11:57:00 (3 min ago)");
        assert_eq!(when(None, now(), "never"), "never");
    }

    #[test]
    fn durations_in_words() {
        const S: i64 = 1_000_000_000;
        assert_eq!(duration(60 * S), "1 min");
        assert_eq!(duration(90 * S), "1 min 30 s");
        assert_eq!(duration(5400 * S), "1 h 30 min");
        assert_eq!(duration(86_400 * S + 1), "1 d");
        assert_eq!(duration(300_000_000), "300 ms");
        assert_eq!(duration(0), "0 s");
        assert_eq!(duration(-S), "0 s");
        assert_eq!(duration(12), "12 ns");
    }
}
