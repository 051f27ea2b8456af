//! `[check "NAME"]` sections (SPEC 18) into [`CheckConfig`]s: `key`,
//! `period` or `schedule` (+ `timezone`), `grace`, `notif_on_down`,
//! `notif_on_up`.
//!
//! Invariants: a key has at least [`MIN_CHECK_KEY_CHARS`] characters that
//! are safe in a URL path segment, and no two checks share a key or an ID.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

use proto::JobId;

use super::fields::Fields;
use super::job::{read_notif_names, read_timezone};
use super::model::{CheckConfig, CheckTimer, DEFAULT_CHECK_GRACE, MIN_CHECK_KEY_CHARS, Origin, Secret, ServerConfig};

/// What reading checks needs from the rest of the configuration.
pub struct CheckContext<'a> {
    pub server: &'a ServerConfig,
    pub notif_names: &'a BTreeSet<String>,
}

/// Reads one `[check "NAME"]`; `None` when it cannot be used.
pub fn read_check(
    f: &mut Fields<'_>,
    file: &Path,
    name: &str,
    line: usize,
    ctx: &CheckContext<'_>,
) -> Option<CheckConfig> {
    let key = read_key(f);
    let timezone = read_timezone(f).unwrap_or(ctx.server.timezone);
    let timer = read_timer(f, timezone);
    let grace = match f.duration("grace") {
        None => DEFAULT_CHECK_GRACE,
        Some((_, n)) if n >= 0 => Duration::from_nanos(n as u64),
        Some((e, _)) => {
            f.error(e, "must be a duration of 0 or more, like 5m (how long after a missed ping the check is down)");
            DEFAULT_CHECK_GRACE
        }
    };
    let notif_on_down = read_notif_names(f, "notif_on_down", ctx.notif_names);
    let notif_on_up = read_notif_names(f, "notif_on_up", ctx.notif_names);
    f.reject_unknown("notif_on_", |key| {
        format!("unknown event \"{}\": a check has notif_on_down and notif_on_up", key.trim_start_matches("notif_on_"))
    });
    let (timer, timer_text) = timer?;
    Some(CheckConfig {
        name: name.to_string(),
        id: JobId::from_name(name),
        key: key?,
        timer,
        timer_text,
        timezone,
        grace,
        notif_on_down,
        notif_on_up,
        origin: Origin { file: file.to_path_buf(), line },
    })
}

fn read_key(f: &mut Fields<'_>) -> Option<Secret> {
    let Some((e, v)) = f.string("key") else {
        f.section_error(format!(
            "missing key: expected a secret of {MIN_CHECK_KEY_CHARS} or more characters (the ping URL's token)"
        ));
        return None;
    };
    let v = v.trim();
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_.~".contains(c);
    if v.chars().count() < MIN_CHECK_KEY_CHARS || !v.chars().all(safe) {
        f.error(e, format!("must be {MIN_CHECK_KEY_CHARS} or more letters, digits, '-', '_', '.' or '~' (make one with `openssl rand -hex 16`)"));
        return None;
    }
    Some(Secret::new(v))
}

/// `schedule` wins over `period` (warned), as for jobs.
fn read_timer(f: &mut Fields<'_>, zone: crate::schedule::Tz) -> Option<(CheckTimer, String)> {
    let schedule = f.string("schedule").filter(|(_, v)| !v.trim().is_empty());
    let period = f.duration("period");
    if let Some((e, text)) = schedule {
        if let Some((pe, _)) = period {
            f.warn(pe, format!("ignored: schedule (line {}) takes precedence over period", e.line));
        }
        return match text.parse::<crate::schedule::Schedule>() {
            Ok(s) => Some((CheckTimer::Schedule(s.in_zone(zone)), text.trim().to_string())),
            Err(err) => {
                f.error(e, err.to_string());
                None
            }
        };
    }
    match period {
        Some((_, n)) if n >= 1_000_000_000 => {
            let d = Duration::from_nanos(n as u64);
            Some((CheckTimer::Period(d), super::duration::format(n)))
        }
        Some((e, _)) => {
            f.error(e, "must be a duration of at least 1s, like 1h (the longest time between two pings)");
            None
        }
        None => {
            f.section_error("missing period or schedule: expected e.g. `period = 1h` or `schedule = daily@03:00`");
            None
        }
    }
}

/// Two checks with one ID (names that normalise alike) or one key: errors
/// at the later one, naming the first.
pub fn check_unique(checks: &[CheckConfig]) -> Vec<(Origin, String)> {
    let mut out = Vec::new();
    let (mut ids, mut keys): (HashMap<&JobId, &Origin>, HashMap<&str, &Origin>) = Default::default();
    for c in checks {
        if let Some(first) = ids.insert(&c.id, &c.origin) {
            out.push((c.origin.clone(), format!("duplicate check ID \"{}\": also defined at {first}", c.id)));
        }
        if let Some(first) = keys.insert(c.key.expose(), &c.origin) {
            out.push((c.origin.clone(), format!("this key is already the key of the check at {first}")));
        }
    }
    out
}
