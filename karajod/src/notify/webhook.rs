//! Webhook notifications (`kind = webhook`, SPEC 18): the body of each
//! `format`, the signature, and one delivery with its retries.
//!
//! Invariants: the signature is hex HMAC-SHA256 of the exact bytes sent;
//! a delivery is retried [`RETRIES`] times after a transport error or a
//! 5xx (never after a 4xx, which a retry cannot fix), each attempt bounded
//! by the notification's `timeout`; secrets reach neither logs nor bodies.

use std::time::Duration;

use serde_json::json;

use super::event::Alert;
use crate::config::model::{HttpMethod, WebhookConfig, WebhookFormat};

/// The `log_tail` of the json format: the end of the log is where a failure shows.
pub const LOG_TAIL_BYTES: u64 = 4 * 1024;
/// Retries after the first attempt.
pub const RETRIES: u32 = 3;
/// The wait before the first retry; it doubles for each next one.
pub const RETRY_BACKOFF: Duration = Duration::from_millis(500);
/// The header the signature goes in, as for signed requests elsewhere.
pub const SIGN_HEADER: &str = "X-Karajo-Sign";
/// Chat messages carry less of the log: Discord refuses more than 2,000
/// characters, and a chat line is for humans.
const CHAT_TAIL_CHARS: usize = 1500;

/// One request, ready to send (and to resend unchanged).
#[derive(Debug, Clone)]
pub struct Request {
    pub url: String,
    pub body: Vec<u8>,
    /// Content type and format headers first, then the config's `http_header`s.
    pub headers: Vec<(String, String)>,
}

/// Why a delivery failed in the end.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("the receiver answered {0}")]
    Status(u16),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot reach the receiver: {0}")]
    Transport(String),
}

impl DeliveryError {
    fn retryable(&self) -> bool {
        !matches!(self, DeliveryError::Status(s) if *s < 500)
    }
}

/// The request `cfg` sends for `alert`; `txn` makes a Matrix transaction ID unique.
pub fn request(cfg: &WebhookConfig, alert: &Alert, tail: &str, txn: u64) -> Request {
    let mut url = cfg.url.clone();
    let (content_type, body) = match cfg.format {
        WebhookFormat::Json => ("application/json", json_body(alert, tail)),
        WebhookFormat::Slack => ("application/json", json!({ "text": text(alert, tail, true) }).to_string()),
        WebhookFormat::Discord => ("application/json", json!({ "content": text(alert, tail, true) }).to_string()),
        WebhookFormat::Ntfy => ("text/plain; charset=utf-8", text(alert, tail, false)),
        WebhookFormat::Matrix => {
            // Matrix's send API is PUT .../send/m.room.message/TXN and
            // drops a repeated TXN as a duplicate, so each delivery gets its own.
            if cfg.method == HttpMethod::Put {
                url = format!(
                    "{}/karajo-{}-{txn}",
                    url.trim_end_matches('/'),
                    alert.started_at.map_or(0, |t| t.timestamp_millis())
                );
            }
            ("application/json", json!({ "msgtype": "m.text", "body": text(alert, tail, false) }).to_string())
        }
    };
    let body = body.into_bytes();
    let mut headers = vec![("Content-Type".to_string(), content_type.to_string())];
    if cfg.format == WebhookFormat::Ntfy {
        headers.push(("Title".into(), headline(alert)));
        headers.push(("Tags".into(), format!("karajo,{}", alert.event.as_str())));
        headers.push(("Priority".into(), if alert.event.is_bad() { "high" } else { "default" }.into()));
    }
    if let Some(secret) = &cfg.secret {
        headers.push((SIGN_HEADER.into(), proto::sign::hmac_sha256_hex(secret.expose().as_bytes(), &body)));
    }
    headers.extend(cfg.headers.iter().map(|h| (h.name.clone(), h.value.clone())));
    Request { url, body, headers }
}

/// The `json` format: exactly the keys SPEC 18 lists.
fn json_body(a: &Alert, tail: &str) -> String {
    json!({
        "event": a.event.as_str(),
        "kind": a.kind,
        "job_id": a.job_id,
        "job_name": a.job_name,
        "counter": a.counter,
        "status": a.status,
        "trigger": a.trigger,
        "attempts": a.attempts,
        "started_at": a.started_at.map(|t| proto::time::format(Some(t))),
        "ended_at": a.ended_at.map(|t| proto::time::format(Some(t))),
        "duration_ms": a.duration_ms,
        "log_url": a.log_url,
        "log_tail": tail,
    })
    .to_string()
}

/// "job backup #7: failed": the first line of every chat format.
fn headline(a: &Alert) -> String {
    format!("{} {} #{}: {}", a.kind, a.job_id, a.counter, a.event.as_str())
}

/// A message for people: the headline, the status and link, the log's end.
fn text(a: &Alert, tail: &str, markdown: bool) -> String {
    let mut out = headline(a);
    if a.status != a.event.as_str() {
        out.push_str(&format!(" (status {})", a.status));
    }
    if !a.log_url.is_empty() {
        out.push('\n');
        out.push_str(&a.log_url);
    }
    let cut = tail.char_indices().rev().nth(CHAT_TAIL_CHARS.saturating_sub(1)).map_or(0, |(i, _)| i);
    let tail = tail[cut..].trim_end();
    if !tail.is_empty() {
        // A log holding ``` would end the code block early; it is only shown.
        let tail = if markdown { format!("```\n{}\n```", tail.replace("```", "'''")) } else { tail.to_string() };
        out.push('\n');
        out.push_str(&tail);
    }
    out
}

/// Sends `req`, retrying as the module header says. `Ok` is a 2xx answer.
pub async fn deliver(client: &reqwest::Client, cfg: &WebhookConfig, req: &Request) -> Result<(), DeliveryError> {
    let mut backoff = RETRY_BACKOFF;
    let mut attempt = 0;
    loop {
        let err = match send_once(client, cfg, req).await {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        if attempt == RETRIES || !err.retryable() {
            return Err(err);
        }
        tracing::debug!(notif = %cfg.name, attempt = attempt + 1, error = %err, "webhook delivery failed; retrying");
        tokio::time::sleep(backoff).await;
        backoff *= 2;
        attempt += 1;
    }
}

async fn send_once(client: &reqwest::Client, cfg: &WebhookConfig, req: &Request) -> Result<(), DeliveryError> {
    let method = reqwest::Method::from_bytes(cfg.method.as_str().as_bytes()).unwrap_or(reqwest::Method::POST);
    let mut builder = client.request(method, &req.url).timeout(cfg.timeout).body(req.body.clone());
    for (name, value) in &req.headers {
        builder = builder.header(name, value);
    }
    match builder.send().await {
        Ok(resp) if resp.status().is_success() => Ok(()),
        Ok(resp) => Err(DeliveryError::Status(resp.status().as_u16())),
        Err(e) if e.is_timeout() => Err(DeliveryError::Timeout(cfg.timeout)),
        // Without the URL: a query string may hold a token.
        Err(e) => Err(DeliveryError::Transport(e.without_url().to_string())),
    }
}
