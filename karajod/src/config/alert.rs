//! The job keys of SPEC 18 into [`Alerts`]: `notif_on_recovered`,
//! `notif_on_missed`, `notif_on_late`, `notif_on_long_running`,
//! `late_after`, `max_duration` and `ping_url`.
//!
//! Invariant: a `notif_on_*` key that names no event is an error (a
//! misspelt event would otherwise silence an alert without a word).

use std::collections::BTreeSet;
use std::time::Duration;

use super::fields::Fields;
use super::job::{check_absolute_url, read_notif_names};
use super::model::{Alerts, DEFAULT_LATE_AFTER};

/// Every event key a job may name notifications under.
pub const EVENT_KEYS: [&str; 6] = [
    "notif_on_success",
    "notif_on_failed",
    "notif_on_recovered",
    "notif_on_missed",
    "notif_on_late",
    "notif_on_long_running",
];

/// Reads the keys of [`Alerts`]; call after `notif_on_success` and
/// `notif_on_failed` are read, so the unknown-event check knows them.
pub fn read_alerts(f: &mut Fields<'_>, known: &BTreeSet<String>) -> Alerts {
    let alerts = Alerts {
        notif_on_recovered: read_notif_names(f, "notif_on_recovered", known),
        notif_on_missed: read_notif_names(f, "notif_on_missed", known),
        notif_on_late: read_notif_names(f, "notif_on_late", known),
        notif_on_long_running: read_notif_names(f, "notif_on_long_running", known),
        late_after: positive_duration(f, "late_after").unwrap_or(DEFAULT_LATE_AFTER),
        max_duration: positive_duration(f, "max_duration"),
        ping_url: read_ping_url(f),
    };
    f.reject_unknown("notif_on_", |key| {
        let event = key.trim_start_matches("notif_on_");
        let events: Vec<&str> = EVENT_KEYS.iter().map(|k| k.trim_start_matches("notif_on_")).collect();
        format!("unknown event \"{event}\": expected notif_on_ one of {}", events.join(", "))
    });
    alerts
}

fn positive_duration(f: &mut Fields<'_>, key: &'static str) -> Option<Duration> {
    let (e, n) = f.duration(key)?;
    if n <= 0 {
        f.error(e, "must be a positive duration like 30s or 5m");
        return None;
    }
    Some(Duration::from_nanos(n as u64))
}

fn read_ping_url(f: &mut Fields<'_>) -> Option<String> {
    let (e, v) = f.string("ping_url")?;
    let v = v.trim().trim_end_matches('/').to_string();
    if v.is_empty() {
        return None;
    }
    match check_absolute_url(&v) {
        Ok(()) => Some(v),
        Err(msg) => {
            f.error(e, msg);
            None
        }
    }
}
