//! The parameters of requests: API folders per kind of job, percent
//! encoding, and the `_karajo_epoch` + `id` that admin calls sign.
//!
//! Invariant: what [`admin_params`] returns is byte for byte what is sent
//! and signed; nothing re-encodes it afterwards.

use std::time::{SystemTime, UNIX_EPOCH};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use proto::JobKind;

/// The API's folder for a kind of job: `job_exec` or `job_http`.
pub fn segment(kind: JobKind) -> &'static str {
    match kind {
        JobKind::Job => "job_exec",
        JobKind::JobHttp => "job_http",
    }
}

/// What [`encode`] escapes: every byte but RFC 3986's unreserved
/// `A-Z a-z 0-9 - . _ ~` (so a space is `%20`, never `+`).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encodes a form or query value, UTF-8 bytes as upper-case `%XX`.
pub fn encode(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// The signed parameters of an admin call: `_karajo_epoch=E&id=ID` (job_exec
/// form body) or `id=ID&_karajo_epoch=E` (job_http query), as sent.
pub fn admin_params(kind: JobKind, id: &str, epoch: u64) -> String {
    match kind {
        JobKind::Job => format!("_karajo_epoch={epoch}&id={}", encode(id)),
        JobKind::JobHttp => format!("id={}&_karajo_epoch={epoch}", encode(id)),
    }
}
/// Unix time now, the `_karajo_epoch` of signed calls.
pub fn epoch_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_params_are_encoded_and_signed_as_sent() {
        assert_eq!(admin_params(JobKind::Job, "backup", 1700000000), "_karajo_epoch=1700000000&id=backup");
        assert_eq!(admin_params(JobKind::JobHttp, "a b&c", 5), "id=a%20b%26c&_karajo_epoch=5");
        // The signature is over exactly those bytes, with the daemon's helper.
        let params = admin_params(JobKind::Job, "backup", 1700000000);
        let sig = proto::sign::hmac_sha256_hex(b"s3cret", params.as_bytes());
        assert!(proto::sign::verify_hmac_sha256(b"s3cret", params.as_bytes(), &sig));
        assert_eq!(sig.len(), 64);
    }

    #[test]
    fn values_keep_only_unreserved_bytes() {
        assert_eq!(encode("AZaz09-._~"), "AZaz09-._~");
        assert_eq!(encode("a b+c&d=e/f?g#h%"), "a%20b%2Bc%26d%3De%2Ff%3Fg%23h%25");
        assert_eq!(encode("é€"), "%C3%A9%E2%82%AC");
        assert_eq!(encode("\0\n"), "%00%0A");
        assert_eq!(encode(""), "");
    }
}
