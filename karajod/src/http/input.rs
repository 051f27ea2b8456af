//! Decoding of raw request input: bounded bodies, raw query strings,
//! form/query parameters, job IDs and log counters. Everything malformed
//! becomes a typed 4xx [`ApiError`], never a panic.
//!
//! Invariant: a body is never read past [`MAX_BODY_BYTES`](super::MAX_BODY_BYTES)
//! bytes nor for longer than the body timeout.

use std::convert::Infallible;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use proto::{JobId, JobKind};
use warp::{Filter, Rejection};

use crate::http::error::ApiError;

/// How long a client may take to send a whole body.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// The whole body, refused with 413 past `max` bytes (by `Content-Length`
/// up front, or while reading a chunked one) and 408-like 400 when slow.
pub fn body_limited(max: u64) -> impl Filter<Extract = (Bytes,), Error = Rejection> + Clone {
    warp::header::optional::<u64>("content-length").and(warp::body::stream()).and_then(
        move |len: Option<u64>, stream| async move {
            if len.is_some_and(|l| l > max) {
                return Err(warp::reject::custom(ApiError::BodyTooLarge(max)));
            }
            match tokio::time::timeout(BODY_TIMEOUT, collect(stream, max)).await {
                Ok(r) => r.map_err(warp::reject::custom),
                Err(_) => Err(warp::reject::custom(ApiError::BadRequest("request body too slow".into()))),
            }
        },
    )
}

async fn collect<S, B, E>(stream: S, max: u64) -> Result<Bytes, ApiError>
where
    S: Stream<Item = Result<B, E>>,
    B: Buf,
{
    let mut stream = std::pin::pin!(stream);
    let mut out = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let mut chunk = chunk.map_err(|_| ApiError::BadRequest("error reading the request body".into()))?;
        if (out.len() + chunk.remaining()) as u64 > max {
            return Err(ApiError::BodyTooLarge(max));
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            out.extend_from_slice(part);
            let n = part.len();
            chunk.advance(n);
        }
    }
    Ok(out.freeze())
}

/// The raw query string exactly as sent (empty when there is none): what
/// job_http admin calls sign.
pub fn raw_query() -> impl Filter<Extract = (String,), Error = Infallible> + Clone {
    warp::query::raw().or(warp::any().map(String::new)).unify()
}

/// Decoded `key=value` pairs of a query string or form body; the first of
/// a repeated key wins, as Go's `Form.Get` does.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(raw: &[u8]) -> Result<Params, ApiError> {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(raw)
            .map(Params)
            .map_err(|e| ApiError::BadRequest(format!("malformed form or query: {e}")))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The job ID in `id`, answered as the original does when it is
    /// missing or names nothing (404 for jobs, 400 for HTTP jobs).
    pub fn id(&self, kind: JobKind) -> Result<JobId, ApiError> {
        let raw = self.get("id").unwrap_or("");
        JobId::parse_lookup(raw).ok_or_else(|| ApiError::not_found(kind, raw))
    }

    /// `counter`: `None` when absent or empty, 400 when not a number.
    pub fn counter(&self) -> Result<Option<u64>, ApiError> {
        match self.get("counter").map(str::trim) {
            None | Some("") => Ok(None),
            Some(s) => s.parse().map(Some).map_err(|_| ApiError::BadRequest(format!("invalid counter: {s}"))),
        }
    }
}

/// Percent-decodes a URL path (for webhook paths); `None` when the result
/// is not UTF-8. A `%` not followed by two hex digits stays as it is, and
/// `+` is a plus (form encoding's space is for query strings, not paths).
pub fn percent_decode(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(s).decode_utf8().ok().map(std::borrow::Cow::into_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_take_the_first_value_and_parse_ids() {
        let p = Params::parse(b"id=Hello-World&id=other&counter=3").unwrap();
        assert_eq!(p.id(JobKind::Job).unwrap().as_str(), "hello-world");
        assert_eq!(p.counter().unwrap(), Some(3));
        let p = Params::parse(b"id=../x&counter=-1").unwrap();
        assert_eq!(p.id(JobKind::Job).unwrap_err().status(), 404);
        assert_eq!(p.id(JobKind::JobHttp).unwrap_err().status(), 400);
        assert_eq!(p.counter().unwrap_err().status(), 400);
        assert_eq!(Params::parse(b"").unwrap().counter().unwrap(), None);
    }

    #[test]
    fn percent_decoding_handles_bad_input() {
        assert_eq!(percent_decode("/a%20b").unwrap(), "/a b");
        assert_eq!(percent_decode("%").unwrap(), "%");
        assert_eq!(percent_decode("%4").unwrap(), "%4");
        assert_eq!(percent_decode("%zz").unwrap(), "%zz");
        assert!(percent_decode("%ff").is_none());
        assert_eq!(percent_decode("%e2%82%ac").unwrap(), "€");
    }

    #[test]
    fn percent_decoding_edge_cases() {
        assert_eq!(percent_decode("a+b").unwrap(), "a+b", "+ is not a space in a path");
        assert_eq!(percent_decode("a%2Bb%2bc").unwrap(), "a+b+c");
        assert_eq!(percent_decode("%41%4a%4A").unwrap(), "AJJ", "hex digits of either case");
        assert_eq!(percent_decode("%%41").unwrap(), "%A");
        assert_eq!(percent_decode("%4g%g4").unwrap(), "%4g%g4");
        assert_eq!(percent_decode("100%").unwrap(), "100%");
        assert_eq!(percent_decode("a%2").unwrap(), "a%2");
        assert_eq!(percent_decode("%2e%2E/x").unwrap(), "../x", "the callers refuse it, decoding does not");
        assert_eq!(percent_decode("%00").unwrap(), "\0");
        assert_eq!(percent_decode("é").unwrap(), "é", "raw UTF-8 passes through");
        assert!(percent_decode("%c3").is_none(), "a cut UTF-8 sequence");
        assert!(percent_decode("%c3%28").is_none(), "an invalid UTF-8 sequence");
        assert_eq!(percent_decode("").unwrap(), "");
    }

    #[tokio::test]
    async fn bodies_are_bounded() {
        let f = body_limited(4);
        let ok = warp::test::request().body("abcd").filter(&f).await.unwrap();
        assert_eq!(&ok[..], b"abcd");
        let err = warp::test::request().body("abcde").filter(&f).await.unwrap_err();
        assert_eq!(err.find::<ApiError>(), Some(&ApiError::BodyTooLarge(4)));
    }
}
