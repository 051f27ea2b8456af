//! Schedules: the karajo forms of SPEC 3 (`karajo`), cron expressions of
//! SPEC 16 (`cron`), read in a time zone (`zone`), behind one
//! [`Schedule::next_after`]; and the `jitter` offset of a timer run.
//!
//! Invariants:
//! - A [`Schedule`] only exists after a successful parse: it always fires
//!   again (up to chrono's last date), so `next_after` is total.
//! - Karajo forms and 5-field cron fire at second 0; a 6-field cron fires at
//!   its seconds. Firings are whole seconds.
//! - Everything here is pure: no clock reads, no I/O, no async. The caller
//!   supplies "now" and decides what to do with the answer.

mod cron;
pub mod jitter;
mod karajo;
pub mod zone;

#[cfg(test)]
mod tests_cron;
#[cfg(test)]
mod tests_karajo;
#[cfg(test)]
mod tests_util;
#[cfg(test)]
mod tests_zone;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, TimeDelta, TimeZone, Utc};
pub use chrono_tz::Tz;

use cron::Cron;
use karajo::Karajo;
pub use zone::{Change, parse_zone};

/// What a schedule may be, for error messages.
const KINDS: &str = "minutely, hourly, daily, weekly, monthly or a cron expression like \"30 2 * * 1-5\"";

/// Why a schedule (or zone) was rejected; the message names the offending
/// part and the whole input so it can be shown to a user as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ScheduleError(pub String);

/// A parsed schedule and the zone its wall-clock times are read in (UTC
/// unless [`Schedule::in_zone`] says otherwise). Build one with
/// [`str::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    form: Form,
    zone: Tz,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Form {
    Karajo(Karajo),
    Cron(Box<Cron>),
}

impl FromStr for Schedule {
    type Err = ScheduleError;

    fn from_str(input: &str) -> Result<Self, ScheduleError> {
        let src = input.trim();
        let form = if src.is_empty() {
            return Err(ScheduleError(format!("empty schedule: expected {KINDS}")));
        } else if karajo::is_karajo_form(src) {
            Form::Karajo(Karajo::parse(src)?)
        } else if src.starts_with('@') || src.split_whitespace().nth(1).is_some() {
            Form::Cron(Box::new(Cron::parse(src)?))
        } else {
            let word = src.split('@').next().unwrap_or_default().trim();
            return Err(ScheduleError(format!("unknown schedule kind {word:?} in {src:?}: expected {KINDS}")));
        };
        Ok(Schedule { form, zone: Tz::UTC })
    }
}

impl Schedule {
    /// The same schedule read in `zone`.
    pub fn in_zone(self, zone: Tz) -> Schedule {
        Schedule { zone, ..self }
    }

    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// True when it fires at seconds other than :00 (a 6-field cron).
    pub fn has_seconds(&self) -> bool {
        matches!(&self.form, Form::Cron(c) if c.has_seconds())
    }

    /// The first firing instant strictly after `t`, by the DST rules of
    /// SPEC 16 (see [`zone`]). Past chrono's last date: `MAX_UTC`.
    pub fn next_after(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        zone::next_after(self.zone, t, |l| self.next_local_after(l)).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// The first matching wall-clock time strictly after `l`.
    fn next_local_after(&self, l: NaiveDateTime) -> Option<NaiveDateTime> {
        match &self.form {
            Form::Karajo(k) => k.next_after(l),
            Form::Cron(c) => c.next_after(l),
        }
    }

    /// The DST changes in `[from, until)` that move one of its slots: a
    /// slot in a gap (it runs at the end of the gap) or in an overlap (it
    /// runs once, at the first occurrence).
    pub fn dst_changes(&self, from: DateTime<Utc>, until: DateTime<Utc>) -> Vec<Change> {
        let hits = |c: &Change| {
            let (start, end) = c.range();
            self.next_local_after(start - TimeDelta::nanoseconds(1)).is_some_and(|l| l < end)
        };
        zone::changes(self.zone, from, until).into_iter().filter(hits).collect()
    }

    /// The shortest time between two firings, from a sample of the next
    /// 500 after a fixed date: what a `jitter` must stay under.
    pub fn shortest_gap(&self) -> TimeDelta {
        let start = self.zone.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).earliest();
        let mut t = start.map(|t| t.to_utc()).unwrap_or_default();
        let mut shortest = TimeDelta::MAX;
        for _ in 0..500 {
            let next = self.next_after(t);
            if next == DateTime::<Utc>::MAX_UTC {
                break;
            }
            shortest = shortest.min(next - t);
            t = next;
        }
        shortest
    }

    /// The parsed form, for [`proto::words`] to put in words.
    pub fn calendar(&self) -> proto::words::Calendar<'_> {
        match &self.form {
            Form::Karajo(k) => k.calendar(),
            Form::Cron(c) => proto::words::Calendar::Cron(c.words()),
        }
    }

    /// In words, e.g. "every Sunday and Friday at 15:00", with the zone
    /// when it is not UTC (see [`proto::words`]).
    pub fn describe(&self) -> String {
        proto::words::Zoned(self.calendar(), self.zone_name()).to_string()
    }

    /// The zone's name, `None` for UTC.
    pub fn zone_name(&self) -> Option<&'static str> {
        (self.zone != Tz::UTC).then(|| self.zone.name())
    }
}

/// The karajo forms print canonically; a cron expression as written
/// (whitespace collapsed). The zone is not part of it (it is its own key).
impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.form {
            Form::Karajo(k) => k.fmt(f),
            Form::Cron(c) => c.fmt(f),
        }
    }
}
