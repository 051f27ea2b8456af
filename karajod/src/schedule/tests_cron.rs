//! Cron expressions: the grammar, errors that name the field, and
//! `next_after` in UTC on hand-picked cases.
use super::tests_util::{at, err, next, sched};

#[test]
fn names_aliases_and_spellings_mean_the_same() {
    let same = [
        ("30 2 * * 1-5", "30 2 * * MON-FRI"),
        ("30 2 * * mon-fri", "30  2 *  * 1,2,3,4,5"),
        ("0 0 * * 0", "0 0 * * 7"),
        ("0 0 * * SUN", "0 0 * * 7"),
        ("0 0 * * FRI-SUN", "0 0 * * 5-7"),
        ("0 0 * * sun-sun", "0 0 * * 0"),
        ("0 0 1 1 *", "@yearly"),
        ("@annually", "@YEARLY"),
        ("0 0 1 * *", "@monthly"),
        ("0 0 * * 0", "@weekly"),
        ("0 0 * * *", "@daily"),
        ("@midnight", "@daily"),
        ("0 * * * *", "@hourly"),
        ("*/15 * * * *", "0,15,30,45 * * * *"),
        ("0-10/5 * * * *", "0,5,10 * * * *"),
        ("0 0 * JAN,jul *", "0 0 * 1,7 *"),
        ("0 0 ? * 1", "0 0 * * 1"),
        ("0 30 2 * * *", "30 2 * * *"),
    ];
    for (a, b) in same {
        assert_eq!(sched(a), sched(b), "{a:?} = {b:?}");
    }
    assert_ne!(sched("0 0 * * *"), sched("daily"), "a cron expression is not a karajo form");
    assert_eq!(sched("  30   2 * *  1-5 ").to_string(), "30 2 * * 1-5");
    assert!(sched("*/5 * * * * *").has_seconds());
    assert!(!sched("*/5 * * * *").has_seconds());
}

#[test]
fn rejects_bad_expressions_naming_the_field_and_what_was_expected() {
    let cases = [
        ("0 0 * * 8", "day-of-week \"8\" out of 0-7 in \"0 0 * * 8\""),
        ("60 * * * *", "minute \"60\" out of 0-59"),
        ("0 24 * * *", "hour \"24\" out of 0-23"),
        ("0 0 0 * *", "day-of-month \"0\" out of 1-31"),
        ("0 0 32 * *", "day-of-month \"32\" out of 1-31"),
        ("0 0 * 13 *", "month \"13\" out of 1-12"),
        ("61 0 0 * * *", "second \"61\" out of 0-59"),
        ("0 0 * FOO *", "month \"FOO\": expected a number 1-12 or a name JAN-DEC"),
        ("0 0 * * Funday", "day-of-week \"Funday\": expected a number 0-7 or a name SUN-SAT"),
        ("0 0 * * 5-1", "day-of-week range \"5-1\" is backwards"),
        ("*/0 * * * *", "minute step \"0\" in \"*/0\": expected a number 1-59"),
        ("5/15 * * * *", "minute \"5/15\": a step goes after * or a range A-B"),
        ("1,,2 * * * *", "minute \"1,,2\" has an empty list element"),
        ("0 0 ? * *", ""),
        ("? 0 * * *", "minute \"?\": only day-of-month and day-of-week take ?"),
        ("0 0 L * *", "day-of-month \"L\": expected a number 1-31"),
        ("* * * *", "4 fields in cron expression \"* * * *\": expected 5"),
        ("0 0 0 * * * 2024", "7 fields"),
        ("@reboot", "unknown cron alias \"@reboot\": expected one of @yearly"),
        ("0 0 30 2 *", "never fires"),
        ("0 0 31 4,6,9,11 *", "never fires"),
        ("1 2 3", "3 fields in cron expression"),
        ("-1 * * * *", "minute \"\": expected a number 0-59"),
        ("+5 * * * *", "minute \"+5\": expected a number 0-59"),
    ];
    for (input, want) in cases {
        if want.is_empty() {
            sched(input);
            continue;
        }
        let got = err(input);
        assert!(got.contains(want), "{input:?}: {got:?} does not say {want:?}");
    }
    // Day-of-week rescues a day-of-month that never comes (the two are OR-ed): Mondays in February.
    assert_eq!(next("0 0 30 2 1", "2024-02-27T00:00:00Z"), at("2025-02-03T00:00:00Z"));
}

#[test]
fn next_after_in_utc() {
    assert_eq!(next("30 2 * * 1-5", "2024-05-03T02:30:00Z"), at("2024-05-06T02:30:00Z"));
    assert_eq!(next("30 2 * * 1-5", "2024-05-03T02:29:59.9Z"), at("2024-05-03T02:30:00Z"));
    assert_eq!(next("*/10 * * * * *", "2024-05-03T02:29:59.9Z"), at("2024-05-03T02:30:00Z"));
    assert_eq!(next("*/10 * * * * *", "2024-05-03T02:30:00Z"), at("2024-05-03T02:30:10Z"));
    assert_eq!(next("15 0 0 * * *", "2024-12-31T23:59:59Z"), at("2025-01-01T00:00:15Z"));
    assert_eq!(next("0 0 29 2 *", "2097-01-01T00:00:00Z"), at("2104-02-29T00:00:00Z"));
    // Both day fields restricted: either one fires (1st of the month, or a Friday).
    let either = sched("0 12 1 * 5");
    let mut t = at("2024-02-27T00:00:00Z");
    let mut got = Vec::new();
    for _ in 0..4 {
        t = either.next_after(t);
        got.push(t.to_rfc3339());
    }
    assert_eq!(
        got,
        [
            "2024-03-01T12:00:00+00:00",
            "2024-03-08T12:00:00+00:00",
            "2024-03-15T12:00:00+00:00",
            "2024-03-22T12:00:00+00:00"
        ]
    );
    // Only one restricted: that one alone.
    assert_eq!(next("0 12 * * 5", "2024-02-27T00:00:00Z"), at("2024-03-01T12:00:00Z"));
    assert_eq!(next("0 12 2 * *", "2024-02-27T00:00:00Z"), at("2024-03-02T12:00:00Z"));
    assert_eq!(next("0 0 31 * *", "2024-04-01T00:00:00Z"), at("2024-05-31T00:00:00Z"));
}

#[test]
fn cron_in_words() {
    let berlin = sched("30 2 * * 1-5").in_zone(chrono_tz::Europe::Berlin);
    assert_eq!(berlin.describe(), "at 02:30 on Monday-Friday (Europe/Berlin)");
    assert_eq!(sched("*/1 * * * * *").describe(), "every second");
    assert_eq!(sched("daily@02:30").in_zone(chrono_tz::Asia::Kolkata).describe(), "every day at 02:30 (Asia/Kolkata)");
}
