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
/// `path_query` with the parameters a signed read adds to its query: a
/// fresh `_karajo_epoch` (the daemon refuses a signed read without one)
/// and `_karajo_nonce`, so two identical reads in one second are not an
/// exact replay when the daemon has a `replay_window`.
pub fn signed_read_path(path_query: &str, epoch: u64, nonce: u64) -> String {
    let sep = if path_query.contains('?') { '&' } else { '?' };
    format!("{path_query}{sep}_karajo_epoch={epoch}&_karajo_nonce={nonce:016x}")
}

/// A value unlikely to repeat within this process or across processes
/// started in the same second.
pub fn nonce() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    u64::from(nanos) ^ (u64::from(std::process::id()) << 32) ^ COUNT.fetch_add(1, Ordering::Relaxed).rotate_right(8)
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

    #[test]
    fn signed_reads_add_an_epoch_to_the_query() {
        assert_eq!(
            signed_read_path("/environment", 7, 1),
            "/environment?_karajo_epoch=7&_karajo_nonce=0000000000000001"
        );
        assert_eq!(
            signed_read_path("/job_exec?id=a", 7, 255),
            "/job_exec?id=a&_karajo_epoch=7&_karajo_nonce=00000000000000ff"
        );
        assert_ne!(nonce(), nonce());
    }
}
