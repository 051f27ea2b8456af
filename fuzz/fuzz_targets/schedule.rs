//! The schedule parser, karajo forms and cron expressions, read in a time
//! zone: never panics; an accepted schedule's next firing after any time t
//! (years 1970-2400) is strictly after t, on a whole second (second 0 unless
//! it has a seconds field), within 8 years (Feb 29 under a cron day-of-month
//! can be that far: 2096 to 2104); every time in [t, next) gives the same
//! next firing; and the firing after that is strictly later again.
//! (`describe` is prose for people, not schedule syntax, so it is only
//! checked to be non-empty.)
#![no_main]

use chrono::{DateTime, Duration, Timelike, Utc};
use karajod::schedule::{Schedule, parse_zone};
use libfuzzer_sys::fuzz_target;

/// 1970-01-01 to 2400-01-01 in seconds.
const SPAN: u64 = 13_569_465_600;

/// Zones with DST both ways, a 30-minute DST, a half-hour offset, none.
const ZONES: [&str; 6] = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Apia"];

fuzz_target!(|data: &[u8]| {
    if data.len() < 12 {
        return;
    }
    let (head, rest) = data.split_at(12);
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let Ok(schedule) = text.parse::<Schedule>() else { return };
    assert_eq!(text.parse::<Schedule>().ok().as_ref(), Some(&schedule), "parsing is not a function of {text:?}");
    // The last header byte also feeds the nanoseconds: the corpus kept its
    // 12-byte header when zones came in.
    let zone = parse_zone(ZONES[usize::from(head[11]) % ZONES.len()]).expect("a known zone");
    let schedule = schedule.in_zone(zone);
    assert!(!schedule.describe().is_empty(), "{text:?} describes as nothing");
    let secs = u64::from_le_bytes(head[..8].try_into().unwrap()) % SPAN;
    let nanos = u32::from_le_bytes(head[8..].try_into().unwrap()) % 1_000_000_000;
    let t = DateTime::<Utc>::from_timestamp(secs as i64, nanos).expect("in range");
    let next = schedule.next_after(t);
    let on = |n: DateTime<Utc>| n.nanosecond() == 0 && (schedule.has_seconds() || n.second() == 0);
    assert!(next > t, "{text:?} in {zone}: next_after({t}) = {next} is not after it");
    assert!(on(next), "{text:?} in {zone}: next_after({t}) = {next} is not on a slot's second");
    assert!(next - t <= Duration::days(8 * 366 + 2), "{text:?} in {zone}: next_after({t}) = {next} is too far");
    for before in [t, next - Duration::nanoseconds(1), next - Duration::seconds(1), t + (next - t) / 2] {
        if before >= t {
            let again = schedule.next_after(before);
            assert_eq!(again, next, "{text:?} in {zone}: next_after({before}) is not {next} (from {t})");
        }
    }
    let after = schedule.next_after(next);
    assert!(after > next, "{text:?} in {zone}: the firing after {next} is {after}");
});
