//! Zones: DST gaps and overlaps by hand, and `next_after` against an
//! independent brute-force oracle in five zones.

use std::sync::OnceLock;

use chrono::{DateTime, Datelike, NaiveDateTime, Offset, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use chrono_tz::{America, Asia, Australia, Europe};

use super::tests_util::at;
use super::{Schedule, parse_zone};

fn zoned(text: &str, tz: Tz) -> Schedule {
    let s: Schedule = text.parse().unwrap_or_else(|e| panic!("{text:?} should parse: {e}"));
    s.in_zone(tz)
}

/// The next `n` firings after `t`, as RFC 3339 UTC.
fn firings(s: &Schedule, t: &str, n: usize) -> Vec<String> {
    let mut t = at(t);
    (0..n)
        .map(|_| {
            t = s.next_after(t);
            t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
        })
        .collect()
}

#[test]
fn a_slot_in_a_spring_gap_runs_once_at_the_end_of_the_gap() {
    // Berlin, 2024-03-31: 02:00 CET jumps to 03:00 CEST at 01:00 UTC.
    let s = zoned("30 2 * * *", Europe::Berlin);
    assert_eq!(firings(&s, "2024-03-30T12:00:00Z", 2), ["2024-03-31T01:00:00Z", "2024-04-01T00:30:00Z"]);
    // Slots in the gap and the 03:00 slot run once, together.
    let s = zoned("0,30 2-3 * * *", Europe::Berlin);
    assert_eq!(
        firings(&s, "2024-03-30T23:59:00Z", 3),
        ["2024-03-31T01:00:00Z", "2024-03-31T01:30:00Z", "2024-04-01T00:00:00Z"]
    );
    // New York, 2024-03-10: 02:00 EST jumps to 03:00 EDT at 07:00 UTC; a karajo form too.
    let s = zoned("daily@02:30", America::New_York);
    assert_eq!(firings(&s, "2024-03-09T12:00:00Z", 2), ["2024-03-10T07:00:00Z", "2024-03-11T06:30:00Z"]);
    // Lord Howe, 2024-10-06: 02:00 jumps to 02:30 (a 30-minute change) at 15:30 UTC the day before.
    let s = zoned("15 2 * * *", Australia::Lord_Howe);
    assert_eq!(firings(&s, "2024-10-05T00:00:00Z", 2), ["2024-10-05T15:30:00Z", "2024-10-06T15:15:00Z"]);
    // Seconds right through the gap.
    let s = zoned("*/20 * * * * *", Europe::Berlin);
    assert_eq!(
        firings(&s, "2024-03-31T00:59:30Z", 3),
        ["2024-03-31T00:59:40Z", "2024-03-31T01:00:00Z", "2024-03-31T01:00:20Z"]
    );
}

#[test]
fn a_slot_in_an_autumn_overlap_runs_once_at_its_first_occurrence() {
    // Berlin, 2024-10-27: 03:00 CEST goes back to 02:00 CET at 01:00 UTC.
    let s = zoned("30 2 * * *", Europe::Berlin);
    assert_eq!(firings(&s, "2024-10-26T12:00:00Z", 2), ["2024-10-27T00:30:00Z", "2024-10-28T01:30:00Z"]);
    // From inside the repeated hour, the repeated slots are not run again.
    assert_eq!(firings(&s, "2024-10-27T01:10:00Z", 1), ["2024-10-28T01:30:00Z"]);
    let s = zoned("*/30 * * * *", Europe::Berlin);
    assert_eq!(
        firings(&s, "2024-10-27T00:15:00Z", 3),
        ["2024-10-27T00:30:00Z", "2024-10-27T02:00:00Z", "2024-10-27T02:30:00Z"]
    );
    // Lord Howe, 2024-04-07: 02:00 goes back to 01:30 at 15:00 UTC the day before.
    let s = zoned("45 1 * * *", Australia::Lord_Howe);
    assert_eq!(firings(&s, "2024-04-06T00:00:00Z", 2), ["2024-04-06T14:45:00Z", "2024-04-07T15:15:00Z"]);
}

#[test]
fn zones_without_dst_shift_every_slot_alike() {
    let s = zoned("30 2 * * *", Asia::Kolkata);
    assert_eq!(firings(&s, "2024-03-30T12:00:00Z", 2), ["2024-03-30T21:00:00Z", "2024-03-31T21:00:00Z"]);
    assert!(s.dst_changes(at("2024-01-01T00:00:00Z"), at("2025-01-01T00:00:00Z")).is_empty());
}

#[test]
fn dst_changes_lists_the_changes_that_move_a_slot() {
    let year = (at("2024-01-01T00:00:00Z"), at("2025-01-01T00:00:00Z"));
    let hits = zoned("30 2 * * *", Europe::Berlin).dst_changes(year.0, year.1);
    let kinds: Vec<(String, bool)> = hits.iter().map(|c| (c.at.to_rfc3339(), c.is_gap())).collect();
    assert_eq!(
        kinds,
        [("2024-03-31T01:00:00+00:00".to_string(), true), ("2024-10-27T01:00:00+00:00".to_string(), false)]
    );
    assert!(zoned("0 12 * * *", Europe::Berlin).dst_changes(year.0, year.1).is_empty());
    // Only Sundays hit; a Monday job does not.
    assert!(zoned("30 2 * * 1", Europe::Berlin).dst_changes(year.0, year.1).is_empty());
    assert_eq!(zoned("*/1 * * * * *", America::New_York).dst_changes(year.0, year.1).len(), 2);
}

#[test]
fn zone_names_are_checked() {
    assert_eq!(parse_zone("Europe/Berlin").unwrap(), Europe::Berlin);
    assert_eq!(parse_zone(" UTC ").unwrap(), Tz::UTC);
    let e = parse_zone("Europe/Berln").unwrap_err().to_string();
    assert!(e.starts_with("unknown time zone \"Europe/Berln\": expected an IANA name"), "{e}");
    let e = parse_zone("europe/berlin").unwrap_err().to_string();
    assert!(e.contains("did you mean Europe/Berlin?"), "{e}");
    assert!(parse_zone("").is_err());
}

/// `next_after` in zones against a brute force that walks UTC step by step
/// (a second for 6 fields, a minute otherwise) and fires when the zone's
/// wall clock first reaches a matching time: it shares no code with
/// `zone`, `cron` or croner.
mod oracle {
    use super::*;
    use proptest::collection::vec;
    use proptest::prelude::*;

    const ZONES: [Tz; 5] = [Europe::Berlin, America::New_York, Australia::Lord_Howe, Asia::Kolkata, Tz::UTC];

    #[derive(Debug, Clone)]
    enum Item {
        Star,
        StarStep(u8),
        Value(u8),
        Range(u8, u8),
        RangeStep(u8, u8, u8),
    }

    /// One field: its items, and whether values are written as names.
    #[derive(Debug, Clone)]
    struct Field {
        items: Vec<Item>,
        names: bool,
    }

    #[derive(Debug, Clone)]
    enum Spec {
        /// Six fields when the first (seconds) is there.
        Cron(Option<Field>, [Field; 5]),
        /// A karajo form: `daily@` these (hour, minute) pairs.
        Daily(Vec<(u8, u8)>),
    }

    const NAMES: [&[&str]; 5] = [
        &[],
        &[],
        &[],
        &["jan", "FEB", "Mar", "apr", "MAY", "jun", "Jul", "aug", "SEP", "oct", "Nov", "DEC"],
        &["sun", "MON", "Tue", "wed", "THU", "fri", "Sat", "7"],
    ];
    /// (min, max) of minute, hour, day-of-month, month, day-of-week.
    const RANGES: [(u8, u8); 5] = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)];

    fn render_value(v: u8, field: usize, names: bool) -> String {
        match NAMES[field] {
            n if names && !n.is_empty() => n[usize::from(v - RANGES[field].0)].to_string(),
            _ => v.to_string(),
        }
    }

    fn render_field(f: &Field, field: usize) -> String {
        let v = |x: u8| render_value(x, field, f.names);
        let items: Vec<String> = f
            .items
            .iter()
            .map(|i| match *i {
                Item::Star => "*".into(),
                Item::StarStep(s) => format!("*/{s}"),
                Item::Value(a) => v(a),
                Item::Range(a, b) => format!("{}-{}", v(a), v(b)),
                Item::RangeStep(a, b, s) => format!("{}-{}/{s}", v(a), v(b)),
            })
            .collect();
        items.join(",")
    }

    fn render(spec: &Spec) -> String {
        match spec {
            Spec::Cron(secs, fields) => {
                let mut parts: Vec<String> = secs.iter().map(|s| render_field(s, 0)).collect();
                parts.extend(fields.iter().enumerate().map(|(i, f)| render_field(f, i)));
                parts.join(" ")
            }
            Spec::Daily(times) => {
                let times: Vec<String> = times.iter().map(|(h, m)| format!("{h:02}:{m:02}")).collect();
                format!("daily@{}", times.join(","))
            }
        }
    }

    /// The values a field matches, as a bit set; day-of-week 7 counts as 0.
    fn set(f: &Field, (min, max): (u8, u8)) -> u64 {
        let mut bits = 0u64;
        for i in &f.items {
            let (a, b, s) = match *i {
                Item::Star => (min, max, 1),
                Item::StarStep(s) => (min, max, s),
                Item::Value(a) => (a, a, 1),
                Item::Range(a, b) => (a, b, 1),
                Item::RangeStep(a, b, s) => (a, b, s),
            };
            let mut v = a;
            while v <= b {
                bits |= 1 << v;
                v += s;
            }
        }
        if max == 7 && bits & 1 << 7 != 0 {
            bits |= 1;
        }
        bits
    }

    fn is_star(f: &Field) -> bool {
        matches!(f.items.as_slice(), [Item::Star])
    }

    /// Does wall-clock time `l` match the spec?
    struct Rule {
        spec: Spec,
        sets: [u64; 6],
    }

    impl Rule {
        fn new(spec: &Spec) -> Rule {
            let mut sets = [1u64; 6];
            if let Spec::Cron(secs, fields) = spec {
                sets[0] = secs.as_ref().map_or(1, |s| set(s, (0, 59)));
                for (i, f) in fields.iter().enumerate() {
                    sets[i + 1] = set(f, RANGES[i]);
                }
            }
            Rule { spec: spec.clone(), sets }
        }

        fn matches(&self, l: NaiveDateTime) -> bool {
            let bit = |i: usize, v: u32| self.sets[i] & 1 << v != 0;
            match &self.spec {
                Spec::Daily(times) => {
                    l.second() == 0 && times.iter().any(|&(h, m)| (l.hour(), l.minute()) == (h.into(), m.into()))
                }
                Spec::Cron(_, fields) => {
                    let dom = bit(3, l.day());
                    let dow = bit(5, l.weekday().num_days_from_sunday());
                    let day = match (is_star(&fields[2]), is_star(&fields[4])) {
                        (true, true) => true,
                        (true, false) => dow,
                        (false, true) => dom,
                        (false, false) => dom || dow,
                    };
                    day && bit(0, l.second()) && bit(1, l.minute()) && bit(2, l.hour()) && bit(4, l.month())
                }
            }
        }

        fn step(&self) -> i64 {
            if matches!(&self.spec, Spec::Cron(Some(_), _)) { 1 } else { 60 }
        }
    }

    fn wall(tz: Tz, u: i64) -> NaiveDateTime {
        let utc = DateTime::<Utc>::from_timestamp(u, 0).unwrap().naive_utc();
        utc + TimeDelta::seconds(i64::from(tz.offset_from_utc_datetime(&utc).fix().local_minus_utc()))
    }

    /// The first firing after `t` within `window` seconds, or `None`.
    fn oracle_next(rule: &Rule, tz: Tz, t: DateTime<Utc>, window: i64) -> Option<i64> {
        let step = rule.step();
        let first = t.timestamp().div_euclid(step) * step + step;
        // The highest wall-clock time shown up to t (a backward change may
        // have passed less than 3 hours ago).
        let t_wall = t.with_timezone(&tz).naive_local();
        let mut high = (1..=3 * 3600 / step).map(|k| wall(tz, first - k * step)).fold(t_wall, NaiveDateTime::max);
        let mut u = first;
        while u <= t.timestamp() + window {
            let now = wall(tz, u);
            let mut l = high.with_nanosecond(0).unwrap();
            l -= TimeDelta::seconds(i64::from(l.second()) % step);
            l += TimeDelta::seconds(step);
            while l <= now {
                if rule.matches(l) {
                    return Some(u);
                }
                l += TimeDelta::seconds(step);
            }
            high = high.max(now);
            u += step;
        }
        None
    }

    /// The DST changes of 2000-2040 in a zone: where start points cluster.
    fn changes(tz: Tz) -> &'static [i64] {
        static ALL: OnceLock<Vec<Vec<i64>>> = OnceLock::new();
        let all = ALL.get_or_init(|| {
            ZONES
                .iter()
                .map(|&tz| {
                    let off = |u: i64| wall(tz, u) - DateTime::<Utc>::from_timestamp(u, 0).unwrap().naive_utc();
                    let (start, end) = (at("2000-01-01T00:00:00Z").timestamp(), at("2040-01-01T00:00:00Z").timestamp());
                    (start..end).step_by(3600).filter(|&u| off(u) != off(u + 3600)).collect()
                })
                .collect()
        });
        &all[ZONES.iter().position(|&z| z == tz).unwrap()]
    }

    fn item(min: u8, max: u8) -> impl Strategy<Value = Item> {
        prop_oneof![
            2 => Just(Item::Star),
            1 => (1..=max.min(20)).prop_map(Item::StarStep),
            3 => (min..=max).prop_map(Item::Value),
            1 => (min..=max, min..=max).prop_map(|(a, b)| Item::Range(a.min(b), a.max(b))),
            1 => (min..=max, min..=max, 1..=max.min(12)).prop_map(|(a, b, s)| Item::RangeStep(a.min(b), a.max(b), s)),
        ]
    }

    /// Mostly `*` (so firings are close together); `weight_star` of 10.
    fn field(min: u8, max: u8, weight_star: u32) -> impl Strategy<Value = Field> {
        let star = Field { items: vec![Item::Star], names: false };
        prop_oneof![
            weight_star => Just(star),
            10 - weight_star => (vec(item(min, max), 1..4), any::<bool>()).prop_map(|(items, names)| Field { items, names }),
        ]
    }

    fn spec() -> impl Strategy<Value = Spec> {
        let hours = prop_oneof![
            field(0, 23, 3),
            vec(0u8..=4, 1..3).prop_map(|v| Field { items: v.into_iter().map(Item::Value).collect(), names: false })
        ];
        let five = (field(0, 59, 3), hours, field(1, 31, 7), field(1, 12, 8), field(0, 7, 7));
        let cron = (proptest::option::weighted(0.4, field(0, 59, 3)), five)
            .prop_map(|(secs, (m, h, dom, mon, dow))| Spec::Cron(secs, [m, h, dom, mon, dow]));
        let daily =
            vec((prop_oneof![0u8..24, 0u8..=4], prop_oneof![0u8..60, Just(0), Just(30)]), 1..4).prop_map(Spec::Daily);
        prop_oneof![4 => cron, 1 => daily]
    }

    /// A start instant: mostly within hours of a DST change of the zone.
    fn start(tz_index: usize, near: u32, offset: i64) -> DateTime<Utc> {
        let changes = changes(ZONES[tz_index]);
        let base = if changes.is_empty() || near == 0 {
            at("2000-01-01T00:00:00Z").timestamp() + (offset.rem_euclid(40 * 365 * 86400))
        } else {
            changes[near as usize % changes.len()] + offset % (2 * 86400)
        };
        DateTime::<Utc>::from_timestamp(base, (offset.unsigned_abs() % 3 * 250_000_000) as u32).unwrap()
    }

    fn config() -> ProptestConfig {
        let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok());
        ProptestConfig { cases: cases.unwrap_or(1500), ..ProptestConfig::default() }
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn next_after_in_a_zone_matches_brute_force(
            spec in spec(), tz_index in 0..ZONES.len(), near in prop_oneof![3 => 1u32.., 1 => Just(0u32)], offset in any::<i64>()
        ) {
            let tz = ZONES[tz_index];
            let text = render(&spec);
            let schedule = match text.parse::<Schedule>() {
                Ok(s) => s.in_zone(tz),
                Err(e) if e.0.contains("never fires") => return Ok(()),
                Err(e) => return Err(TestCaseError::fail(format!("{text:?}: {e}"))),
            };
            let rule = Rule::new(&spec);
            let t = start(tz_index, near, offset);
            // Seconds schedules walk 3 hours, minute ones 4 days.
            let window = if rule.step() == 1 { 3 * 3600 } else { 4 * 86400 };
            let got = schedule.next_after(t);
            match oracle_next(&rule, tz, t, window) {
                Some(want) => prop_assert_eq!(got.timestamp(), want, "{} in {} after {}: got {}", text, tz, t, got),
                None => prop_assert!(got.timestamp() > t.timestamp() + window, "{} in {} after {}: got {}, oracle none", text, tz, t, got),
            }
            prop_assert_eq!(got.nanosecond(), 0);
        }
    }
}
