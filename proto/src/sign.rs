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
