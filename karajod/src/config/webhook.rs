//! `[notif "NAME"] kind = webhook` into a [`WebhookConfig`]: `url`,
//! `method`, `http_header`, `secret`, `timeout` and `format` (SPEC 18).
//!
//! Invariants: the URL is absolute http(s); a `$VAR` secret or header value
//! is resolved here, once, and an unset variable is an error.

use std::path::Path;
use std::time::Duration;

use super::fields::Fields;
use super::job::{check_absolute_url, read_headers, read_method};
use super::model::{DEFAULT_WEBHOOK_TIMEOUT, HttpMethod, Origin, Secret, WebhookConfig, WebhookFormat};
use super::notif::{EnvLookup, resolve_credential};

/// Reads the keys of a webhook notification (`kind` already read).
pub fn read_webhook(f: &mut Fields<'_>, file: &Path, name: &str, line: usize, env: EnvLookup) -> Option<WebhookConfig> {
    let url = match f.string("url") {
        Some((e, v)) => match check_absolute_url(v.trim()) {
            Ok(()) => Some(v.trim().to_string()),
            Err(msg) => {
                f.error(e, msg);
                None
            }
        },
        None => {
            f.section_error("missing url: expected the http(s):// URL deliveries are sent to");
            None
        }
    };
    let method = read_method(f, "method", HttpMethod::Post);
    let headers = read_headers(f, "http_header", env);
    let secret = match f.string("secret") {
        Some((e, v)) => match resolve_credential(v.trim(), env) {
            Ok(s) if s.is_empty() => None,
            Ok(s) => Some(Secret::new(s)),
            Err(msg) => {
                f.error(e, msg);
                None
            }
        },
        None => None,
    };
    let timeout = match f.duration("timeout") {
        None => DEFAULT_WEBHOOK_TIMEOUT,
        Some((_, n)) if n > 0 => Duration::from_nanos(n as u64),
        Some((e, _)) => {
            f.error(e, "must be a positive duration like 10s (how long one delivery may take)");
            DEFAULT_WEBHOOK_TIMEOUT
        }
    };
    let format = read_format(f);
    Some(WebhookConfig {
        name: name.to_string(),
        url: url?,
        method,
        headers,
        secret,
        timeout,
        format,
        origin: Origin { file: file.to_path_buf(), line },
    })
}

fn read_format(f: &mut Fields<'_>) -> WebhookFormat {
    let Some((e, v)) = f.string("format") else { return WebhookFormat::Json };
    let v = v.trim().to_ascii_lowercase();
    if v.is_empty() {
        return WebhookFormat::Json;
    }
    match WebhookFormat::ALL.into_iter().find(|fmt| fmt.as_str() == v) {
        Some(fmt) => fmt,
        None => {
            let all: Vec<&str> = WebhookFormat::ALL.iter().map(|f| f.as_str()).collect();
            f.error(e, format!("unknown format \"{v}\": expected {}", all.join(", ")));
            WebhookFormat::Json
        }
    }
}
