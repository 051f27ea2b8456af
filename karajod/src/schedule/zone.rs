//! Time zones (SPEC 16): IANA names through `chrono-tz`, and the mapping of
//! a schedule's wall-clock slots to instants across DST changes.
//!
//! The rule, as one formula: a local slot `L` fires at the first instant at
//! which the zone's clock has shown `L` or later. So a slot skipped by a gap
//! fires once, at the first instant after the gap (02:30 on the day 02:00
//! jumps to 03:00 fires at 03:00, with the 03:00 slot, once), and a slot the
//! clock shows twice fires once, at its first occurrence. That instant never
//! decreases as `L` grows, so "the next firing after `t`" is the slot after
//! the latest wall-clock time shown up to `t`.
//!
//! Invariant: zone offsets change at whole seconds (as in the tz database),
//! which the binary searches here rely on.

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use super::ScheduleError;

/// The longest gap searched for (Samoa skipped a whole day in 2011).
const MAX_GAP: TimeDelta = TimeDelta::hours(48);

/// Parses an IANA zone name such as `Europe/Berlin` (exact case, as the tz
/// database spells it; `UTC` too).
pub fn parse_zone(name: &str) -> Result<Tz, ScheduleError> {
    let name = name.trim();
    name.parse::<Tz>().map_err(|_| {
        let hint = match chrono_tz::TZ_VARIANTS.iter().find(|tz| tz.name().eq_ignore_ascii_case(name)) {
            Some(tz) => format!(" (did you mean {}?)", tz.name()),
            None => String::new(),
        };
        ScheduleError(format!(
            "unknown time zone {name:?}{hint}: expected an IANA name like Europe/Berlin, America/New_York or UTC"
        ))
    })
}

/// The first firing instant strictly after `t` of a schedule whose
/// wall-clock slots `next_local` finds (the first slot strictly after a
/// given wall-clock time).
pub(super) fn next_after(
    tz: Tz,
    t: DateTime<Utc>,
    next_local: impl Fn(NaiveDateTime) -> Option<NaiveDateTime>,
) -> Option<DateTime<Utc>> {
    if tz == Tz::UTC {
        return next_local(t.naive_utc()).map(|l| l.and_utc());
    }
    first_instant_at_or_after(tz, next_local(high_water(tz, t))?)
}

/// The zone's offset at instant `u`, in seconds.
fn offset_secs(tz: Tz, u: DateTime<Utc>) -> i32 {
    tz.offset_from_utc_datetime(&u.naive_utc()).fix().local_minus_utc()
}

fn local(tz: Tz, u: DateTime<Utc>) -> NaiveDateTime {
    u.with_timezone(&tz).naive_local()
}

/// The latest wall-clock time the zone shows at or before `t`: `t`'s own,
/// except after a backward change, while the clock repeats times it
/// already showed; then the time just before the change.
fn high_water(tz: Tz, t: DateTime<Utc>) -> NaiveDateTime {
    let now = local(tz, t);
    let LocalResult::Ambiguous(first, _) = tz.from_local_datetime(&now) else { return now };
    let first = first.to_utc();
    let off_now = offset_secs(tz, t);
    if offset_secs(tz, first) == off_now {
        return now;
    }
    // The change lies in (first, t]: the first second with today's offset.
    let change = first_second(first, t, |u| offset_secs(tz, u) == off_now);
    local(tz, change - TimeDelta::nanoseconds(1))
}

/// The first instant at which the zone's clock shows `l` or later.
pub(super) fn first_instant_at_or_after(tz: Tz, l: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&l) {
        LocalResult::Single(u) => Some(u.to_utc()),
        LocalResult::Ambiguous(a, b) => Some(a.to_utc().min(b.to_utc())),
        LocalResult::None => {
            // In a gap: the instant the clock jumps past `l`.
            let after = (1..=MAX_GAP.num_minutes() / 15).find_map(|k| {
                let probe = l.checked_add_signed(TimeDelta::minutes(15 * k))?;
                tz.from_local_datetime(&probe).earliest()
            })?;
            let after = after.to_utc();
            Some(first_second(after - MAX_GAP, after, |u| local(tz, u) >= l))
        }
    }
}

/// The first whole second in `(lo, hi]` where `pred` holds, given that it
/// holds at `hi` and, once true, stays true up to `hi`.
fn first_second(lo: DateTime<Utc>, hi: DateTime<Utc>, pred: impl Fn(DateTime<Utc>) -> bool) -> DateTime<Utc> {
    let (mut lo, mut hi) = (lo.timestamp(), hi.timestamp());
    let at = |s: i64| DateTime::<Utc>::from_timestamp(s, 0).unwrap_or(DateTime::<Utc>::MAX_UTC);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if pred(at(mid)) { hi = mid } else { lo = mid }
    }
    at(hi)
}

/// A DST change and how it moves the wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// The instant of the change.
    pub at: DateTime<Utc>,
    /// Wall-clock times in `[from, to)` are skipped (a gap, `to > from`) or
    /// shown twice (an overlap, written here with `from` > `to`: the clock
    /// goes back from `from` to `to`).
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
}

impl Change {
    pub fn is_gap(&self) -> bool {
        self.to > self.from
    }

    /// The affected wall-clock range, earliest first.
    pub fn range(&self) -> (NaiveDateTime, NaiveDateTime) {
        if self.is_gap() { (self.from, self.to) } else { (self.to, self.from) }
    }
}

/// The offset changes of `tz` in `[from, until)`. Scans hourly, so two
/// changes less than an hour apart (none in today's database) would hide.
pub fn changes(tz: Tz, from: DateTime<Utc>, until: DateTime<Utc>) -> Vec<Change> {
    let mut out = Vec::new();
    if tz == Tz::UTC {
        return out;
    }
    let mut t = from;
    while t < until {
        let next = t + TimeDelta::hours(1);
        let (before, after) = (offset_secs(tz, t), offset_secs(tz, next));
        if before != after {
            let at = first_second(t, next, |u| offset_secs(tz, u) == after);
            let naive = at.naive_utc();
            out.push(Change {
                at,
                from: naive + TimeDelta::seconds(i64::from(before)),
                to: naive + TimeDelta::seconds(i64::from(after)),
            });
        }
        t = next;
    }
    out
}
