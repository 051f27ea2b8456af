//! Go-format durations (`90s`, `1h30m`, `1.5h`, `300ms`) as used by karajo's
//! configuration, parsed to and formatted from signed nanoseconds.
//!
//! Invariants:
//! - [`parse`] accepts exactly what Go's `time.ParseDuration` accepts and
//!   yields the same nanosecond count, fractions included, so configuration
//!   written for the Go karajo means the same thing here.
//! - [`format`] produces Go's `Duration.String()` text, and
//!   `parse(&format(n)) == Ok(n)` for every `i64`.
//! - Pure: no I/O, no clock.

/// Why a duration string was rejected; the message quotes the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DurationError(pub String);

const NANOS_PER_SECOND: u64 = 1_000_000_000;

/// Units and their length in nanoseconds. Go accepts both the micro sign
/// (U+00B5) and the Greek mu (U+03BC) for microseconds.
const UNITS: [(&str, u64); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),
    ("\u{3bc}s", 1_000),
    ("ms", 1_000_000),
    ("s", NANOS_PER_SECOND),
    ("m", 60 * NANOS_PER_SECOND),
    ("h", 3600 * NANOS_PER_SECOND),
];

/// The largest magnitude, |i64::MIN|; only a negative duration may reach it.
const LIMIT: u64 = 1 << 63;

/// Parses Go's time.ParseDuration format: "90s", "1m", "1h30m", "5m0s",
/// "1.5h", "300ms", "2us", "2µs", "10ns", "-1s", "+5m", "0". Returns signed
/// nanoseconds. Whitespace around the whole string is ignored.
pub fn parse(s: &str) -> Result<i64, DurationError> {
    let orig = s.trim();
    if orig.is_empty() {
        return Err(DurationError("empty duration: expected e.g. \"90s\" or \"1h30m\"".to_string()));
    }
    let (negative, mut rest) = match orig.as_bytes()[0] {
        b'-' => (true, &orig[1..]),
        b'+' => (false, &orig[1..]),
        _ => (false, orig),
    };
    // Go special-cases a bare zero, which is the only unit-less form.
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid(orig, "expected a number after the sign"));
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let (nanos, after) = component(orig, rest)?;
        total = total.checked_add(nanos).filter(|&t| t <= LIMIT).ok_or_else(|| out_of_range(orig))?;
        rest = after;
    }
    if negative {
        Ok(0i64.checked_sub_unsigned(total).expect("total <= 2^63 fits negated"))
    } else {
        i64::try_from(total).map_err(|_| out_of_range(orig))
    }
}

/// Parses one `NUMBER UNIT` pair at the start of `rest`, returning its
/// magnitude in nanoseconds and what follows it.
fn component<'a>(orig: &str, rest: &'a str) -> Result<(u64, &'a str), DurationError> {
    let (int_digits, after_int) = split_digits(rest);
    let (frac_digits, after_number) = match after_int.strip_prefix('.') {
        Some(after_dot) => split_digits(after_dot),
        None => ("", after_int),
    };
    // "1." and ".5" are fine (as in Go), a lone "." is not.
    if int_digits.is_empty() && frac_digits.is_empty() {
        return Err(invalid(orig, &format!("expected a number at {rest:?}")));
    }
    let unit_len = after_number.find(|c: char| c == '.' || c.is_ascii_digit()).unwrap_or(after_number.len());
    let (unit_text, after_unit) = after_number.split_at(unit_len);
    if unit_text.is_empty() {
        return Err(invalid(orig, "missing unit (e.g. \"5s\" or \"5m\")"));
    }
    let Some(&(_, unit)) = UNITS.iter().find(|(name, _)| *name == unit_text) else {
        return Err(DurationError(format!("unknown unit {unit_text:?} in {orig:?}: expected ns, us, ms, s, m or h")));
    };
    let whole = leading_int(int_digits)
        .and_then(|v| v.checked_mul(unit))
        .filter(|&v| v <= LIMIT)
        .ok_or_else(|| out_of_range(orig))?;
    let (fraction, scale) = leading_fraction(frac_digits);
    // Go computes the fractional part in float64 and truncates; doing the
    // same keeps results bit-identical (Go reads "0.3333333333333333333h" as
    // exactly 20m, where exact arithmetic would give 1ns less).
    let frac_nanos = (fraction as f64 * (unit as f64 / scale)) as u64;
    let nanos = whole + frac_nanos;
    if nanos > LIMIT {
        return Err(out_of_range(orig));
    }
    Ok((nanos, after_unit))
}

fn split_digits(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    s.split_at(end)
}

/// The integer part, or `None` once it exceeds 2^63 (Go's overflow rule);
/// leading zeros are harmless, so length alone cannot decide.
fn leading_int(digits: &str) -> Option<u64> {
    digits.bytes().try_fold(0u64, |acc, b| {
        acc.checked_mul(10).and_then(|v| v.checked_add(u64::from(b - b'0'))).filter(|&v| v <= LIMIT)
    })
}

/// The fraction digits as an integer and its scale (10^digits kept). Like
/// Go, digits past the point where the integer would overflow are dropped:
/// they are far below a nanosecond for every unit.
fn leading_fraction(digits: &str) -> (u64, f64) {
    let mut value: u64 = 0;
    let mut scale = 1.0;
    for b in digits.bytes() {
        let next = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .filter(|&v| v <= LIMIT && value <= (LIMIT - 1) / 10);
        match next {
            Some(v) => {
                value = v;
                scale *= 10.0;
            }
            None => break,
        }
    }
    (value, scale)
}

fn invalid(orig: &str, why: &str) -> DurationError {
    DurationError(format!("invalid duration {orig:?}: {why}"))
}

fn out_of_range(orig: &str) -> DurationError {
    invalid(orig, "out of range (at most about 292 years either way)")
}

/// Formats like Go's Duration.String(): "1h30m0s", "5m0s", "1.5s", "300ms",
/// "0s", "-1m0s". Durations under a second use ns, µs or ms; longer ones
/// use h, m and s, never days, whose length varies.
pub fn format(nanos: i64) -> String {
    let sign = if nanos < 0 { "-" } else { "" };
    let u = nanos.unsigned_abs();
    if u == 0 {
        return "0s".to_string();
    }
    if u < NANOS_PER_SECOND {
        let (unit, prec) = match u {
            0..1_000 => ("ns", 0),
            1_000..1_000_000 => ("\u{b5}s", 3),
            _ => ("ms", 6),
        };
        return format!("{sign}{}{unit}", decimal(u, prec));
    }
    let whole_seconds = u / NANOS_PER_SECOND;
    let seconds = decimal(whole_seconds % 60 * NANOS_PER_SECOND + u % NANOS_PER_SECOND, 9);
    let (hours, minutes) = (whole_seconds / 3600, whole_seconds / 60 % 60);
    match (hours, minutes) {
        (0, 0) => format!("{sign}{seconds}s"),
        (0, _) => format!("{sign}{minutes}m{seconds}s"),
        _ => format!("{sign}{hours}h{minutes}m{seconds}s"),
    }
}

/// `v / 10^prec` in decimal with trailing fractional zeros (and a bare
/// point) dropped, as Go's fmtFrac does.
fn decimal(v: u64, prec: u32) -> String {
    let scale = 10u64.pow(prec);
    let (int, frac) = (v / scale, v % scale);
    if frac == 0 {
        return int.to_string();
    }
    let digits = format!("{frac:0width$}", width = prec as usize);
    format!("{int}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NS: i64 = 1;
    const US: i64 = 1_000;
    const MS: i64 = 1_000_000;
    const S: i64 = 1_000_000_000;
    const M: i64 = 60 * S;
    const H: i64 = 60 * M;

    fn ok(s: &str) -> i64 {
        parse(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
    }

    #[test]
    fn parses_the_documented_forms() {
        let cases = [
            ("90s", 90 * S),
            ("1m", M),
            ("1h30m", H + 30 * M),
            ("5m0s", 5 * M),
            ("1.5h", H + 30 * M),
            ("300ms", 300 * MS),
            ("2us", 2 * US),
            ("2\u{b5}s", 2 * US),
            ("2\u{3bc}s", 2 * US),
            ("10ns", 10 * NS),
            ("-1s", -S),
            ("+5m", 5 * M),
            ("0", 0),
            ("-0", 0),
            ("+0", 0),
            ("  1h \n", H),
        ];
        for (input, want) in cases {
            assert_eq!(ok(input), want, "{input:?}");
        }
    }

    /// Vectors from Go's time package tests (parseDurationTests).
    #[test]
    fn parses_like_go() {
        let cases = [
            ("5s", 5 * S),
            ("1478s", 1478 * S),
            ("5.0s", 5 * S),
            ("5.6s", 5 * S + 600 * MS),
            ("5.s", 5 * S),
            (".5s", 500 * MS),
            ("1.004s", S + 4 * MS),
            ("1.0040s", S + 4 * MS),
            ("100.00100s", 100 * S + MS),
            ("11us", 11 * US),
            ("16h", 16 * H),
            ("10.5s4m", 4 * M + 10 * S + 500 * MS),
            ("-2m3.4s", -(2 * M + 3 * S + 400 * MS)),
            ("1h2m3s4ms5us6ns", H + 2 * M + 3 * S + 4 * MS + 5 * US + 6 * NS),
            ("39h9m14.425s", 39 * H + 9 * M + 14 * S + 425 * MS),
            ("52763797000ns", 52763797000),
            ("0.3333333333333333333h", 20 * M),
            ("9007199254740993ns", (1 << 53) + 1),
            ("9223372036854775807ns", i64::MAX),
            ("9223372036854775.807us", i64::MAX),
            ("9223372036s854ms775us807ns", i64::MAX),
            ("-9223372036854775808ns", i64::MIN),
            ("-9223372036854775.808us", i64::MIN),
            ("-9223372036s854ms775us808ns", i64::MIN),
            ("-2562047h47m16.854775808s", i64::MIN),
            ("0.100000000000000000000h", 6 * M),
            ("0.830103483285477580700h", 49 * M + 48 * S + 372539827),
            ("000000000000000000000001s", S),
        ];
        for (input, want) in cases {
            assert_eq!(ok(input), want, "{input:?}");
        }
    }

    #[test]
    fn rejects_bad_input_clearly() {
        let cases = [
            ("", "empty duration: expected e.g. \"90s\" or \"1h30m\""),
            ("   ", "empty duration: expected e.g. \"90s\" or \"1h30m\""),
            ("5", "invalid duration \"5\": missing unit (e.g. \"5s\" or \"5m\")"),
            ("1h30", "invalid duration \"1h30\": missing unit (e.g. \"5s\" or \"5m\")"),
            ("00", "invalid duration \"00\": missing unit (e.g. \"5s\" or \"5m\")"),
            ("1d", "unknown unit \"d\" in \"1d\": expected ns, us, ms, s, m or h"),
            ("1 s", "unknown unit \" s\" in \"1 s\": expected ns, us, ms, s, m or h"),
            ("1S", "unknown unit \"S\" in \"1S\": expected ns, us, ms, s, m or h"),
            ("-", "invalid duration \"-\": expected a number after the sign"),
            ("+", "invalid duration \"+\": expected a number after the sign"),
            ("s", "invalid duration \"s\": expected a number at \"s\""),
            (".s", "invalid duration \".s\": expected a number at \".s\""),
            ("-.s", "invalid duration \"-.s\": expected a number at \".s\""),
            ("--1s", "invalid duration \"--1s\": expected a number at \"-1s\""),
            ("1h-1m", "unknown unit \"h-\" in \"1h-1m\": expected ns, us, ms, s, m or h"),
            (
                "9223372036854775808ns",
                "invalid duration \"9223372036854775808ns\": out of range (at most about 292 years either way)",
            ),
            (
                "9223372036854775809ns",
                "invalid duration \"9223372036854775809ns\": out of range (at most about 292 years either way)",
            ),
            (
                "-9223372036854775809ns",
                "invalid duration \"-9223372036854775809ns\": out of range (at most about 292 years either way)",
            ),
            ("2562048h", "invalid duration \"2562048h\": out of range (at most about 292 years either way)"),
            (
                "9223372036s854ms775us808ns",
                "invalid duration \"9223372036s854ms775us808ns\": out of range (at most about 292 years either way)",
            ),
            (
                "99999999999999999999ns",
                "invalid duration \"99999999999999999999ns\": out of range (at most about 292 years either way)",
            ),
        ];
        for (input, msg) in cases {
            assert_eq!(parse(input), Err(DurationError(msg.to_string())), "{input:?}");
        }
    }

    /// Vectors from Go's time package tests (durationTests).
    #[test]
    fn formats_like_go() {
        let cases = [
            ("0s", 0),
            ("1ns", NS),
            ("1.1\u{b5}s", 1100 * NS),
            ("2.2ms", 2200 * US),
            ("3.3s", 3300 * MS),
            ("4m5s", 4 * M + 5 * S),
            ("4m5.001s", 4 * M + 5001 * MS),
            ("5h6m7.001s", 5 * H + 6 * M + 7001 * MS),
            ("8m0.000000001s", 8 * M + NS),
            ("2562047h47m16.854775807s", i64::MAX),
            ("-2562047h47m16.854775808s", i64::MIN),
            ("1h30m0s", H + 30 * M),
            ("5m0s", 5 * M),
            ("1.5s", 1500 * MS),
            ("300ms", 300 * MS),
            ("-1m0s", -M),
            ("1h0m1s", H + S),
            ("-999ns", -999),
            ("999.999999ms", S - 1),
        ];
        for (want, nanos) in cases {
            assert_eq!(format(nanos), want, "{nanos}");
        }
    }

    fn cases() -> u32 {
        let env = std::env::var("PROPTEST_CASES").ok();
        env.and_then(|v| v.parse().ok()).unwrap_or(10_000)
    }

    /// Magnitudes spread over every unit's range, not just the huge values
    /// that a uniform i64 almost always is.
    fn nanos() -> impl Strategy<Value = i64> {
        prop_oneof![
            any::<i64>(),
            -1_000_000i64..1_000_000,
            -10 * S..10 * S,
            -100 * H..100 * H,
            Just(i64::MIN),
            Just(i64::MAX),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

        #[test]
        fn format_round_trips(n in nanos()) {
            prop_assert_eq!(parse(&format(n)), Ok(n), "{}", format(n));
        }

        #[test]
        fn nanosecond_counts_parse_exactly(n in nanos()) {
            prop_assert_eq!(parse(&format!("{n}ns")), Ok(n));
        }

        #[test]
        fn whole_units_parse_exactly(v in 0i64..1_000_000, unit in 0usize..UNITS.len()) {
            let (name, len) = UNITS[unit];
            prop_assert_eq!(parse(&format!("{v}{name}")), Ok(v * len as i64));
            prop_assert_eq!(parse(&format!("-{v}{name}")), Ok(-v * len as i64));
        }

        #[test]
        fn parse_never_panics(s in "[-+]?[0-9.]{0,25}(ns|us|ms|s|m|h|d|µs)?([0-9.]{0,5}[a-z]{0,2})?") {
            let _ = parse(&s);
        }
    }
}
