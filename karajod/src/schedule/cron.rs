//! Cron expressions (SPEC 16): 5 fields `min hour dom mon dow`, or 6 with a
//! leading seconds field; `*`, lists, ranges, `*/S` and `A-B/S` steps, the
//! names `JAN`-`DEC` and `SUN`-`SAT`, `7` = Sunday, and the `@` aliases.
//!
//! We parse the text ourselves, so every error names the field and says what
//! was expected, and so the parsed sets are there for `describe`. Matching a
//! naive wall-clock time (the calendar search) is the `croner` crate's, fed
//! our sets as plain numeric lists, so the two can never read a field
//! differently. Day-of-month and day-of-week follow the classic rule: when
//! both are restricted (neither is `*`), a day matching either one fires;
//! otherwise both must match (a `*` matches every day).
//!
//! Invariant: a [`Cron`] fires at least once: a day-of-month set that no
//! month in the month set has (`0 0 30 2 *`) is refused at parse time.

use std::fmt;

use chrono::{NaiveDateTime, TimeDelta, Timelike};
use croner::parser::{CronParser, Seconds};

use super::ScheduleError;

/// One field's name, range and names (index + `min` = value).
struct FieldSpec {
    name: &'static str,
    min: u8,
    max: u8,
    names: &'static [&'static str],
    /// How the names are offered in an error.
    named: &'static str,
}

const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS: [&str; 8] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];

const FIELDS: [FieldSpec; 6] = [
    FieldSpec { name: "second", min: 0, max: 59, names: &[], named: "" },
    FieldSpec { name: "minute", min: 0, max: 59, names: &[], named: "" },
    FieldSpec { name: "hour", min: 0, max: 23, names: &[], named: "" },
    FieldSpec { name: "day-of-month", min: 1, max: 31, names: &[], named: "" },
    FieldSpec { name: "month", min: 1, max: 12, names: &MONTHS, named: " or a name JAN-DEC" },
    FieldSpec { name: "day-of-week", min: 0, max: 7, names: &DAYS, named: " or a name SUN-SAT" },
];

const ALIASES: [(&str, &str); 7] = [
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

/// A parsed cron expression. Equal when they fire at the same times.
#[derive(Clone)]
pub(super) struct Cron {
    /// As written, whitespace collapsed: what `Display` shows.
    text: String,
    /// Bit `v` set = value `v` matches, per field (seconds first; Sunday is 0).
    sets: [u64; 6],
    dom_star: bool,
    dow_star: bool,
    words: proto::words::CronFields,
    matcher: croner::Cron,
}

impl PartialEq for Cron {
    fn eq(&self, other: &Cron) -> bool {
        (self.sets, self.dom_star, self.dow_star) == (other.sets, other.dom_star, other.dow_star)
    }
}

/// The text alone: croner's matcher prints thousands of bits.
impl fmt::Debug for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Cron").field(&self.text).finish()
    }
}

impl Eq for Cron {}

impl Cron {
    pub(super) fn parse(input: &str) -> Result<Cron, ScheduleError> {
        let text = input.split_whitespace().collect::<Vec<_>>().join(" ");
        let expanded = expand_alias(&text)?;
        let mut fields: Vec<&str> = expanded.split(' ').collect();
        let seconds = match fields.len() {
            5 => {
                fields.insert(0, "0");
                false
            }
            6 => true,
            n => {
                let msg = format!(
                    "{n} fields in cron expression {text:?}: expected 5 (minute hour day-of-month month day-of-week) \
                     or 6 (a leading second field)"
                );
                return Err(ScheduleError(msg));
            }
        };
        let mut sets = [0u64; 6];
        for (i, (field, spec)) in fields.iter().zip(&FIELDS).enumerate() {
            sets[i] = parse_field(field, spec).map_err(|e| ScheduleError(format!("{e} in {text:?}")))?;
        }
        if sets[5] & 1 << 7 != 0 {
            sets[5] = (sets[5] & !(1 << 7)) | 1;
        }
        let star = |f: &str| f == "*" || f == "?";
        let (dom_star, dow_star) = (star(fields[3]), star(fields[5]));
        if dow_star && !dom_star {
            check_day_exists(sets[3], sets[4]).map_err(|e| ScheduleError(format!("{e} in {text:?}")))?;
        }
        let matcher = matcher(&sets, dom_star, dow_star)
            .map_err(|e| ScheduleError(format!("cron expression {text:?} refused: {e}")))?;
        let words = words(&sets, seconds, dom_star, dow_star);
        Ok(Cron { text, sets, dom_star, dow_star, words, matcher })
    }

    /// True when it fires at seconds other than :00 (only a 6-field
    /// expression can).
    pub(super) fn has_seconds(&self) -> bool {
        self.sets[0] != 1
    }

    /// The first matching wall-clock time strictly after `t`.
    pub(super) fn next_after(&self, t: NaiveDateTime) -> Option<NaiveDateTime> {
        // Matches are whole seconds, so "after t" is "at or after the next
        // whole second".
        let from = t.with_nanosecond(0)?.checked_add_signed(TimeDelta::seconds(1))?;
        self.matcher.find_next_occurrence(&from, true).ok()
    }

    /// The parsed sets, for [`proto::words`].
    pub(super) fn words(&self) -> &proto::words::CronFields {
        &self.words
    }
}

fn words(sets: &[u64; 6], seconds: bool, dom_star: bool, dow_star: bool) -> proto::words::CronFields {
    let values = |i: usize| (0..64u8).filter(|v| sets[i] & 1 << v != 0).collect::<Vec<u8>>();
    proto::words::CronFields {
        seconds: seconds.then(|| values(0)),
        minutes: values(1),
        hours: values(2),
        days_of_month: (!dom_star).then(|| values(3)),
        months: values(4),
        days_of_week: (!dow_star).then(|| values(5)),
    }
}

impl fmt::Display for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn expand_alias(text: &str) -> Result<String, ScheduleError> {
    if !text.starts_with('@') {
        return Ok(text.to_string());
    }
    match ALIASES.iter().find(|(alias, _)| alias.eq_ignore_ascii_case(text)) {
        Some((_, expanded)) => Ok(expanded.to_string()),
        None => {
            let names: Vec<&str> = ALIASES.iter().map(|(a, _)| *a).collect();
            Err(ScheduleError(format!("unknown cron alias {text:?}: expected one of {}", names.join(" "))))
        }
    }
}

/// A field's set as a bit mask; errors name the field, not the expression
/// (the caller adds that).
fn parse_field(field: &str, spec: &FieldSpec) -> Result<u64, String> {
    let name = spec.name;
    let mut set = 0u64;
    for item in field.split(',') {
        if item.is_empty() {
            return Err(format!("{name} {field:?} has an empty list element"));
        }
        set |= parse_item(item, spec)?;
    }
    Ok(set)
}

fn parse_item(item: &str, spec: &FieldSpec) -> Result<u64, String> {
    let (name, min, max) = (spec.name, spec.min, spec.max);
    let (range, step) = match item.split_once('/') {
        Some((range, step)) => {
            let step = number(step)
                .filter(|s| (1..=u32::from(max)).contains(s))
                .ok_or_else(|| format!("{name} step {step:?} in {item:?}: expected a number 1-{max}"))?;
            if range != "*" && !range.contains('-') {
                return Err(format!("{name} {item:?}: a step goes after * or a range A-B, like */{step}"));
            }
            (range, step)
        }
        None => (item, 1),
    };
    let (lo, hi) = if range == "*" || range == "?" {
        if range == "?" && !matches!(name, "day-of-month" | "day-of-week") {
            return Err(format!("{name} \"?\": only day-of-month and day-of-week take ?, expected * here"));
        }
        (min, if name == "day-of-week" { 6 } else { max })
    } else if let Some((a, b)) = range.split_once('-') {
        let (a, mut b) = (value(a, spec)?, value(b, spec)?);
        // `FRI-SUN`: Sunday ending a range after Monday is day 7.
        if name == "day-of-week" && a > 0 && b == 0 {
            b = 7;
        }
        if a > b {
            return Err(format!("{name} range {range:?} is backwards: expected A-B with A <= B"));
        }
        (a, b)
    } else {
        let v = value(range, spec)?;
        (v, v)
    };
    Ok((lo..=hi).step_by(step as usize).fold(0, |set, v| set | 1 << v))
}

/// One value: a number in range, or (month, day-of-week) a 3-letter name.
fn value(s: &str, spec: &FieldSpec) -> Result<u8, String> {
    let (name, min, max) = (spec.name, spec.min, spec.max);
    if let Some(n) = number(s) {
        return match u8::try_from(n) {
            Ok(v) if (min..=max).contains(&v) => Ok(v),
            _ => Err(format!("{name} {s:?} out of {min}-{max}")),
        };
    }
    if let Some(i) = spec.names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
        return Ok(min + i as u8);
    }
    Err(format!("{name} {s:?}: expected a number {min}-{max}{}", spec.named))
}

/// A plain decimal of at most 2 digits (no sign, no `+`).
fn number(s: &str) -> Option<u32> {
    let ok = !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| s.parse().ok()).flatten()
}

/// Refuses a day-of-month set no month of the month set has (called only
/// when day-of-week is `*`, so it cannot rescue the expression).
fn check_day_exists(days: u64, months: u64) -> Result<(), String> {
    const LONGEST: [u8; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let fits = (1..=12).any(|m| months & 1 << m != 0 && days & (1u64 << (LONGEST[m - 1] + 1)).wrapping_sub(1) != 0);
    if fits {
        return Ok(());
    }
    Err("never fires: no month in the month field has a day of the day-of-month field".to_string())
}

/// The croner matcher for our sets, written as plain numeric lists.
fn matcher(sets: &[u64; 6], dom_star: bool, dow_star: bool) -> Result<croner::Cron, croner::errors::CronError> {
    let list = |set: u64| {
        let values: Vec<String> = (0..64).filter(|v| set & 1 << v != 0).map(|v: u32| v.to_string()).collect();
        values.join(",")
    };
    let mut fields: Vec<String> = sets.iter().map(|&s| list(s)).collect();
    if dom_star {
        fields[3] = "*".into();
    }
    if dow_star {
        fields[5] = "*".into();
    }
    CronParser::builder().seconds(Seconds::Required).build().parse(&fields.join(" "))
}
