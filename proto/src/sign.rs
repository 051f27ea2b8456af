//! Request signatures: hex HMAC-SHA256 as karajo signs, and GitHub's
//! `sha256=` / `sha1=` headers. Every comparison is constant-time.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Lower-case hex HMAC-SHA256 of `payload` under `secret`: the value of
/// `X-Karajo-Sign`.
pub fn hmac_sha256_hex(secret: &[u8], payload: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(payload);
    hex::encode(mac.finalize().into_bytes())
}

/// Lower-case hex HMAC-SHA1, for GitHub's legacy `X-Hub-Signature`.
pub fn hmac_sha1_hex(secret: &[u8], payload: &[u8]) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(payload);
    hex::encode(mac.finalize().into_bytes())
}

/// True when `given` (hex, any case, surrounding blanks ignored) is the
/// HMAC-SHA256 of `payload`. Constant time in the signature's content.
pub fn verify_hmac_sha256(secret: &[u8], payload: &[u8], given: &str) -> bool {
    ct_eq_hex(&hmac_sha256_hex(secret, payload), given)
}

/// Verifies a GitHub webhook: `X-Hub-Signature-256: sha256=<hex>` when
/// present, else `X-Hub-Signature: sha1=<hex>`.
pub fn verify_github(secret: &[u8], payload: &[u8], sig256: Option<&str>, sig1: Option<&str>) -> bool {
    if let Some(v) = sig256 {
        return v.trim().strip_prefix("sha256=").is_some_and(|h| ct_eq_hex(&hmac_sha256_hex(secret, payload), h));
    }
    if let Some(v) = sig1 {
        return v.trim().strip_prefix("sha1=").is_some_and(|h| ct_eq_hex(&hmac_sha1_hex(secret, payload), h));
    }
    false
}

/// The header of the signature that binds the action (SPEC 21).
pub const SIGNATURE_HEADER: &str = "X-Karajo-Signature";

/// What the action-binding signature covers: `METHOD\nPATH\nEPOCH\nBODY`,
/// PATH with its query as sent.
pub fn bound_payload(method: &str, path_query: &str, epoch: i64, body: &[u8]) -> Vec<u8> {
    let mut out = format!("{}\n{path_query}\n{epoch}\n", method.to_ascii_uppercase()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// The value of `X-Karajo-Signature`: `t=EPOCH,v1=HEX`.
pub fn sign_bound(secret: &[u8], method: &str, path_query: &str, epoch: i64, body: &[u8]) -> String {
    let hex = hmac_sha256_hex(secret, &bound_payload(method, path_query, epoch, body));
    format!("t={epoch},v1={hex}")
}

/// The epoch and hex of an `X-Karajo-Signature` value; `None` when it is
/// not of the form `t=EPOCH,v1=HEX` (in any order, blanks allowed).
pub fn parse_bound(value: &str) -> Option<(i64, &str)> {
    let (mut t, mut v1) = (None, None);
    for part in value.split(',') {
        match part.trim().split_once('=') {
            Some(("t", e)) => t = Some(e.trim().parse::<i64>().ok()?),
            Some(("v1", h)) => v1 = Some(h.trim()),
            _ => return None,
        }
    }
    Some((t?, v1?))
}

/// True when `hex` is the bound signature of this request under `secret`.
pub fn verify_bound(secret: &[u8], method: &str, path_query: &str, epoch: i64, body: &[u8], hex: &str) -> bool {
    verify_hmac_sha256(secret, &bound_payload(method, path_query, epoch, body), hex)
}

fn ct_eq_hex(expected_lower: &str, given: &str) -> bool {
    let given = given.trim().to_ascii_lowercase();
    // The length is public (it is fixed by the hash), only the content is secret.
    expected_lower.len() == given.len() && bool::from(expected_lower.as_bytes().ct_eq(given.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_original_documented_example() {
        // From karajo's documentation: secret "s3cret", this exact body.
        let sig = hmac_sha256_hex(b"s3cret", br#"{"_karajo_epoch":1677350854}"#);
        assert!(sig.starts_with("fef16cab"), "{sig}");
        assert!(sig.ends_with("f38c54"), "{sig}");
        assert!(verify_hmac_sha256(b"s3cret", br#"{"_karajo_epoch":1677350854}"#, &sig.to_uppercase()));
    }

    #[test]
    fn wrong_or_empty_signatures_fail() {
        let sig = hmac_sha256_hex(b"k", b"body");
        assert!(!verify_hmac_sha256(b"k", b"body2", &sig));
        assert!(!verify_hmac_sha256(b"k", b"body", ""));
        assert!(!verify_hmac_sha256(b"k", b"body", &sig[..10]));
    }

    #[test]
    fn bound_signatures_cover_method_path_epoch_and_body() {
        let h = sign_bound(b"k", "post", "/karajo/api/job_exec/pause?x=1", 42, b"id=a");
        let (t, hex) = parse_bound(&h).unwrap();
        assert_eq!(t, 42);
        assert!(verify_bound(b"k", "POST", "/karajo/api/job_exec/pause?x=1", 42, b"id=a", hex));
        assert!(!verify_bound(b"k", "POST", "/karajo/api/job_exec/resume?x=1", 42, b"id=a", hex));
        assert!(!verify_bound(b"k", "POST", "/karajo/api/job_exec/pause?x=1", 43, b"id=a", hex));
        assert!(!verify_bound(b"k", "GET", "/karajo/api/job_exec/pause?x=1", 42, b"id=a", hex));
        assert_eq!(parse_bound("v1=ab, t=7"), Some((7, "ab")));
        assert_eq!(parse_bound("t=x,v1=ab"), None);
        assert_eq!(parse_bound("t=1"), None);
        assert_eq!(parse_bound("t=1,v2=ab"), None);
    }

    #[test]
    fn github_prefers_sha256_and_falls_back_to_sha1() {
        let body = b"{}";
        let s256 = format!("sha256={}", hmac_sha256_hex(b"k", body));
        let s1 = format!("sha1={}", hmac_sha1_hex(b"k", body));
        assert!(verify_github(b"k", body, Some(&s256), None));
        assert!(verify_github(b"k", body, None, Some(&s1)));
        assert!(!verify_github(b"k", body, Some("sha256=00"), Some(&s1)));
        assert!(!verify_github(b"k", body, None, None));
        assert!(!verify_github(b"k", body, Some(&s1), None));
    }
}
