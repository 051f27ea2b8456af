//! Webhook triggers, `POST /karajo/api/job_exec/run/PATH`: find the job by
//! its `path`, check the request per its `auth_kind`, hand the body to the
//! run.
//!
//! Auth kinds: `hmac-sha256` (hex HMAC in the job's `header_sign`),
//! `github` (`X-Hub-Signature-256: sha256=`, else `X-Hub-Signature: sha1=`),
//! `sourcehut` (base64 Ed25519 in `X-Payload-Signature` over body +
//! `X-Payload-Nonce`, by SourceHut's published key, injectable for tests).
//!
//! Invariants: every comparison is constant-time; a webhook never accepts
//! a session in place of its signature; replay protection applies to
//! `hmac-sha256` only (the others carry no `_karajo_epoch`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use ed25519_dalek::{Signature, VerifyingKey};
use warp::http::HeaderMap;

use crate::config::AuthKind;
use crate::engine::{Trigger, WebhookAuth};
use crate::http::State;
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ok};
use crate::http::input::percent_decode;

/// SourceHut's published webhook signing key (base64).
pub const SOURCEHUT_PUBLIC_KEY: &str = "uX7KWyyDNMaBma4aVbJ/cbUQpdjqczuCyK/HxzV/u+4=";

/// SourceHut's key, parsed.
pub fn sourcehut_key() -> VerifyingKey {
    parse_verifying_key(SOURCEHUT_PUBLIC_KEY).expect("SourceHut's published key is a valid Ed25519 key")
}

/// A base64 Ed25519 public key.
pub fn parse_verifying_key(b64: &str) -> Option<VerifyingKey> {
    let bytes: [u8; 32] = STANDARD.decode(b64.trim()).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// True when the request is signed as the job's `auth_kind` requires.
pub fn verify(auth: &WebhookAuth, headers: &HeaderMap, body: &[u8], sourcehut: &VerifyingKey) -> bool {
    let secret = auth.secret.expose().as_bytes();
    match auth.auth_kind {
        AuthKind::HmacSha256 => {
            header(headers, &auth.header_sign).is_some_and(|sig| proto::sign::verify_hmac_sha256(secret, body, sig))
        }
        AuthKind::Github => proto::sign::verify_github(
            secret,
            body,
            header(headers, "X-Hub-Signature-256"),
            header(headers, "X-Hub-Signature"),
        ),
        AuthKind::Sourcehut => verify_sourcehut(headers, body, sourcehut),
    }
}

fn verify_sourcehut(headers: &HeaderMap, body: &[u8], key: &VerifyingKey) -> bool {
    let (Some(sig), Some(nonce)) = (header(headers, "X-Payload-Signature"), header(headers, "X-Payload-Nonce")) else {
        return false;
    };
    let Some(sig) = STANDARD.decode(sig.trim()).ok().and_then(|b| Signature::from_slice(&b).ok()) else {
        return false;
    };
    let mut signed = Vec::with_capacity(body.len() + nonce.len());
    signed.extend_from_slice(body);
    signed.extend_from_slice(nonce.as_bytes());
    key.verify_strict(&signed, &sig).is_ok()
}

/// The webhook request as decoded by the route.
#[derive(Debug)]
pub struct WebhookRequest {
    pub caller: Caller,
    /// The path after `/job_exec/run`, still percent-encoded, no leading `/`.
    pub tail: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Checks and triggers; answers 200 with the Job once the run is queued.
/// Every delivery to a known path whose signature holds is audited.
pub fn handle(state: &State, req: WebhookRequest) -> Result<warp::reply::Response, ApiError> {
    let path = format!("/{}", percent_decode(&req.tail).unwrap_or_default());
    let auth = state.backend.webhook(&path).ok_or_else(|| ApiError::WebhookNotFound(path.clone()))?;
    let delivery = ["X-GitHub-Delivery", "X-Karajo-Delivery"]
        .iter()
        .find_map(|h| header(&req.headers, h))
        .unwrap_or("-")
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(100)
        .collect::<String>();
    let actor = format!("webhook:{} delivery={delivery}", auth.auth_kind.as_str());
    let caller = req.caller;
    let result = check_and_trigger(state, &path, &auth, req, &actor);
    // A bad signature is not audited: a flood of forgeries must not fill the disk.
    if !matches!(result, Err(ApiError::Forbidden)) {
        state.record_as(&caller, actor, "webhook", auth.id.as_str(), &result);
    }
    result
}

fn check_and_trigger(
    state: &State,
    path: &str,
    auth: &WebhookAuth,
    req: WebhookRequest,
    actor: &str,
) -> Result<warp::reply::Response, ApiError> {
    let trusted = matches!(req.caller, Caller::Socket { .. });
    if !trusted {
        if !verify(auth, &req.headers, &req.body, &state.sourcehut_key) {
            tracing::info!(job.id = %auth.id, "webhook refused: bad or missing signature");
            return Err(ApiError::Forbidden);
        }
        let window = state.backend.config().server.replay_window;
        if let (Some(window), AuthKind::HmacSha256) = (window, auth.auth_kind) {
            let scope = format!("webhook:{path}");
            state.replay.check(window, &scope, &req.body)?;
        }
    }
    let job = state
        .backend
        .trigger_job(&auth.id, Trigger::Http { body: req.body }, Some(actor.to_string()))
        .map_err(|e| ApiError::from_engine(proto::JobKind::Job, e))?;
    Ok(ok(job))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use ed25519_dalek::{Signer, SigningKey};
    use proto::JobId;

    fn auth(kind: AuthKind) -> WebhookAuth {
        WebhookAuth {
            id: JobId::from_name("j"),
            auth_kind: kind,
            header_sign: "X-Karajo-Sign".into(),
            secret: Secret::new("s3cret"),
        }
    }

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_published_sourcehut_key_parses() {
        let _ = sourcehut_key();
        assert!(parse_verifying_key("not base64").is_none());
    }

    #[test]
    fn hmac_sha256_uses_the_jobs_header() {
        let body = br#"{"_karajo_epoch":1677350854}"#;
        let sig = proto::sign::hmac_sha256_hex(b"s3cret", body);
        let key = sourcehut_key();
        assert!(verify(&auth(AuthKind::HmacSha256), &headers(&[("x-karajo-sign", sig.clone())]), body, &key));
        assert!(!verify(&auth(AuthKind::HmacSha256), &headers(&[("x-karajo-sign", sig.clone())]), b"{}", &key));
        assert!(!verify(&auth(AuthKind::HmacSha256), &headers(&[]), body, &key));
        let mut custom = auth(AuthKind::HmacSha256);
        custom.header_sign = "X-Custom".into();
        assert!(verify(&custom, &headers(&[("x-custom", sig.clone())]), body, &key));
        assert!(!verify(&custom, &headers(&[("x-karajo-sign", sig)]), body, &key));
    }

    #[test]
    fn github_sha256_and_sha1() {
        let body = b"{\"ref\":\"main\"}";
        let key = sourcehut_key();
        let s256 = format!("sha256={}", proto::sign::hmac_sha256_hex(b"s3cret", body));
        let s1 = format!("sha1={}", proto::sign::hmac_sha1_hex(b"s3cret", body));
        let a = auth(AuthKind::Github);
        assert!(verify(&a, &headers(&[("x-hub-signature-256", s256)]), body, &key));
        assert!(verify(&a, &headers(&[("x-hub-signature", s1)]), body, &key));
        assert!(!verify(&a, &headers(&[("x-hub-signature-256", "sha256=00".into())]), body, &key));
    }

    #[test]
    fn sourcehut_signature_over_body_and_nonce() {
        let signing = SigningKey::from_bytes(&[9u8; 32]);
        let key = signing.verifying_key();
        let body = b"{\"event\":\"push\"}";
        let nonce = "n0nce";
        let mut msg = body.to_vec();
        msg.extend_from_slice(nonce.as_bytes());
        let sig = STANDARD.encode(signing.sign(&msg).to_bytes());
        let a = auth(AuthKind::Sourcehut);
        let good = headers(&[("x-payload-signature", sig.clone()), ("x-payload-nonce", nonce.into())]);
        assert!(verify(&a, &good, body, &key));
        assert!(!verify(&a, &good, b"other", &key));
        assert!(!verify(&a, &good, body, &sourcehut_key()), "signed by another key");
        let bad_nonce = headers(&[("x-payload-signature", sig), ("x-payload-nonce", "x".into())]);
        assert!(!verify(&a, &bad_nonce, body, &key));
        let garbage = headers(&[("x-payload-signature", "%%%".into()), ("x-payload-nonce", nonce.into())]);
        assert!(!verify(&a, &garbage, body, &key));
    }
}
