//! `[job "NAME"]` and `[job.http "NAME"]` sections into validated configs.
//! Checks across jobs (a body, duplicates, the secret default) live in
//! `validate`; notification names are checked here against the loader's list.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use proto::JobId;

use super::fields::Fields;
use super::model::*;
use super::notif::{EnvLookup, resolve_credential};

/// What reading a job section needs from the rest of the configuration.
pub struct Context<'a> {
    pub server: &'a ServerConfig,
    pub notif_names: &'a BTreeSet<String>,
    /// Where `$VAR` header values are read from.
    pub env: EnvLookup<'a>,
}

/// The keys both kinds share.
fn read_common(f: &mut Fields<'_>, ctx: &Context<'_>, file: &Path, name: &str, line: usize) -> JobCommon {
    let description = match f.string("description") {
        Some((e, v)) => {
            f.warn_if_cut(e);
            v
        }
        None => String::new(),
    };
    let (timer, timer_text) = read_timer(f);
    // Empty means the global secret, which `validate` fills in.
    let secret = f.string("secret").map(|(_, v)| Secret::new(v)).unwrap_or_default();
    let header_sign = f
        .string("header_sign")
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_HEADER_SIGN.into());
    let log_retention = match f.int("log_retention") {
        Some((_, n)) if n >= 1 && n <= i64::from(u32::MAX) => n as u32,
        Some((e, _)) => {
            f.error(e, "must be a whole number of at least 1 (how many run logs to keep)");
            DEFAULT_LOG_RETENTION
        }
        None => DEFAULT_LOG_RETENTION,
    };
    let history_retention = read_history_retention(f).unwrap_or(ctx.server.history_retention);
    let notif_on_success = read_notif_names(f, "notif_on_success", ctx.notif_names);
    let notif_on_failed = read_notif_names(f, "notif_on_failed", ctx.notif_names);
    let alerts = super::alert::read_alerts(f, ctx.notif_names);
    let overlap = read_overlap(f);
    let timezone = read_timezone(f).unwrap_or(ctx.server.timezone);
    let timer = match timer {
        Some(Timer::Schedule(s)) => Some(Timer::Schedule(s.in_zone(timezone))),
        other => other,
    };
    let jitter = read_jitter(f, timer.as_ref());
    let catch_up = super::retry::read_catch_up(f, timer.as_ref());
    JobCommon {
        id: JobId::from_name(name),
        name: name.to_string(),
        description,
        description_html: String::new(),
        timer,
        timer_text,
        secret,
        header_sign,
        log_retention,
        history_retention,
        notif_on_success,
        notif_on_failed,
        alerts,
        overlap,
        timezone,
        jitter,
        retry: super::Retry::default(),
        catch_up,
        origin: Origin { file: file.to_path_buf(), line },
    }
}

/// `overlap` and, for `queue`, `queue_size`.
fn read_overlap(f: &mut Fields<'_>) -> Overlap {
    let size = match f.int("queue_size") {
        None => None,
        Some((e, n)) if (1..=1000).contains(&n) => Some((e, n as u32)),
        Some((e, _)) => {
            f.error(e, "must be a whole number from 1 to 1000 (how many triggers may wait behind a run)");
            None
        }
    };
    let overlap = match f.string("overlap") {
        None => Overlap::Queue(1),
        Some((e, v)) => match v.trim().to_ascii_lowercase().as_str() {
            "" | "queue" => Overlap::Queue(1),
            "skip" => Overlap::Skip,
            "replace" => Overlap::Replace,
            "latest" => Overlap::Latest,
            _ => {
                f.error(e, format!("unknown overlap \"{v}\": expected queue, skip, replace or latest"));
                Overlap::Queue(1)
            }
        },
    };
    match (overlap, size) {
        (Overlap::Queue(_), Some((_, n))) => Overlap::Queue(n),
        (other, Some((e, _))) => {
            f.warn(e, format!("ignored: queue_size applies to overlap = queue, not {}", other.as_str()));
            other
        }
        (other, None) => other,
    }
}

/// `timezone`, in `[karajo]` and per job; `None` when absent or wrong
/// (reported).
pub(super) fn read_timezone(f: &mut Fields<'_>) -> Option<crate::schedule::Tz> {
    let (e, name) = f.string("timezone").filter(|(_, v)| !v.trim().is_empty())?;
    match crate::schedule::parse_zone(&name) {
        Ok(tz) => Some(tz),
        Err(err) => {
            f.error(e, err.to_string());
            None
        }
    }
}

/// `jitter`: a duration under the shortest time between two timer runs (a
/// jitter as long would let a run start after the next slot).
fn read_jitter(f: &mut Fields<'_>, timer: Option<&Timer>) -> Duration {
    let Some((e, n)) = f.duration("jitter") else { return Duration::ZERO };
    if n < 0 {
        f.error(e, "must be a duration of 0 or more, like 30s (the most a timer run may start after its slot)");
        return Duration::ZERO;
    }
    let jitter = Duration::from_nanos(n as u64);
    let period = match timer {
        Some(Timer::Interval(d)) => *d,
        Some(Timer::Schedule(s)) => s.shortest_gap().to_std().unwrap_or(Duration::MAX),
        None => {
            if n > 0 {
                f.warn(e, "ignored: the job has no schedule or interval, and jitter delays timer runs only");
            }
            return Duration::ZERO;
        }
    };
    if jitter >= period {
        let (j, p) = (super::duration::format(n), super::duration::format(period.as_nanos() as i64));
        f.error(e, format!("{j} must be less than the shortest time between two runs of this timer ({p})"));
        return Duration::ZERO;
    }
    jitter
}

/// `history_retention` of `[karajo]` or a job: run rows kept per job.
pub(super) fn read_history_retention(f: &mut Fields<'_>) -> Option<u32> {
    match f.int("history_retention") {
        Some((_, n)) if n >= 1 && n <= i64::from(u32::MAX) => Some(n as u32),
        Some((e, _)) => {
            f.error(e, "must be a whole number of at least 1 (how many run rows of the history to keep per job)");
            None
        }
        None => None,
    }
}

pub(super) fn read_notif_names(f: &mut Fields<'_>, key: &'static str, known: &BTreeSet<String>) -> Vec<String> {
    let mut names = Vec::new();
    for (e, name) in f.list(key) {
        let name = name.trim().to_string();
        if !known.contains(&name) {
            let defined: Vec<&str> = known.iter().map(String::as_str).collect();
            let defined = if defined.is_empty() { "none is defined".to_string() } else { defined.join(", ") };
            f.error(e, format!("unknown notification \"{name}\": expected the name of a [notif] section ({defined})"));
        }
        names.push(name);
    }
    names
}

/// `schedule` wins over `interval`; intervals under a minute are raised.
fn read_timer(f: &mut Fields<'_>) -> (Option<Timer>, String) {
    let schedule = f.string("schedule").filter(|(_, v)| !v.trim().is_empty());
    let interval = f.duration("interval");
    if let Some((e, text)) = schedule {
        if let Some((ie, n)) = interval
            && n != 0
        {
            f.warn(ie, format!("ignored: schedule (line {}) takes precedence over interval", e.line));
        }
        return match text.parse::<crate::schedule::Schedule>() {
            Ok(s) => (Some(Timer::Schedule(s)), text.trim().to_string()),
            Err(err) => {
                f.error(e, err.to_string());
                (None, String::new())
            }
        };
    }
    match interval {
        None | Some((_, 0)) => (None, String::new()),
        Some((e, n)) if n < 0 => {
            f.error(e, "must be a positive duration like 5m, or 0 for none");
            (None, String::new())
        }
        Some((e, n)) => {
            let mut d = Duration::from_nanos(n as u64);
            if d < MIN_INTERVAL {
                f.warn(e, format!("{} is under one minute; raised to 1m", super::duration::format(n)));
                d = MIN_INTERVAL;
            }
            (Some(Timer::Interval(d)), super::duration::format(d.as_nanos() as i64))
        }
    }
}

/// Reads one `[job "NAME"]`.
pub fn read_job(f: &mut Fields<'_>, file: &Path, name: &str, line: usize, ctx: &Context<'_>) -> JobConfig {
    let mut common = read_common(f, ctx, file, name, line);
    common.retry = super::retry::read_retry(f, super::RetryFor::Commands);
    let path = f.string("path").and_then(|(e, v)| match normalise_path(&v) {
        Ok(p) => p,
        Err(msg) => {
            f.error(e, msg);
            None
        }
    });
    let auth_kind = match f.string("auth_kind") {
        None => AuthKind::HmacSha256,
        Some((e, v)) => match v.trim().to_ascii_lowercase().as_str() {
            "" | "hmac-sha256" => AuthKind::HmacSha256,
            "github" => AuthKind::Github,
            "sourcehut" => AuthKind::Sourcehut,
            _ => {
                f.error(e, format!("unknown auth kind \"{v}\": expected hmac-sha256, github or sourcehut"));
                AuthKind::HmacSha256
            }
        },
    };
    let mut commands = Vec::new();
    for (e, v) in f.list("command") {
        f.warn_if_cut(e);
        commands.push(v);
    }
    let timeout = match f.duration("timeout") {
        Some((_, n)) if n > 0 => Some(Duration::from_nanos(n as u64)),
        Some((_, 0)) | None => None,
        Some((e, _)) => {
            f.error(e, "must be a positive duration like 10m, or 0 for none");
            None
        }
    };
    let leave_processes = f.bool("leave_processes").unwrap_or(false);
    let exec = super::exec::read_exec(f, file, ctx.env);
    JobConfig { common, path, auth_kind, commands, timeout, leave_processes, exec }
}

/// A webhook path: a leading `/` is added, trailing ones dropped; no
/// query, fragment, blanks or dot segments. Empty means no webhook.
pub fn normalise_path(raw: &str) -> Result<Option<String>, String> {
    let p = raw.trim().trim_end_matches('/');
    if p.is_empty() {
        return Ok(None);
    }
    let p = if p.starts_with('/') { p.to_string() } else { format!("/{p}") };
    let bad = |c: char| c.is_whitespace() || c.is_control() || matches!(c, '?' | '#' | '%' | '\\');
    if p.contains(bad) || p.split('/').any(|seg| seg == "." || seg == "..") || p.contains("//") {
        return Err(format!(
            "invalid path \"{raw}\": expected URL path segments without blanks, '?', '#', '%', '\\', '//' or dot segments"
        ));
    }
    Ok(Some(p))
}

/// Reads one `[job.http "NAME"]`.
pub fn read_http_job(f: &mut Fields<'_>, file: &Path, name: &str, line: usize, ctx: &Context<'_>) -> JobHttpConfig {
    let server = ctx.server;
    let mut common = read_common(f, ctx, file, name, line);
    common.retry = super::retry::read_retry(f, super::RetryFor::Http);
    let http_method = read_method(f, "http_method", HttpMethod::Get);
    let http_url = match f.string("http_url") {
        Some((e, v)) => {
            let v = v.trim().to_string();
            if let Err(msg) = check_url(&v) {
                f.error(e, msg);
            }
            v
        }
        None => {
            f.section_error("missing http_url: expected an http(s):// URL or a path starting with /");
            String::new()
        }
    };
    let http_request_type = match f.string("http_request_type") {
        None => RequestType::Query,
        Some((e, v)) => match v.trim().to_ascii_lowercase().as_str() {
            "" | "query" => RequestType::Query,
            "form" | "form-urlencoded" => RequestType::Form,
            "json" => RequestType::Json,
            _ => {
                f.error(e, format!("unknown request type \"{v}\": expected query, form or json"));
                RequestType::Query
            }
        },
    };
    let http_headers = read_headers(f, "http_header", ctx.env);
    let http_timeout = match f.duration("http_timeout") {
        None | Some((_, 0)) => Some(server.http_timeout),
        Some((_, n)) if n < 0 => None,
        Some((_, n)) => Some(Duration::from_nanos(n as u64)),
    };
    let http_insecure = f.bool("http_insecure").unwrap_or(false);
    JobHttpConfig { common, http_method, http_url, http_request_type, http_headers, http_timeout, http_insecure }
}

/// An HTTP method key (`http_method`, a webhook's `method`).
pub(super) fn read_method(f: &mut Fields<'_>, key: &'static str, default: HttpMethod) -> HttpMethod {
    match f.string(key) {
        None => default,
        Some((e, v)) => match v.trim().to_ascii_uppercase().as_str() {
            "" => default,
            "GET" => HttpMethod::Get,
            "POST" => HttpMethod::Post,
            "PUT" => HttpMethod::Put,
            "DELETE" => HttpMethod::Delete,
            _ => {
                f.error(e, format!("unknown method \"{v}\": expected GET, POST, PUT or DELETE"));
                default
            }
        },
    }
}

/// A repeatable `Name: value` header key; `$VAR` values from `env`.
pub(super) fn read_headers(f: &mut Fields<'_>, key: &'static str, env: EnvLookup<'_>) -> Vec<HttpHeader> {
    let mut headers = Vec::new();
    for (e, v) in f.list(key) {
        match parse_header(&v).and_then(|(name, value)| resolve_header(name, &value, env)) {
            Ok(h) => headers.push(h),
            Err(msg) => f.error(e, msg),
        }
    }
    headers
}

/// An absolute `http://` or `https://` URL with a host (a webhook's `url`,
/// `ping_url`): these leave the daemon, so a path on itself makes no sense.
pub(super) fn check_absolute_url(v: &str) -> Result<(), String> {
    let expected = "expected an absolute http:// or https:// URL";
    match reqwest::Url::parse(v) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()) => Ok(()),
        Ok(_) => Err(format!("invalid URL \"{v}\": {expected}")),
        Err(e) => Err(format!("invalid URL \"{v}\" ({e}): {expected}")),
    }
}

fn check_url(v: &str) -> Result<(), String> {
    if v.starts_with('/') && !v.starts_with("//") {
        return Ok(());
    }
    let rest = v.strip_prefix("http://").or_else(|| v.strip_prefix("https://"));
    match rest {
        Some(r) if !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace) => Ok(()),
        _ => Err(format!("invalid URL \"{v}\": expected http://HOST/..., https://HOST/... or a path starting with /")),
    }
}

/// `Name: value`, with a valid header name.
pub fn parse_header(v: &str) -> Result<(String, String), String> {
    let expected = "expected \"Name: value\"";
    let Some((name, value)) = v.split_once(':') else {
        return Err(format!("invalid header \"{v}\": {expected}"));
    };
    let name = name.trim();
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(token) {
        return Err(format!("invalid header name \"{name}\" in \"{v}\": {expected}"));
    }
    if value.contains(['\r', '\n']) {
        return Err(format!("invalid header value in \"{v}\": line breaks are not allowed"));
    }
    Ok((name.to_string(), value.trim().to_string()))
}

/// A value `$VAR` is read from the environment, like `smtp_password`.
fn resolve_header(name: String, value: &str, env: EnvLookup<'_>) -> Result<HttpHeader, String> {
    let resolved = resolve_credential(value, env)?;
    let var = value.trim().strip_prefix('$').map(str::to_string);
    if resolved.contains(['\r', '\n']) {
        return Err(format!("the value of header {name} (from ${}) has a line break", var.unwrap_or_default()));
    }
    Ok(HttpHeader { name, value: resolved, var })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_paths_are_normalised_and_checked() {
        assert_eq!(normalise_path("test-success").unwrap().as_deref(), Some("/test-success"));
        assert_eq!(normalise_path("/a/b/").unwrap().as_deref(), Some("/a/b"));
        assert_eq!(normalise_path("  ").unwrap(), None);
        for bad in ["/a/../b", "/a b", "/a?x", "/a//b", "/%2e%2e"] {
            assert!(normalise_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn header_values_may_come_from_the_environment_and_never_show() {
        let env = |k: &str| match k {
            "API_KEY" => Some("k-123".to_string()),
            "BROKEN" => Some("a\nb".to_string()),
            _ => None,
        };
        let h = resolve_header("X-Api-Key".into(), "$API_KEY", &env).unwrap();
        assert_eq!((h.value.as_str(), h.shown().as_str()), ("k-123", "X-Api-Key: $API_KEY"));
        assert_eq!(format!("{h:?}"), "X-Api-Key: $API_KEY");
        let auth = resolve_header("Authorization".into(), "Bearer abc", &env).unwrap();
        assert_eq!((auth.value.as_str(), auth.shown().as_str()), ("Bearer abc", "Authorization: ***"));
        assert!(resolve_header("X".into(), "$UNSET", &env).unwrap_err().contains("UNSET"));
        assert!(resolve_header("X".into(), "$BROKEN", &env).is_err());
        assert_eq!(resolve_header("X".into(), "a$b", &env).unwrap().value, "a$b", "only a leading $ reads a variable");
    }

    #[test]
    fn headers() {
        assert_eq!(parse_header("X-A: b c ").unwrap(), ("X-A".into(), "b c".into()));
        assert_eq!(parse_header("Authorization: Bearer a:b").unwrap().1, "Bearer a:b");
        assert!(parse_header("no colon").is_err());
        assert!(parse_header("bad name: x").is_err());
    }

    #[test]
    fn urls() {
        assert!(check_url("/karajo/api/job_exec/run/x").is_ok());
        assert!(check_url("https://example.com/x").is_ok());
        for bad in ["", "ftp://x", "http://", "//x", "example.com"] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
