//! Times on the wire: RFC 3339 in UTC, and Go's zero time
//! (`0001-01-01T00:00:00Z`) for "never", as the original daemon writes them.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serializer};

/// What the original writes for a time that never happened.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Formats a time the way Go's `time.Time` marshals (trailing zero
/// fractions trimmed), or [`ZERO_TIME`] for `None`.
pub fn format(t: Option<DateTime<Utc>>) -> String {
    match t {
        Some(t) => t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        None => ZERO_TIME.to_string(),
    }
}

/// Parses an RFC 3339 time; the zero time (year 1) reads as `None`.
pub fn parse(s: &str) -> Result<Option<DateTime<Utc>>, chrono::ParseError> {
    let t = DateTime::parse_from_rfc3339(s)?.with_timezone(&Utc);
    Ok(if s.starts_with("0001-") { None } else { Some(t) })
}

/// Serde adapter for `Option<DateTime<Utc>>` fields with Go zero-time semantics.
pub mod opt {
    use super::*;

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn zero_time_round_trips_as_none() {
        assert_eq!(format(None), ZERO_TIME);
        assert_eq!(parse(ZERO_TIME).unwrap(), None);
    }

    #[test]
    fn whole_seconds_have_no_fraction() {
        let t = Utc.with_ymd_and_hms(2023, 2, 25, 18, 47, 34).unwrap();
        assert_eq!(format(Some(t)), "2023-02-25T18:47:34Z");
        assert_eq!(parse("2023-02-25T18:47:34Z").unwrap(), Some(t));
    }
}
