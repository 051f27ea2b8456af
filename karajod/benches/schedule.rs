//! `next_after` in ns per call: a cron expression in a DST zone against the
//! karajo form of the same schedule in UTC (the SPEC 3 baseline), side by
//! side in one run. `cargo bench -p karajod --bench schedule`.
//!
//! Each case walks firing to firing (t = next) from 2024-01-01 for a year
//! or more, so DST changes and month ends are inside the sample, and takes
//! the best of 5 rounds.

use std::hint::black_box;
use std::time::Instant;

use chrono::{DateTime, TimeZone, Utc};
use karajod::schedule::{Schedule, parse_zone};

const CALLS: usize = 20_000;
const ROUNDS: usize = 5;

fn ns_per_call(schedule: &Schedule) -> f64 {
    let start: DateTime<Utc> = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    let mut best = f64::MAX;
    for _ in 0..ROUNDS {
        let mut t = start;
        let began = Instant::now();
        for _ in 0..CALLS {
            t = black_box(schedule.next_after(black_box(t)));
        }
        best = best.min(began.elapsed().as_nanos() as f64 / CALLS as f64);
    }
    best
}

fn main() {
    let cases = [
        ("karajo daily@02:30, UTC (baseline)", "daily@02:30", "UTC"),
        ("karajo daily@02:30, Europe/Berlin", "daily@02:30", "Europe/Berlin"),
        ("cron 30 2 * * *, UTC", "30 2 * * *", "UTC"),
        ("cron 30 2 * * *, Europe/Berlin", "30 2 * * *", "Europe/Berlin"),
        ("cron 30 2 * * 1-5, America/New_York", "30 2 * * 1-5", "America/New_York"),
        ("karajo hourly@0,15,30,45, UTC", "hourly@0,15,30,45", "UTC"),
        ("cron */15 * * * *, Europe/Berlin", "*/15 * * * *", "Europe/Berlin"),
        ("cron */10 * * * * *, Europe/Berlin", "*/10 * * * * *", "Europe/Berlin"),
    ];
    let mut baseline = None;
    println!("{:<40} {:>12} {:>10}", "schedule", "ns/call", "ratio");
    for (name, text, zone) in cases {
        let s: Schedule = text.parse().expect("a valid schedule");
        let s = s.in_zone(parse_zone(zone).expect("a known zone"));
        let ns = ns_per_call(&s);
        let base = *baseline.get_or_insert(ns);
        println!("{name:<40} {ns:>12.0} {:>9.1}x", ns / base);
    }
}
