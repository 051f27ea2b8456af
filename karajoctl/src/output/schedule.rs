//! When a job runs, in words: its schedule ("daily at 00:00, 06:00"), its
//! interval ("every 1 min"), "webhook" or "manual".
//!
//! Invariant: a schedule this module does not understand is shown as the
//! daemon sent it; the daemon validated it, so words are a nicety only.

use super::time;

/// What triggers a job, for tables. `path` is empty for HTTP jobs.
pub fn trigger(schedule: &str, interval_ns: i64, path: &str) -> String {
    if !schedule.is_empty() {
        return words(schedule).unwrap_or_else(|| schedule.to_string());
    }
    if interval_ns > 0 {
        return format!("every {}", time::duration(interval_ns));
    }
    if !path.is_empty() { "webhook".into() } else { "manual".into() }
}

/// `hourly@0,30` -> `hourly at :00, :30`, and so on for each kind.
pub fn words(schedule: &str) -> Option<String> {
    let lower = schedule.trim().to_ascii_lowercase();
    let mut parts = lower.split('@');
    let kind = parts.next()?;
    let (a, b) = (parts.next(), parts.next());
    if parts.next().is_some() {
        return None;
    }
    let text = match kind {
        "minutely" if a.is_none() => "every minute".to_string(),
        "hourly" if b.is_none() => {
            let mins = list(a.unwrap_or("0"), |m| m.parse::<u8>().ok().map(|m| format!(":{m:02}")))?;
            format!("hourly at {mins}")
        }
        "daily" if b.is_none() => format!("daily at {}", list(a.unwrap_or("00:00"), clock)?),
        "weekly" => {
            format!("weekly on {} at {}", list(a.unwrap_or("sunday"), weekday)?, list(b.unwrap_or("00:00"), clock)?)
        }
        "monthly" => format!(
            "monthly on day {} at {}",
            list(a.unwrap_or("1"), |d| d.parse::<u8>().ok().map(|d| d.to_string()))?,
            list(b.unwrap_or("00:00"), clock)?
        ),
        _ => return None,
    };
    Some(text)
}

fn list(items: &str, each: impl Fn(&str) -> Option<String>) -> Option<String> {
    let words: Option<Vec<String>> = items.split(',').map(|i| each(i.trim())).collect();
    Some(words?.join(", "))
}

fn clock(t: &str) -> Option<String> {
    let (h, m) = t.split_once(':')?;
    Some(format!("{:02}:{:02}", h.parse::<u8>().ok()?, m.parse::<u8>().ok()?))
}

fn weekday(d: &str) -> Option<String> {
    const DAYS: [&str; 7] = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
    let full = DAYS.iter().find(|full| **full == d || (d.len() == 3 && full.starts_with(d)))?;
    let mut short = full[..3].to_string();
    short[..1].make_ascii_uppercase();
    Some(short)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_in_words() {
        for (s, want) in [
            ("minutely", "every minute"),
            ("hourly", "hourly at :00"),
            ("hourly@0,15,30,45", "hourly at :00, :15, :30, :45"),
            ("daily@00:00,6:00", "daily at 00:00, 06:00"),
            ("Weekly@Sunday,Tue,Friday@15:00", "weekly on Sun, Tue, Fri at 15:00"),
            ("weekly", "weekly on Sun at 00:00"),
            ("monthly@1,15@18:00", "monthly on day 1, 15 at 18:00"),
            ("monthly", "monthly on day 1 at 00:00"),
        ] {
            assert_eq!(words(s).as_deref(), Some(want), "{s}");
        }
        for s in ["yearly", "hourly@x", "weekly@funday", "daily@1:2:3", "minutely@5"] {
            assert_eq!(words(s), None, "{s}");
        }
    }

    #[test]
    fn trigger_prefers_schedule_then_interval_then_path() {
        const MIN: i64 = 60_000_000_000;
        assert_eq!(trigger("daily", MIN, "/x"), "daily at 00:00");
        assert_eq!(trigger("", 90 * MIN / 60, "/x"), "every 1 min 30 s");
        assert_eq!(trigger("", 0, "/hook"), "webhook");
        assert_eq!(trigger("", 0, ""), "manual");
        assert_eq!(trigger("odd@thing", 0, ""), "odd@thing");
    }
}
