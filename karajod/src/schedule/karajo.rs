//! The karajo forms of SPEC 3: `minutely`, `hourly@…`, `daily@…`,
//! `weekly@…@…` and `monthly@…@…`, and the arithmetic that finds the next
//! matching local wall-clock time.
//!
//! Invariants:
//! - A [`Karajo`] only exists after a successful parse, so every list in it
//!   is non-empty, sorted ascending, de-duplicated and in range. Two spellings
//!   of the same schedule (`hourly`, `HOURLY@00`, `hourly@0,0`) compare equal
//!   and display the same canonical form.
//! - Minute granularity: a firing is always at second 0 and nanosecond 0.
//! - Times here are naive wall-clock times; the zone is applied by `zone`.

use std::fmt;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

use super::ScheduleError;

/// Day names indexed by days since Sunday, matching chrono's
/// `num_days_from_sunday`.
const DAY_NAMES: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

const MINUTES_PER_DAY: u16 = 24 * 60;

/// A parsed karajo-form schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Karajo {
    kind: Kind,
}

/// The words that start a karajo form (before any `@`).
const WORDS: [&str; 5] = ["minutely", "hourly", "daily", "weekly", "monthly"];

/// True when `src` is meant as a karajo form: its first word is one of ours.
pub(super) fn is_karajo_form(src: &str) -> bool {
    let word = src.split('@').next().unwrap_or_default().trim();
    WORDS.iter().any(|w| w.eq_ignore_ascii_case(word))
}

/// Times of day are minutes since midnight (0..1440) so that "the first time
/// at or after X" is a single ordered search.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Minutely,
    /// Minutes past every hour, 0-59.
    Hourly(Vec<u8>),
    /// Times of day.
    Daily(Vec<u16>),
    /// Days since Sunday (0-6), then times of day.
    Weekly(Vec<u8>, Vec<u16>),
    /// Days of the month (1-31), then times of day.
    Monthly(Vec<u8>, Vec<u16>),
}

impl Karajo {
    /// Parses a form [`is_karajo_form`] accepted.
    pub(super) fn parse(input: &str) -> Result<Karajo, ScheduleError> {
        let src = input.trim();
        let mut parts = src.split('@');
        let raw_word = parts.next().unwrap_or_default().trim();
        let word = raw_word.to_ascii_lowercase();
        let args: Vec<&str> = parts.collect();
        let p = Parser { src };
        let kind = match word.as_str() {
            "minutely" => {
                p.check_arity(&args, 0, "minutely")?;
                Kind::Minutely
            }
            "hourly" => {
                p.check_arity(&args, 1, "hourly[@MINUTES]")?;
                Kind::Hourly(p.list(args.first().copied(), 0, |e| p.minute(e))?)
            }
            "daily" => {
                p.check_arity(&args, 1, "daily[@TIMES]")?;
                Kind::Daily(p.list(args.first().copied(), 0, |e| p.time(e))?)
            }
            "weekly" => {
                p.check_arity(&args, 2, "weekly[@DAYS[@TIMES]]")?;
                let days = p.list(args.first().copied(), 0, |e| p.weekday(e))?;
                Kind::Weekly(days, p.list(args.get(1).copied(), 0, |e| p.time(e))?)
            }
            "monthly" => {
                p.check_arity(&args, 2, "monthly[@DAYS[@TIMES]]")?;
                let days = p.list(args.first().copied(), 1, |e| p.month_day(e))?;
                Kind::Monthly(days, p.list(args.get(1).copied(), 0, |e| p.time(e))?)
            }
            _ => {
                let msg = format!("unknown schedule kind {raw_word:?} in {src:?}: expected {}", super::KINDS);
                return Err(ScheduleError(msg));
            }
        };
        Ok(Karajo { kind })
    }
}

/// Carries the whole (trimmed) input so every error can quote it.
struct Parser<'a> {
    src: &'a str,
}

impl Parser<'_> {
    fn check_arity(&self, args: &[&str], max: usize, syntax: &str) -> Result<(), ScheduleError> {
        if args.len() <= max {
            return Ok(());
        }
        let src = self.src;
        Err(ScheduleError(format!("too many \"@\" parts in {src:?}: expected {syntax}")))
    }

    /// Parses a comma-separated list, or yields `[default]` when the part is
    /// absent. An empty element is an error rather than skipped: `1,,2` is
    /// far more likely a typo than an intent.
    fn list<T: Ord>(
        &self,
        part: Option<&str>,
        default: T,
        elem: impl Fn(&str) -> Result<T, ScheduleError>,
    ) -> Result<Vec<T>, ScheduleError> {
        let Some(part) = part else {
            return Ok(vec![default]);
        };
        let mut items = Vec::new();
        for e in part.split(',').map(str::trim) {
            if e.is_empty() {
                let src = self.src;
                let msg = format!("empty element in list {part:?} of {src:?}");
                return Err(ScheduleError(msg));
            }
            items.push(elem(e)?);
        }
        items.sort_unstable();
        items.dedup();
        Ok(items)
    }

    fn minute(&self, e: &str) -> Result<u8, ScheduleError> {
        match small_number(e, 2) {
            Some(m) if m <= 59 => Ok(m as u8),
            _ => Err(self.invalid("minute", e, "0-59")),
        }
    }

    fn time(&self, e: &str) -> Result<u16, ScheduleError> {
        let parsed = e.split_once(':').and_then(|(h, m)| {
            // The minute must be zero-padded so that `6:5` cannot be misread
            // as 06:50.
            if m.len() != 2 {
                return None;
            }
            let h = small_number(h, 2).filter(|&h| h <= 23)?;
            let m = small_number(m, 2).filter(|&m| m <= 59)?;
            Some((h * 60 + m) as u16)
        });
        parsed.ok_or_else(|| self.invalid("time", e, "HH:MM with hour 0-23 and minute 00-59"))
    }

    fn weekday(&self, e: &str) -> Result<u8, ScheduleError> {
        let lower = e.to_ascii_lowercase();
        DAY_NAMES
            .iter()
            .position(|name| {
                let name = name.to_ascii_lowercase();
                lower == name || lower == name[..3]
            })
            .map(|i| i as u8)
            .ok_or_else(|| self.invalid("day", e, "a day name like Sunday or Sun"))
    }

    fn month_day(&self, e: &str) -> Result<u8, ScheduleError> {
        match small_number(e, 2) {
            Some(d) if (1..=31).contains(&d) => Ok(d as u8),
            _ => Err(self.invalid("day of month", e, "1-31")),
        }
    }

    fn invalid(&self, what: &str, e: &str, expected: &str) -> ScheduleError {
        let src = self.src;
        ScheduleError(format!("invalid {what} {e:?} in {src:?}: expected {expected}"))
    }
}

/// A plain decimal of 1..=`max_digits` ASCII digits. Stricter than
/// `u32::from_str`, which would also take `+5` and `0005`.
fn small_number(s: &str, max_digits: usize) -> Option<u32> {
    let ok = !s.is_empty() && s.len() <= max_digits && s.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| s.parse().ok()).flatten()
}

impl Karajo {
    /// The first matching wall-clock time strictly after `t` (always at
    /// second 0); `None` only past chrono's last date (year 262143).
    ///
    /// Walks whole days forward from `t`'s date; each schedule kind repeats
    /// within a bounded number of days (a week for `weekly`; for `monthly`,
    /// any day of the month 1-31 recurs within 62 days), so the loop is short.
    pub(super) fn next_after(&self, t: NaiveDateTime) -> Option<NaiveDateTime> {
        let mut date = t.date();
        // The minute containing `t` has already begun (even at hh:mm:00.0,
        // "strictly after" excludes it), so the first candidate is the next
        // minute, which may be 1440, i.e. none left today.
        let mut from = (t.hour() * 60 + t.minute() + 1) as u16;
        loop {
            let first = if self.day_matches(date) { self.first_time_from(from) } else { None };
            if let Some(minute) = first {
                let (h, m) = (u32::from(minute / 60), u32::from(minute % 60));
                return date.and_hms_opt(h, m, 0);
            }
            date = date.succ_opt()?;
            from = 0;
        }
    }

    fn day_matches(&self, date: NaiveDate) -> bool {
        match &self.kind {
            Kind::Minutely | Kind::Hourly(_) | Kind::Daily(_) => true,
            Kind::Weekly(days, _) => days.contains(&(date.weekday().num_days_from_sunday() as u8)),
            // A day the month lacks simply never shows up as `date.day()`,
            // which is what makes monthly@31 skip April.
            Kind::Monthly(days, _) => days.contains(&(date.day() as u8)),
        }
    }

    /// The earliest firing minute of a matching day at or after `from`
    /// (minutes since midnight), if any is left that day.
    fn first_time_from(&self, from: u16) -> Option<u16> {
        if from >= MINUTES_PER_DAY {
            return None;
        }
        match &self.kind {
            Kind::Minutely => Some(from),
            Kind::Hourly(minutes) => {
                let (hour, minute) = (from / 60, (from % 60) as u8);
                match minutes.iter().find(|&&m| m >= minute) {
                    Some(&m) => Some(hour * 60 + u16::from(m)),
                    None => (hour < 23).then(|| (hour + 1) * 60 + u16::from(minutes[0])),
                }
            }
            Kind::Daily(times) | Kind::Weekly(_, times) | Kind::Monthly(_, times) => {
                times.get(times.partition_point(|&m| m < from)).copied()
            }
        }
    }

    /// The parsed form, for [`proto::words`] to put in words.
    pub(super) fn calendar(&self) -> proto::words::Calendar<'_> {
        use proto::words::Calendar;
        match &self.kind {
            Kind::Minutely => Calendar::Minutely,
            Kind::Hourly(minutes) => Calendar::Hourly(minutes),
            Kind::Daily(times) => Calendar::Daily(times),
            Kind::Weekly(days, times) => Calendar::Weekly(days, times),
            Kind::Monthly(days, times) => Calendar::Monthly(days, times),
        }
    }
}

fn day_name(day: u8) -> &'static str {
    DAY_NAMES[usize::from(day)]
}

fn times_list(times: &[u16], sep: &str) -> String {
    let times: Vec<String> = times.iter().map(|t| format!("{:02}:{:02}", t / 60, t % 60)).collect();
    times.join(sep)
}

/// The canonical form: every part spelled out, lists sorted and
/// de-duplicated, full day names, zero-padded `HH:MM`. It parses back to an
/// equal `Karajo`.
impl fmt::Display for Karajo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Minutely => f.write_str("minutely"),
            Kind::Hourly(minutes) => {
                let minutes: Vec<String> = minutes.iter().map(u8::to_string).collect();
                write!(f, "hourly@{}", minutes.join(","))
            }
            Kind::Daily(times) => write!(f, "daily@{}", times_list(times, ",")),
            Kind::Weekly(days, times) => {
                let names: Vec<&str> = days.iter().map(|&d| day_name(d)).collect();
                write!(f, "weekly@{}@{}", names.join(","), times_list(times, ","))
            }
            Kind::Monthly(days, times) => {
                let days: Vec<String> = days.iter().map(u8::to_string).collect();
                write!(f, "monthly@{}@{}", days.join(","), times_list(times, ","))
            }
        }
    }
}
