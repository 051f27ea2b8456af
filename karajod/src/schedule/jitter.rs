//! `jitter` (SPEC 16): how long after its slot a timer run starts, a
//! pseudo-random offset in `[0, jitter)` that is a pure function of the job
//! ID and the slot, so every start and every node agrees on it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// The offset of `slot` for job `id`, under `max` (zero when `max` is).
pub fn offset(id: &str, slot: DateTime<Utc>, max: Duration) -> Duration {
    let max_ns = max.as_nanos().min(u128::from(u64::MAX)) as u64;
    if max_ns == 0 {
        return Duration::ZERO;
    }
    // SHA-256 rather than std's hasher, whose output may change between
    // Rust releases; a NUL keeps "a" + slot 12 apart from "a1" + slot 2.
    let mut h = Sha256::new();
    h.update(id.as_bytes());
    h.update([0]);
    h.update(slot.timestamp().to_be_bytes());
    h.update(slot.timestamp_subsec_nanos().to_be_bytes());
    let digest = h.finalize();
    let word = u64::from_be_bytes(digest[..8].try_into().expect("a SHA-256 digest has 32 bytes"));
    Duration::from_nanos(word % max_ns)
}

/// `slot` moved on by its offset: when the run is due.
pub fn delayed(id: &str, slot: DateTime<Utc>, max: Duration) -> DateTime<Utc> {
    let offset = chrono::TimeDelta::from_std(offset(id, slot, max)).unwrap_or_default();
    slot.checked_add_signed(offset).unwrap_or(slot)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_offset_is_stable_under_the_bound_and_spread() {
        let slot = Utc.with_ymd_and_hms(2024, 5, 1, 2, 30, 0).unwrap();
        let max = Duration::from_secs(30);
        assert_eq!(offset("backup", slot, max), offset("backup", slot, max), "a pure function");
        assert_eq!(offset("backup", slot, Duration::ZERO), Duration::ZERO);
        // A fixed value (SHA-256 of "backup\0", the slot's seconds and
        // nanoseconds, first 8 bytes big-endian, mod 30 s): the same on every
        // node, after every restart and with every Rust release.
        assert_eq!(offset("backup", slot, max).as_nanos(), 29_030_159_120);
        let offsets: Vec<Duration> =
            (0..200).map(|m| offset("backup", slot + chrono::TimeDelta::minutes(m), max)).collect();
        assert!(offsets.iter().all(|o| *o < max));
        let distinct: std::collections::HashSet<_> = offsets.iter().map(|o| o.as_secs()).collect();
        assert!(distinct.len() > 20, "offsets spread over the range: {distinct:?}");
        assert_ne!(offset("a", slot, max), offset("b", slot, max));
    }
}
