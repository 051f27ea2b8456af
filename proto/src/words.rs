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
    /// A cron expression (SPEC 16).
    Cron(&'a CronFields),
}

/// A cron expression's fields, parsed: each list sorted and de-duplicated;
/// `None` for a seconds field that was not written (second 0) and for a
/// day field written `*`. Weekdays 0 = Sunday, months 1-12.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronFields {
    pub seconds: Option<Vec<u8>>,
    pub minutes: Vec<u8>,
    pub hours: Vec<u8>,
    pub days_of_month: Option<Vec<u8>>,
    pub months: Vec<u8>,
    pub days_of_week: Option<Vec<u8>>,
}

/// A calendar and the zone it is read in (`None` = UTC, not shown):
/// "at 02:30 on Monday-Friday (Europe/Berlin)".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zoned<'a>(pub Calendar<'a>, pub Option<&'a str>);

impl fmt::Display for Zoned<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Some(zone) => write!(f, "{} ({zone})", self.0),
            None => self.0.fmt(f),
        }
    }
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
const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

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
            Calendar::Cron(c) => c.fmt(f),
        }
    }
}

impl fmt::Display for CronFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.time_words())?;
        let day_name = |d: u8| DAY_NAMES.get(usize::from(d)).copied().unwrap_or("?").to_string();
        let month_name = |m: u8| MONTH_NAMES.get(usize::from(m).wrapping_sub(1)).copied().unwrap_or("?").to_string();
        let dom =
            self.days_of_month.as_ref().map(|d| format!("on day {} of the month", runs(d, &|v: u8| v.to_string())));
        let dow = self.days_of_week.as_ref().map(|d| format!("on {}", runs(d, &day_name)));
        match (dom, dow) {
            (Some(dom), Some(dow)) => write!(f, " {dom} or {dow}")?,
            (Some(one), None) | (None, Some(one)) => write!(f, " {one}")?,
            (None, None) => {}
        }
        if self.months.len() < 12 {
            write!(f, " in {}", runs(&self.months, &month_name))?;
        }
        Ok(())
    }
}

impl CronFields {
    /// "every minute", "every hour at :05", "at 02:30, 14:30", or field by
    /// field when the times do not make a short list.
    fn time_words(&self) -> String {
        let seconds = self.seconds.as_deref().unwrap_or(&[0]);
        let (all_m, all_h) = (self.minutes.len() == 60, self.hours.len() == 24);
        let on_zero = seconds == [0];
        let num = |v: u8| v.to_string();
        if seconds.len() == 60 && all_m && all_h {
            return "every second".to_string();
        }
        if all_m && all_h {
            return if on_zero {
                "every minute".into()
            } else {
                format!("every minute at second {}", runs(seconds, &num))
            };
        }
        if all_h && on_zero {
            let at: Vec<String> = self.minutes.iter().map(|m| format!(":{m:02}")).collect();
            return format!("every hour at {}", at.join(" "));
        }
        if seconds.len() == 1 && self.minutes.len() * self.hours.len() <= 4 {
            let mut times = Vec::new();
            for h in &self.hours {
                for m in &self.minutes {
                    times.push(if on_zero {
                        format!("{h:02}:{m:02}")
                    } else {
                        format!("{h:02}:{m:02}:{:02}", seconds[0])
                    });
                }
            }
            return format!("at {}", times.join(", "));
        }
        let mut parts = Vec::new();
        if !on_zero {
            parts.push(format!("second {}", runs(seconds, &num)));
        }
        parts.push(if all_m { "every minute".into() } else { format!("minute {}", runs(&self.minutes, &num)) });
        parts.push(if all_h { "of every hour".into() } else { format!("of hour {}", runs(&self.hours, &num)) });
        format!("at {}", parts.join(" "))
    }
}

/// Sorted values as "1-5, 7 and 9": three or more in a row become a range.
fn runs(values: &[u8], name: &dyn Fn(u8) -> String) -> String {
    let mut items = Vec::new();
    let mut i = 0;
    while i < values.len() {
        let mut j = i;
        while j + 1 < values.len() && values[j + 1] == values[j] + 1 {
            j += 1;
        }
        if j >= i + 2 {
            items.push(format!("{}-{}", name(values[i]), name(values[j])));
        } else {
            items.extend(values[i..=j].iter().map(|&v| name(v)));
        }
        i = j + 1;
    }
    and_list(&items)
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

    fn cron(
        seconds: Option<&[u8]>,
        minutes: &[u8],
        hours: &[u8],
        dom: Option<&[u8]>,
        dow: Option<&[u8]>,
    ) -> CronFields {
        CronFields {
            seconds: seconds.map(<[u8]>::to_vec),
            minutes: minutes.to_vec(),
            hours: hours.to_vec(),
            days_of_month: dom.map(<[u8]>::to_vec),
            months: (1..=12).collect(),
            days_of_week: dow.map(<[u8]>::to_vec),
        }
    }

    #[test]
    fn cron_expressions_in_words() {
        let all_m: Vec<u8> = (0..60).collect();
        let all_h: Vec<u8> = (0..24).collect();
        let weekdays = cron(None, &[30], &[2], None, Some(&[1, 2, 3, 4, 5]));
        assert_eq!(
            Zoned(Calendar::Cron(&weekdays), Some("Europe/Berlin")).to_string(),
            "at 02:30 on Monday-Friday (Europe/Berlin)"
        );
        assert_eq!(Zoned(Calendar::Cron(&weekdays), None).to_string(), "at 02:30 on Monday-Friday");
        assert_eq!(cron(None, &all_m, &all_h, None, None).to_string(), "every minute");
        assert_eq!(cron(Some(&all_m), &all_m, &all_h, None, None).to_string(), "every second");
        assert_eq!(cron(Some(&[0, 30]), &all_m, &all_h, None, None).to_string(), "every minute at second 0 and 30");
        assert_eq!(cron(None, &[5], &all_h, None, None).to_string(), "every hour at :05");
        assert_eq!(cron(Some(&[15]), &[0], &[9, 17], None, None).to_string(), "at 09:00:15, 17:00:15");
        let both = cron(None, &[0], &[0], Some(&[1, 15]), Some(&[1]));
        assert_eq!(both.to_string(), "at 00:00 on day 1 and 15 of the month or on Monday");
        let many = cron(None, &[0, 15, 30, 45], &[9, 10, 11, 12, 13], None, None);
        assert_eq!(many.to_string(), "at minute 0, 15, 30 and 45 of hour 9-13");
        let mut yearly = cron(None, &[0], &[0], Some(&[1]), None);
        yearly.months = vec![1, 7];
        assert_eq!(yearly.to_string(), "at 00:00 on day 1 of the month in January and July");
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
