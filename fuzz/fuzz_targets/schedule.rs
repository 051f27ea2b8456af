//! The schedule parser: never panics; an accepted schedule's next firing
//! after any time t (years 1970-2400) is strictly after t, on second 0 of a
//! minute, within 62 days; every time in [t, next) gives the same next
//! firing; and the firing after that is strictly later again.
//! (`describe` is prose for people, not schedule syntax, so it is only
//! checked to be non-empty.)
#![no_main]

use chrono::{DateTime, Duration, Timelike, Utc};
use karajod::schedule::Schedule;
use libfuzzer_sys::fuzz_target;

/// 1970-01-01 to 2400-01-01 in seconds.
const SPAN: u64 = 13_569_465_600;

fuzz_target!(|data: &[u8]| {
    if data.len() < 12 {
        return;
    }
    let (head, rest) = data.split_at(12);
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let Ok(schedule) = text.parse::<Schedule>() else { return };
    assert_eq!(text.parse::<Schedule>().ok().as_ref(), Some(&schedule), "parsing is not a function of {text:?}");
    assert!(!schedule.describe().is_empty(), "{text:?} describes as nothing");
    let secs = u64::from_le_bytes(head[..8].try_into().unwrap()) % SPAN;
    let nanos = u32::from_le_bytes(head[8..].try_into().unwrap()) % 1_000_000_000;
    let t = DateTime::<Utc>::from_timestamp(secs as i64, nanos).expect("in range");
    let next = schedule.next_after(t);
    assert!(next > t, "{text:?}: next_after({t}) = {next} is not after it");
    assert_eq!((next.second(), next.nanosecond()), (0, 0), "{text:?}: next_after({t}) = {next} is not on a minute");
    assert!(next - t <= Duration::days(62), "{text:?}: next_after({t}) = {next} is too far");
    for before in [t, next - Duration::nanoseconds(1), next - Duration::minutes(1), t + (next - t) / 2] {
        if before >= t {
            assert_eq!(schedule.next_after(before), next, "{text:?}: next_after({before}) is not {next} (from {t})");
        }
    }
    let after = schedule.next_after(next);
    assert!(after > next, "{text:?}: the firing after {next} is {after}");
});
