//! One HTTP job run: build the signed request (`_karajo_epoch` in the query,
//! a form or JSON body), send it, and log the request and the response
//! (body cut at [`MAX_RESPONSE_LOG_BYTES`]). 2xx is success.
//!
//! Invariant: the log never holds a credential: credential headers (ours
//! and the response's), `$VAR` header values and URL userinfo are written
//! as `proto::redact` and [`HttpHeader::shown`] show them.

use std::sync::{Arc, OnceLock};

use futures_util::StreamExt;
use proto::JobStatus;

use super::attempt::Outcome;
use crate::config::Cause;
use tokio_util::sync::CancellationToken;

use super::clock::Clock;
use crate::config::{HttpHeader, HttpMethod, JobHttpConfig, RequestType};
use crate::store::log::RunLog;

/// How much of a response body goes into the log.
pub const MAX_RESPONSE_LOG_BYTES: usize = 64 * 1024;

/// The two clients HTTP jobs share: one checks certificates, one does not
/// (`http_insecure`, used only by the jobs that ask for it).
#[derive(Default)]
pub(crate) struct Clients {
    strict: OnceLock<reqwest::Client>,
    insecure: OnceLock<reqwest::Client>,
}

impl Clients {
    fn get(&self, insecure: bool) -> reqwest::Client {
        let cell = if insecure { &self.insecure } else { &self.strict };
        cell.get_or_init(|| {
            reqwest::Client::builder()
                .danger_accept_invalid_certs(insecure)
                .user_agent(concat!("karajo/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("the TLS backend initialises")
        })
        .clone()
    }
}

/// The request as it will be sent, for signing and logging.
struct Prepared {
    url: String,
    body: Option<(Vec<u8>, &'static str)>,
    sign: String,
}

/// GitHub's signature header; its value carries the `sha256=` prefix, so
/// an HTTP job can trigger a webhook of `auth_kind = github`.
const GITHUB_SIGN_HEADER: &str = "X-Hub-Signature-256";

fn prepare(cfg: &JobHttpConfig, self_url: &str, epoch: i64) -> Prepared {
    let mut p = prepare_unsigned_format(cfg, self_url, epoch);
    if cfg.common.header_sign.eq_ignore_ascii_case(GITHUB_SIGN_HEADER) {
        p.sign = format!("sha256={}", p.sign);
    }
    p
}

fn prepare_unsigned_format(cfg: &JobHttpConfig, self_url: &str, epoch: i64) -> Prepared {
    let mut url = if cfg.http_url.starts_with('/') {
        format!("{}{}", self_url.trim_end_matches('/'), cfg.http_url)
    } else {
        cfg.http_url.clone()
    };
    let param = format!("_karajo_epoch={epoch}");
    let in_query =
        cfg.http_request_type == RequestType::Query || matches!(cfg.http_method, HttpMethod::Get | HttpMethod::Delete);
    let secret = cfg.common.secret.expose().as_bytes();
    if in_query {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&param);
        let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
        let sign = proto::sign::hmac_sha256_hex(secret, query.as_bytes());
        return Prepared { url, body: None, sign };
    }
    let (body, ctype) = match cfg.http_request_type {
        RequestType::Json => (format!("{{\"_karajo_epoch\":{epoch}}}"), "application/json"),
        _ => (param, "application/x-www-form-urlencoded"),
    };
    let sign = proto::sign::hmac_sha256_hex(secret, body.as_bytes());
    Prepared { url, body: Some((body.into_bytes(), ctype)), sign }
}

/// Sends the job's request; logs everything; returns how it ended.
pub(crate) async fn run(
    cfg: &JobHttpConfig,
    self_url: &str,
    clients: &Clients,
    clock: &Arc<dyn Clock>,
    cancel: &CancellationToken,
    log: &mut RunLog,
) -> Outcome {
    let p = prepare(cfg, self_url, clock.now().timestamp());
    let method = reqwest::Method::from_bytes(cfg.http_method.as_str().as_bytes()).expect("a known method");
    let mut req = clients.get(cfg.http_insecure).request(method, &p.url);
    let mut lines = vec![format!("--- Request: {} {}", cfg.http_method.as_str(), proto::redact::url(&p.url))];
    let mut header = |req: reqwest::RequestBuilder, h: &HttpHeader| {
        lines.push(format!("--- Request header: {}", h.shown()));
        req.header(&h.name, &h.value)
    };
    req = header(req, &HttpHeader::literal(&cfg.common.header_sign, &p.sign));
    if let Some((_, ctype)) = &p.body {
        req = header(req, &HttpHeader::literal("Content-Type", *ctype));
    }
    for h in &cfg.http_headers {
        req = header(req, h);
    }
    if let Some((body, _)) = p.body {
        lines.push(format!("--- Request body: {}", String::from_utf8_lossy(&body)));
        req = req.body(body);
    }
    if let Some(t) = cfg.http_timeout {
        req = req.timeout(t);
    }
    for l in &lines {
        note(log, clock, l);
    }
    let sent = tokio::select! {
        r = exchange(req, log, clock) => r,
        _ = cancel.cancelled() => {
            note(log, clock, "=== CANCELED");
            return Outcome::of(JobStatus::Canceled);
        }
    };
    match sent {
        Ok(status) if status.is_success() => {
            note(log, clock, "=== DONE");
            Outcome::of(JobStatus::Success)
        }
        Ok(status) => {
            note(log, clock, &format!("!!! failed: the server answered {status}"));
            Outcome::failed(Cause::Status(status.as_u16()))
        }
        Err(e) => {
            let (timeout, connect) = (e.is_timeout(), e.is_connect());
            // The URL (maybe with a password) is on the request line, hidden.
            note(log, clock, &format!("!!! failed: {}", error_chain(&e.without_url())));
            match (timeout, connect) {
                (true, _) => Outcome::failed(Cause::Timeout),
                (_, true) => Outcome::failed(Cause::Connect),
                _ => Outcome::of(JobStatus::Failed),
            }
        }
    }
}

/// Sends the request and logs the response as it comes.
async fn exchange(
    req: reqwest::RequestBuilder,
    log: &mut RunLog,
    clock: &Arc<dyn Clock>,
) -> Result<reqwest::StatusCode, reqwest::Error> {
    let resp = req.send().await?;
    let status = resp.status();
    note(log, clock, &format!("--- Response: {:?} {status}", resp.version()));
    for (k, v) in resp.headers() {
        let v = String::from_utf8_lossy(v.as_bytes());
        note(log, clock, &format!("--- Response header: {k}: {}", proto::redact::header_value(k.as_str(), &v)));
    }
    note(log, clock, "--- Response body:");
    let mut seen = 0usize;
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        let take = chunk.len().min(MAX_RESPONSE_LOG_BYTES - seen);
        log.output_or_report(clock.now(), &chunk[..take]);
        seen += take;
        if seen >= MAX_RESPONSE_LOG_BYTES {
            note(log, clock, &format!("--- (response body truncated at {MAX_RESPONSE_LOG_BYTES} bytes)"));
            break;
        }
    }
    Ok(status)
}

fn note(log: &mut RunLog, clock: &Arc<dyn Clock>, text: &str) {
    log.note(clock.now(), text);
}

/// The error and its causes on one line: reqwest's own text is terse.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use std::time::Duration;

    pub(crate) fn http_cfg(method: HttpMethod, ty: RequestType, url: &str) -> JobHttpConfig {
        let mut common = crate::config::JobCommon::named("h");
        common.secret = Secret::new("s3cret");
        JobHttpConfig {
            common,
            http_method: method,
            http_url: url.into(),
            http_request_type: ty,
            http_headers: vec![],
            http_timeout: Some(Duration::from_secs(5)),
            http_insecure: false,
        }
    }

    #[test]
    fn epoch_goes_where_the_request_type_says_and_is_signed() {
        let q = prepare(&http_cfg(HttpMethod::Post, RequestType::Query, "/x?a=1"), "http://h:1/", 7);
        assert_eq!(q.url, "http://h:1/x?a=1&_karajo_epoch=7");
        assert_eq!(q.sign, proto::sign::hmac_sha256_hex(b"s3cret", b"a=1&_karajo_epoch=7"));
        let g = prepare(&http_cfg(HttpMethod::Get, RequestType::Json, "http://e/"), "", 7);
        assert_eq!((g.url.as_str(), g.body.is_none()), ("http://e/?_karajo_epoch=7", true));
        let j = prepare(&http_cfg(HttpMethod::Post, RequestType::Json, "http://e/"), "", 1677350854);
        let (body, ctype) = j.body.unwrap();
        assert_eq!((body.as_slice(), ctype), (&br#"{"_karajo_epoch":1677350854}"#[..], "application/json"));
        assert!(j.sign.starts_with("fef16cab"), "the documented example");
        let f = prepare(&http_cfg(HttpMethod::Put, RequestType::Form, "http://e/"), "", 7);
        assert_eq!(f.body.unwrap().0, b"_karajo_epoch=7");
        let mut gh = http_cfg(HttpMethod::Post, RequestType::Json, "http://e/");
        gh.common.header_sign = "X-Hub-Signature-256".into();
        let p = prepare(&gh, "", 7);
        let body = p.body.unwrap().0;
        assert!(proto::sign::verify_github(b"s3cret", &body, Some(&p.sign), None));
    }
}
