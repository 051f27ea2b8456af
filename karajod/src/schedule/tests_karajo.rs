//! The karajo forms of SPEC 3 (in UTC): parsing, canonical display, errors,
//! and `next_after` against a brute-force minute-by-minute oracle.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};

use super::Schedule;
use super::tests_util::{at, err, next, sched};

#[test]
fn parses_every_form_with_defaults_to_canonical_display() {
    let cases = [
        ("minutely", "minutely"),
        ("hourly", "hourly@0"),
        ("hourly@30,0,15,45,15", "hourly@0,15,30,45"),
        ("hourly@05", "hourly@5"),
        ("daily", "daily@00:00"),
        ("daily@18:00, 6:00 ,00:00,12:00", "daily@00:00,06:00,12:00,18:00"),
        ("weekly", "weekly@Sunday@00:00"),
        ("weekly@Friday,Sunday", "weekly@Sunday,Friday@00:00"),
        ("weekly@Sunday,Tuesday,Friday@15:00", "weekly@Sunday,Tuesday,Friday@15:00"),
        ("weekly@sat,Mon,mon,monday@9:05,8:00", "weekly@Monday,Saturday@08:00,09:05"),
        ("monthly", "monthly@1@00:00"),
        ("monthly@15,1@18:00", "monthly@1,15@18:00"),
        ("monthly@31,07", "monthly@7,31@00:00"),
    ];
    for (input, canonical) in cases {
        let s = sched(input);
        assert_eq!(s.to_string(), canonical, "display of {input:?}");
        assert_eq!(sched(canonical), s, "canonical form of {input:?} reparses");
    }
}

#[test]
fn parsing_is_case_and_whitespace_insensitive() {
    assert_eq!(sched("MINUTELY"), sched("minutely"));
    assert_eq!(sched("  HoUrLy @ 0 , 00 "), sched("hourly"));
    assert_eq!(sched("Daily@0:00"), sched("daily"));
    assert_eq!(sched("WEEKLY@SUN@00:00"), sched("weekly"));
    assert_eq!(sched("weekly@fRiDaY,tUe"), sched("weekly@Tuesday,Friday"));
    assert_eq!(sched("Monthly@1"), sched("monthly"));
}

#[test]
fn rejects_bad_input_saying_what_and_where() {
    let cases = [
        (
            "",
            "empty schedule: expected minutely, hourly, daily, weekly, monthly or a cron expression like \"30 2 * * 1-5\"",
        ),
        (
            "yearly",
            "unknown schedule kind \"yearly\" in \"yearly\": expected minutely, hourly, daily, weekly, monthly or a cron expression like \"30 2 * * 1-5\"",
        ),
        (
            "Yearly@1",
            "unknown schedule kind \"Yearly\" in \"Yearly@1\": expected minutely, hourly, daily, weekly, monthly or a cron expression like \"30 2 * * 1-5\"",
        ),
        ("hourly@61", "invalid minute \"61\" in \"hourly@61\": expected 0-59"),
        ("hourly@-1", "invalid minute \"-1\" in \"hourly@-1\": expected 0-59"),
        ("hourly@+5", "invalid minute \"+5\" in \"hourly@+5\": expected 0-59"),
        ("hourly@005", "invalid minute \"005\" in \"hourly@005\": expected 0-59"),
        ("hourly@1,,2", "empty element in list \"1,,2\" of \"hourly@1,,2\""),
        ("hourly@", "empty element in list \"\" of \"hourly@\""),
        ("hourly@1,", "empty element in list \"1,\" of \"hourly@1,\""),
        ("hourly@1@2", "too many \"@\" parts in \"hourly@1@2\": expected hourly[@MINUTES]"),
        ("minutely@5", "too many \"@\" parts in \"minutely@5\": expected minutely"),
        ("minutely@", "too many \"@\" parts in \"minutely@\": expected minutely"),
        ("daily@25:00", "invalid time \"25:00\" in \"daily@25:00\": expected HH:MM with hour 0-23 and minute 00-59"),
        ("daily@24:00", "invalid time \"24:00\" in \"daily@24:00\": expected HH:MM with hour 0-23 and minute 00-59"),
        ("daily@12:60", "invalid time \"12:60\" in \"daily@12:60\": expected HH:MM with hour 0-23 and minute 00-59"),
        ("daily@12:5", "invalid time \"12:5\" in \"daily@12:5\": expected HH:MM with hour 0-23 and minute 00-59"),
        ("daily@12", "invalid time \"12\" in \"daily@12\": expected HH:MM with hour 0-23 and minute 00-59"),
        ("daily@:30", "invalid time \":30\" in \"daily@:30\": expected HH:MM with hour 0-23 and minute 00-59"),
        ("daily@012:30", "invalid time \"012:30\" in \"daily@012:30\": expected HH:MM with hour 0-23 and minute 00-59"),
        (
            "daily@1:30:00",
            "invalid time \"1:30:00\" in \"daily@1:30:00\": expected HH:MM with hour 0-23 and minute 00-59",
        ),
        ("daily@00:00@x", "too many \"@\" parts in \"daily@00:00@x\": expected daily[@TIMES]"),
        ("weekly@Funday", "invalid day \"Funday\" in \"weekly@Funday\": expected a day name like Sunday or Sun"),
        ("weekly@Su", "invalid day \"Su\" in \"weekly@Su\": expected a day name like Sunday or Sun"),
        ("weekly@1", "invalid day \"1\" in \"weekly@1\": expected a day name like Sunday or Sun"),
        (
            "weekly@Sun@25:00",
            "invalid time \"25:00\" in \"weekly@Sun@25:00\": expected HH:MM with hour 0-23 and minute 00-59",
        ),
        ("weekly@@15:00", "empty element in list \"\" of \"weekly@@15:00\""),
        ("weekly@Sun@1:00@x", "too many \"@\" parts in \"weekly@Sun@1:00@x\": expected weekly[@DAYS[@TIMES]]"),
        ("monthly@0", "invalid day of month \"0\" in \"monthly@0\": expected 1-31"),
        ("monthly@32", "invalid day of month \"32\" in \"monthly@32\": expected 1-31"),
        ("monthly@Mon", "invalid day of month \"Mon\" in \"monthly@Mon\": expected 1-31"),
        ("monthly@1@", "empty element in list \"\" of \"monthly@1@\""),
        ("monthly@1@00:00@1", "too many \"@\" parts in \"monthly@1@00:00@1\": expected monthly[@DAYS[@TIMES]]"),
    ];
    for (input, msg) in cases {
        assert_eq!(err(input), msg, "error for {input:?}");
    }
}

#[test]
fn describes_in_words() {
    let cases = [
        ("minutely", "every minute"),
        ("hourly", "every hour at :00"),
        ("hourly@0,15,30,45", "every hour at :00 :15 :30 :45"),
        ("daily@00:00,06:00", "every day at 00:00, 06:00"),
        ("weekly", "every Sunday at 00:00"),
        ("weekly@Sunday,Friday@15:00", "every Sunday and Friday at 15:00"),
        ("weekly@Sun,Tue,Fri@9:00,15:00", "every Sunday, Tuesday and Friday at 09:00, 15:00"),
        ("monthly@1,15@18:00", "on day 1 and 15 of every month at 18:00"),
        ("monthly@31", "on day 31 of every month at 00:00"),
        ("monthly@1,10,20", "on day 1, 10 and 20 of every month at 00:00"),
    ];
    for (input, words) in cases {
        assert_eq!(sched(input).describe(), words, "describe {input:?}");
    }
}

#[test]
fn next_after_is_strictly_after() {
    assert_eq!(next("hourly", "2024-05-01T10:00:00Z"), at("2024-05-01T11:00:00Z"));
    assert_eq!(next("hourly", "2024-05-01T10:00:00.5Z"), at("2024-05-01T11:00:00Z"));
    assert_eq!(next("hourly", "2024-05-01T09:59:59.999999999Z"), at("2024-05-01T10:00:00Z"));
    assert_eq!(next("minutely", "2024-05-01T10:00:00Z"), at("2024-05-01T10:01:00Z"));
    assert_eq!(next("minutely", "2024-05-01T10:00:59.9Z"), at("2024-05-01T10:01:00Z"));
    assert_eq!(next("daily@10:00", "2024-05-01T10:00:00Z"), at("2024-05-02T10:00:00Z"));
    assert_eq!(next("weekly@Friday@15:00", "2024-03-01T15:00:00Z"), at("2024-03-08T15:00:00Z"));
    assert_eq!(next("monthly@1", "2024-03-01T00:00:00Z"), at("2024-04-01T00:00:00Z"));
}

#[test]
fn next_after_within_and_across_hours_and_days() {
    let h = "hourly@15,45";
    assert_eq!(next(h, "2024-05-01T10:20:00Z"), at("2024-05-01T10:45:00Z"));
    assert_eq!(next(h, "2024-05-01T10:50:00Z"), at("2024-05-01T11:15:00Z"));
    assert_eq!(next(h, "2024-05-01T23:50:00Z"), at("2024-05-02T00:15:00Z"));
    let d = "daily@06:00,18:00";
    assert_eq!(next(d, "2024-05-01T05:59:59Z"), at("2024-05-01T06:00:00Z"));
    assert_eq!(next(d, "2024-05-01T12:00:00Z"), at("2024-05-01T18:00:00Z"));
    assert_eq!(next(d, "2024-05-01T18:00:00Z"), at("2024-05-02T06:00:00Z"));
}

#[test]
fn next_after_across_month_and_year_ends() {
    assert_eq!(next("daily", "2024-01-31T12:00:00Z"), at("2024-02-01T00:00:00Z"));
    assert_eq!(next("daily", "2024-04-30T00:00:00Z"), at("2024-05-01T00:00:00Z"));
    assert_eq!(next("minutely", "1999-12-31T23:59:30Z"), at("2000-01-01T00:00:00Z"));
    assert_eq!(next("hourly@30", "2024-12-31T23:30:00Z"), at("2025-01-01T00:30:00Z"));
    assert_eq!(next("daily@23:59", "2023-12-31T23:59:00Z"), at("2024-01-01T23:59:00Z"));
    assert_eq!(next("monthly@31@23:59", "2024-12-31T23:59:00Z"), at("2025-01-31T23:59:00Z"));
    assert_eq!(next("monthly", "2024-12-15T00:00:00Z"), at("2025-01-01T00:00:00Z"));
}

#[test]
fn next_after_handles_leap_days() {
    // 2000 and 2024 are leap years; 2100 is not (divisible by 100, not 400).
    assert_eq!(next("daily", "2000-02-28T01:00:00Z"), at("2000-02-29T00:00:00Z"));
    assert_eq!(next("daily", "2024-02-28T01:00:00Z"), at("2024-02-29T00:00:00Z"));
    assert_eq!(next("daily", "2100-02-28T01:00:00Z"), at("2100-03-01T00:00:00Z"));
    assert_eq!(next("monthly@29", "2000-02-01T00:00:00Z"), at("2000-02-29T00:00:00Z"));
    assert_eq!(next("monthly@29", "2024-02-01T00:00:00Z"), at("2024-02-29T00:00:00Z"));
    assert_eq!(next("monthly@29", "2100-02-01T00:00:00Z"), at("2100-03-29T00:00:00Z"));
    assert_eq!(next("monthly@29", "2023-01-29T00:00:00Z"), at("2023-03-29T00:00:00Z"));
    assert_eq!(next("monthly@29,1", "2100-02-01T00:00:00Z"), at("2100-03-01T00:00:00Z"));
}

#[test]
fn monthly_skips_months_without_the_day() {
    let m31 = "monthly@31";
    assert_eq!(next(m31, "2024-01-31T00:00:00Z"), at("2024-03-31T00:00:00Z"));
    assert_eq!(next(m31, "2024-03-31T00:00:00Z"), at("2024-05-31T00:00:00Z"));
    assert_eq!(next(m31, "2024-04-01T00:00:00Z"), at("2024-05-31T00:00:00Z"));
    assert_eq!(next(m31, "2024-07-31T00:00:00Z"), at("2024-08-31T00:00:00Z"));
    assert_eq!(next(m31, "2024-08-31T00:00:00Z"), at("2024-10-31T00:00:00Z"));
    assert_eq!(next(m31, "2024-12-31T00:00:00Z"), at("2025-01-31T00:00:00Z"));
    assert_eq!(next("monthly@30", "2023-01-30T01:00:00Z"), at("2023-03-30T00:00:00Z"));
}

#[test]
fn weekly_crosses_year_end() {
    // 2024-12-31 is a Tuesday; 2025-01-06 a Monday.
    assert_eq!(next("weekly@Monday", "2024-12-31T00:00:00Z"), at("2025-01-06T00:00:00Z"));
    // 2022-12-31 is a Saturday; 2023-01-01 a Sunday.
    assert_eq!(next("weekly", "2022-12-31T12:00:00Z"), at("2023-01-01T00:00:00Z"));
    assert_eq!(next("weekly@Sat@23:59", "2022-12-31T23:59:00Z"), at("2023-01-07T23:59:00Z"));
}

#[test]
fn next_after_a_leap_second() {
    // chrono represents 23:59:60 as 23:59:59 with nanos >= 1e9.
    let time = chrono::NaiveTime::from_hms_nano_opt(23, 59, 59, 1_500_000_000).unwrap();
    let t = NaiveDate::from_ymd_opt(2016, 12, 31).unwrap().and_time(time).and_utc();
    assert_eq!(sched("minutely").next_after(t), at("2017-01-01T00:00:00Z"));
}

/// The property test: `next_after` against a brute-force oracle that
/// shares no code with the implementation.
mod oracle {
    use super::*;
    use proptest::collection::vec;
    use proptest::prelude::*;

    /// What the generator decided, before rendering to text. `None` means
    /// "leave the part out" so the parser's defaults get exercised.
    #[derive(Debug, Clone)]
    enum Spec {
        Minutely,
        Hourly(Option<Vec<u8>>),
        Daily(Option<Times>),
        Weekly(Option<DaysAndTimes>),
        Monthly(Option<DaysAndTimes>),
    }

    /// (hour, minute) pairs.
    type Times = Vec<(u8, u8)>;
    /// A day list and an optional time list.
    type DaysAndTimes = (Vec<u8>, Option<Times>);

    /// The oracle's whole notion of a schedule: which days match, and
    /// for every hour a bit mask of the matching minutes.
    struct Rule {
        weekdays: u8,
        month_days: u32,
        minutes: [u64; 24],
    }

    impl Rule {
        fn new(spec: &Spec) -> Rule {
            let mut rule = Rule { weekdays: 0x7f, month_days: !0, minutes: [0; 24] };
            let times = |rule: &mut Rule, times: &Option<Times>| {
                for &(h, m) in times.as_deref().unwrap_or(&[(0, 0)]) {
                    rule.minutes[usize::from(h)] |= 1 << m;
                }
            };
            match spec {
                Spec::Minutely => rule.minutes = [(1 << 60) - 1; 24],
                Spec::Hourly(ms) => {
                    let mask = ms.as_deref().unwrap_or(&[0]).iter().fold(0, |a, m| a | 1 << m);
                    rule.minutes = [mask; 24];
                }
                Spec::Daily(ts) => times(&mut rule, ts),
                Spec::Weekly(days) => {
                    let (ds, ts) = days.clone().unwrap_or((vec![0], None));
                    rule.weekdays = ds.iter().fold(0, |a, d| a | 1 << d);
                    times(&mut rule, &ts);
                }
                Spec::Monthly(days) => {
                    let (ds, ts) = days.clone().unwrap_or((vec![1], None));
                    rule.month_days = ds.iter().fold(0, |a, d| a | 1 << d);
                    times(&mut rule, &ts);
                }
            }
            rule
        }

        fn matches(&self, c: &Clock) -> bool {
            self.weekdays & (1 << c.wd) != 0
                && self.month_days & (1 << c.d) != 0
                && self.minutes[c.hh as usize] & (1 << c.mm) != 0
        }
    }

    fn is_leap(y: i32) -> bool {
        (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
    }

    fn days_in_month(y: i32, m: u32) -> u32 {
        match m {
            2 if is_leap(y) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    /// Sakamoto's method; 0 = Sunday.
    fn weekday(y: i32, m: u32, d: u32) -> u32 {
        const T: [i32; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
        let y = if m < 3 { y - 1 } else { y };
        ((y + y / 4 - y / 100 + y / 400 + T[m as usize - 1] + d as i32) % 7) as u32
    }

    /// A broken-down wall clock that can only tick one minute forward.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    struct Clock {
        y: i32,
        m: u32,
        d: u32,
        hh: u32,
        mm: u32,
        wd: u32,
    }

    impl Clock {
        fn tick(&mut self) {
            self.mm += 1;
            if self.mm < 60 {
                return;
            }
            (self.mm, self.hh) = (0, self.hh + 1);
            if self.hh < 24 {
                return;
            }
            (self.hh, self.d, self.wd) = (0, self.d + 1, (self.wd + 1) % 7);
            if self.d <= days_in_month(self.y, self.m) {
                return;
            }
            (self.d, self.m) = (1, self.m + 1);
            if self.m > 12 {
                (self.m, self.y) = (1, self.y + 1);
            }
        }
    }

    fn oracle_next(rule: &Rule, t: DateTime<Utc>) -> Clock {
        let (y, m, d) = (t.year(), t.month(), t.day());
        let wd = weekday(y, m, d);
        let mut c = Clock { y, m, d, hh: t.hour(), mm: t.minute(), wd };
        loop {
            c.tick();
            if rule.matches(&c) {
                return c;
            }
        }
    }

    #[test]
    fn oracle_calendar_agrees_with_chrono() {
        let mut c = Clock { y: 1999, m: 12, d: 31, hh: 23, mm: 59, wd: weekday(1999, 12, 31) };
        let mut date = NaiveDate::from_ymd_opt(1999, 12, 31).unwrap();
        while date.year() <= 2101 {
            assert_eq!(c.wd, date.weekday().num_days_from_sunday(), "{date}");
            assert_eq!((c.y, c.m, c.d), (date.year(), date.month(), date.day()));
            (0..24 * 60).for_each(|_| c.tick());
            date = date.succ_opt().unwrap();
        }
    }

    fn times() -> impl Strategy<Value = Times> {
        vec((prop_oneof![0u8..24, Just(23)], prop_oneof![0u8..60, Just(59)]), 1..4)
    }

    fn month_days() -> impl Strategy<Value = Vec<u8>> {
        // Days 28-31 are where months differ, so they get extra weight.
        prop_oneof![vec(1u8..=31, 1..4), vec(28u8..=31, 1..3)]
    }

    fn spec() -> impl Strategy<Value = Spec> {
        // Monthly cases can make the oracle walk ~60 days minute by
        // minute, so they are rarer; every kind still gets thousands.
        prop_oneof![
            1 => Just(Spec::Minutely),
            3 => proptest::option::weighted(0.9, vec(0u8..60, 1..5)).prop_map(Spec::Hourly),
            3 => proptest::option::weighted(0.9, times()).prop_map(Spec::Daily),
            3 => proptest::option::weighted(
                0.9,
                (vec(0u8..7, 1..4), proptest::option::weighted(0.8, times())),
            )
            .prop_map(Spec::Weekly),
            1 => proptest::option::weighted(
                0.9,
                (month_days(), proptest::option::weighted(0.8, times())),
            )
            .prop_map(Spec::Monthly),
        ]
    }

    /// Renders a spec as schedule text; `style` bits vary the spelling
    /// (case, short day names, padding, spaces) that must not matter.
    fn render(spec: &Spec, style: u8) -> String {
        // Its own copy, so a mis-ordered `DAY_NAMES` cannot agree with itself.
        const NAMES: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
        let sp = if style & 4 != 0 { " " } else { "" };
        let list = |items: Vec<String>| items.join(&format!("{sp},{sp}"));
        let times = |ts: &[(u8, u8)]| {
            let pad = style & 8 != 0;
            list(ts.iter().map(|&(h, m)| if pad { format!("{h:02}:{m:02}") } else { format!("{h}:{m:02}") }).collect())
        };
        let days = |ds: &[u8]| {
            let name = |d: u8| {
                let full = NAMES[usize::from(d)];
                if style & 2 != 0 { full[..3].to_string() } else { full.to_string() }
            };
            list(ds.iter().map(|&d| name(d)).collect())
        };
        let nums = |ns: &[u8]| list(ns.iter().map(u8::to_string).collect());
        let text = match spec {
            Spec::Minutely => "minutely".to_string(),
            Spec::Hourly(None) => "hourly".to_string(),
            Spec::Hourly(Some(ms)) => format!("hourly@{}", nums(ms)),
            Spec::Daily(None) => "daily".to_string(),
            Spec::Daily(Some(ts)) => format!("daily@{}", times(ts)),
            Spec::Weekly(None) => "weekly".to_string(),
            Spec::Weekly(Some((ds, None))) => format!("weekly@{}", days(ds)),
            Spec::Weekly(Some((ds, Some(ts)))) => format!("weekly@{}@{}", days(ds), times(ts)),
            Spec::Monthly(None) => "monthly".to_string(),
            Spec::Monthly(Some((ds, None))) => format!("monthly@{}", nums(ds)),
            Spec::Monthly(Some((ds, Some(ts)))) => {
                format!("monthly@{}@{}", nums(ds), times(ts))
            }
        };
        if style & 1 != 0 { text.to_uppercase() } else { text }
    }

    fn instant() -> impl Strategy<Value = DateTime<Utc>> {
        let date = (2000i32..=2100, 1u32..=12, prop_oneof![1u32..=31, 27u32..=31]);
        let time = (
            prop_oneof![0u32..24, Just(23)],
            prop_oneof![0u32..60, Just(59)],
            prop_oneof![0u32..60, Just(0)],
            prop_oneof![0u32..1_000_000_000, Just(0)],
        );
        (date, time).prop_map(|((y, m, d), (hh, mm, ss, ns))| {
            let date = NaiveDate::from_ymd_opt(y, m, d.min(days_in_month(y, m))).unwrap();
            date.and_hms_nano_opt(hh, mm, ss, ns).unwrap().and_utc()
        })
    }

    fn config() -> ProptestConfig {
        let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok());
        ProptestConfig { cases: cases.unwrap_or(100_000), ..ProptestConfig::default() }
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn next_after_matches_brute_force(spec in spec(), style in any::<u8>(), t in instant()) {
            let text = render(&spec, style);
            let schedule: Schedule = text.parse().map_err(|e| TestCaseError::fail(format!("{e}")))?;
            prop_assert_eq!(&schedule.to_string().parse::<Schedule>().unwrap(), &schedule);

            let got = schedule.next_after(t);
            let want = oracle_next(&Rule::new(&spec), t);
            let got_fields = (got.year(), got.month(), got.day(), got.hour(), got.minute());
            prop_assert_eq!(got_fields, (want.y, want.m, want.d, want.hh, want.mm), "{} after {}", text, t);
            prop_assert_eq!((got.second(), got.nanosecond()), (0, 0));
        }
    }
}
