//! When a job runs, in words: the one wording of schedules and intervals
//! that the daemon puts in the Job JSON (`schedule_text`), `karajod
//! check` prints, and the dashboard and karajoctl show as they get it.
//!
//! Invariant: these functions take the schedule already parsed (the daemon
//! owns the syntax), so a form is worded once, here, and never re-parsed.

use std::fmt;

/// A calendar schedule, parsed: minutes of the hour, times of day as
/// minutes since midnight, weekdays 0 = Sunday, days of the month 1-31.
/// Every list is sorted and de-duplicated (the daemon's parser does it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Calendar<'a> {
    Minutely,
    Hourly(&'a [u8]),
    Daily(&'a [u16]),
    Weekly(&'a [u8], &'a [u16]),
    Monthly(&'a [u8], &'a [u16]),
}

/// What triggers a job's runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When<'a> {
    Calendar(Calendar<'a>),
    /// Nanoseconds between runs, as the API's `interval`.
    Interval(i64),
    /// No timer, but a webhook `path`.
    Webhook,
    /// No timer and no webhook: runs only when asked.
    Manual,
}

const DAY_NAMES: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

impl fmt::Display for Calendar<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Calendar::Minutely => f.write_str("every minute"),
            Calendar::Hourly(minutes) => {
                let at: Vec<String> = minutes.iter().map(|m| format!(":{m:02}")).collect();
                write!(f, "every hour at {}", at.join(" "))
            }
            Calendar::Daily(times) => write!(f, "every day at {}", times_list(times)),
            Calendar::Weekly(days, times) => {
                let names: Vec<String> =
                    days.iter().map(|&d| DAY_NAMES.get(usize::from(d)).copied().unwrap_or("?").to_string()).collect();
                write!(f, "every {} at {}", and_list(&names), times_list(times))
            }
            Calendar::Monthly(days, times) => {
                let days: Vec<String> = days.iter().map(u8::to_string).collect();
                write!(f, "on day {} of every month at {}", and_list(&days), times_list(times))
            }
        }
    }
}

impl fmt::Display for When<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            When::Calendar(c) => c.fmt(f),
            When::Interval(ns) => f.write_str(&interval(*ns)),
            When::Webhook => f.write_str("on webhook"),
            When::Manual => f.write_str("by hand only"),
        }
    }
}

/// "every minute", "every 5 minutes", "every 1 hour 30 minutes"; whole
/// seconds (the daemon raises intervals to one minute anyway).
pub fn interval(ns: i64) -> String {
    const UNITS: [(&str, i64); 4] = [("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1)];
    let mut s = ns / 1_000_000_000;
    if s <= 0 {
        return "every moment".to_string();
    }
    if let Some((unit, _)) = UNITS.iter().find(|(_, size)| *size == s) {
        return format!("every {unit}");
    }
    let mut parts = Vec::new();
    for (unit, size) in UNITS {
        let n = s / size;
        if n > 0 {
            parts.push(format!("{n} {unit}{}", if n == 1 { "" } else { "s" }));
        }
        s -= n * size;
    }
    format!("every {}", parts.join(" "))
}

fn times_list(times: &[u16]) -> String {
    let times: Vec<String> = times.iter().map(|t| format!("{:02}:{:02}", t / 60, t % 60)).collect();
    times.join(", ")
}

/// "a", "a and b", "a, b and c".
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendars_in_words() {
        let cases = [
            (Calendar::Minutely, "every minute"),
            (Calendar::Hourly(&[0, 15, 30, 45]), "every hour at :00 :15 :30 :45"),
            (Calendar::Daily(&[0, 360]), "every day at 00:00, 06:00"),
            (Calendar::Weekly(&[0, 5], &[900]), "every Sunday and Friday at 15:00"),
            (Calendar::Weekly(&[0, 2, 5], &[540, 900]), "every Sunday, Tuesday and Friday at 09:00, 15:00"),
            (Calendar::Monthly(&[1, 10, 20], &[0]), "on day 1, 10 and 20 of every month at 00:00"),
        ];
        for (c, want) in cases {
            assert_eq!(c.to_string(), want);
        }
    }

    #[test]
    fn intervals_webhooks_and_manual_jobs_in_words() {
        const S: i64 = 1_000_000_000;
        assert_eq!(When::Interval(60 * S).to_string(), "every minute");
        assert_eq!(When::Interval(300 * S).to_string(), "every 5 minutes");
        assert_eq!(When::Interval(90 * S).to_string(), "every 1 minute 30 seconds");
        assert_eq!(When::Interval(5400 * S).to_string(), "every 1 hour 30 minutes");
        assert_eq!(When::Interval(86_400 * S).to_string(), "every day");
        assert_eq!(When::Webhook.to_string(), "on webhook");
        assert_eq!(When::Manual.to_string(), "by hand only");
    }
}
