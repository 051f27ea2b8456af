//! Handlers of the JSON API (prefix `/karajo/api`): plain functions of
//! (engine, decoded input) -> response, called by the routes in `routes.rs`
//! after the access filters passed, and directly by unit tests.
//!
//! Invariant: handlers decode, call the engine, encode; nothing else. A
//! run log is encoded as it is read, chunk by chunk off the async workers:
//! no answer holds a whole log.

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use futures_util::StreamExt;
use proto::{JobId, JobKind};
use warp::Reply as _;
use warp::http::HeaderValue;
use warp::http::header::{CONTENT_LENGTH, CONTENT_TYPE};

use proto::response::{CANCEL_NOT_RUNNING, CANCEL_QUEUED_DROPPED};

use crate::engine::{Canceled, LogFile, Trigger};
use crate::http::Backend;
use crate::http::environment::{Answer, Encoding, EnvironmentCache};
use crate::http::error::{ApiError, ok};
use crate::http::input::Params;

/// Which admin action a mutation route performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Pause,
    Resume,
    Cancel,
    Run,
}

impl Action {
    /// The path segment, also the replay-guard scope.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Pause => "pause",
            Action::Resume => "resume",
            Action::Cancel => "cancel",
            Action::Run => "run",
        }
    }
}

pub type Reply = Result<warp::reply::Response, ApiError>;

/// `GET /environment`. Encoding costs milliseconds with thousands of
/// jobs when something changed since the last answer: the route runs it
/// on the blocking pool (see `routes.rs`) unless
/// [`environment_unchanged`] has the answer at hand.
pub fn environment(b: &dyn Backend, cache: &EnvironmentCache, enc: Encoding) -> Reply {
    let answer = cache.answer(b, enc).map_err(|_| ApiError::Internal)?;
    Ok(environment_reply(answer, enc))
}

/// `GET /environment` for a token limited to some jobs (SPEC 21 `jobs`):
/// only the jobs and HTTP jobs its globs name. Built for each request, as
/// the shared cached answer holds every job.
pub fn environment_of(b: &dyn Backend, token: &crate::config::TokenConfig) -> Reply {
    let mut env = b.environment();
    env.jobs.retain(|_, j| token.allows_job(j.base.id.as_str()));
    env.http_jobs.retain(|_, j| token.allows_job(j.base.id.as_str()));
    Ok(ok(env))
}

/// `GET /environment` when nothing changed since the last answer: 304
/// when `If-None-Match` names it, else the kept answer; cheap enough to
/// send from the async workers.
pub fn environment_unchanged(
    b: &dyn Backend,
    cache: &EnvironmentCache,
    enc: Encoding,
    if_none_match: Option<&str>,
) -> Option<Reply> {
    if let Some(tag) = if_none_match.and_then(|inm| cache.not_modified(b, enc, inm)) {
        return Some(Ok(not_modified(tag, enc)));
    }
    cache.unchanged(b, enc).map(|answer| Ok(environment_reply(answer, enc)))
}

/// The answer with its encoding said (the accept loop leaves a body that
/// already has a `Content-Encoding` as it is) and its `ETag`. A body of
/// several chunks is warp's stream body, sent chunk by chunk (never
/// copied into one buffer) with its `Content-Length`.
fn environment_reply(answer: Answer, enc: Encoding) -> warp::reply::Response {
    use warp::http::{HeaderValue, header};
    let body = answer.body;
    let mut resp = match body.chunks() {
        [one] => crate::http::error::json_response(one.clone(), warp::http::StatusCode::OK),
        chunks => {
            let len = body.len();
            let chunks: Vec<Bytes> = chunks.to_vec();
            let chunks = chunks.into_iter().map(Ok::<_, std::convert::Infallible>);
            let mut resp = warp::reply::stream(futures_util::stream::iter(chunks)).into_response();
            resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            resp.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(len));
            resp
        }
    };
    if enc == Encoding::Gzip {
        resp.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        resp.headers_mut().insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if let Some(tag) = answer.etag.and_then(|t| HeaderValue::from_str(&t).ok()) {
        resp.headers_mut().insert(header::ETAG, tag);
    }
    resp
}

/// `304 Not Modified`: no body, the same `ETag` and `Vary`.
fn not_modified(tag: String, enc: Encoding) -> warp::reply::Response {
    use warp::http::{HeaderValue, StatusCode, header};
    let mut resp = warp::reply::Response::new(Bytes::new().into());
    *resp.status_mut() = StatusCode::NOT_MODIFIED;
    if let Ok(tag) = HeaderValue::from_str(&tag) {
        resp.headers_mut().insert(header::ETAG, tag);
    }
    if enc == Encoding::Gzip {
        resp.headers_mut().insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    resp
}

/// `GET /job_exec?id=`.
pub fn job(b: &dyn Backend, q: &Params) -> Reply {
    let id = q.id(JobKind::Job)?;
    b.job(&id).map(ok).ok_or_else(|| ApiError::JobNotFound(id.to_string()))
}

/// `GET /job_http?id=`.
pub fn http_job(b: &dyn Backend, q: &Params) -> Reply {
    let id = q.id(JobKind::JobHttp)?;
    b.http_job(&id).map(ok).ok_or_else(|| ApiError::InvalidJobId(id.to_string()))
}

/// True when a job of this kind has this ID.
pub fn exists(b: &dyn Backend, kind: JobKind, id: &JobId) -> bool {
    match kind {
        JobKind::Job => b.job(id).is_some(),
        JobKind::JobHttp => b.http_job(id).is_some(),
    }
}

/// The job of a log request: "job ID X not found" (404) when unknown.
pub fn log_job(b: &dyn Backend, kind: JobKind, q: &Params) -> Result<JobId, ApiError> {
    let raw = q.get("id").unwrap_or("");
    match JobId::parse_lookup(raw) {
        Some(id) if exists(b, kind, &id) => Ok(id),
        _ => Err(ApiError::LogJobNotFound(raw.to_string())),
    }
}

/// `GET /job_exec/log?id=&counter=` and `/job_http/log`: the run's log
/// streamed from its file (see [`log_answer`]).
pub fn log(b: &dyn Backend, kind: JobKind, q: &Params) -> Reply {
    let id = log_job(b, kind, q)?;
    let counter = q.counter()?.ok_or_else(|| ApiError::BadRequest("missing counter".into()))?;
    match b.open_log(kind, &id, counter) {
        Ok(log) => log_answer(log),
        Err(crate::engine::EngineError::JobNotFound(_)) => Err(ApiError::LogJobNotFound(id.to_string())),
        Err(e) => Err(ApiError::from_engine(kind, e)),
    }
}

/// Bytes of log read (on the blocking pool) and encoded per body chunk: a
/// multiple of 3, so each chunk's base64 continues the last one's unpadded.
pub const LOG_CHUNK_BYTES: usize = 3 * 16 * 1024;

/// The `200 OK` JSON of a [`JobLogContent`](proto::JobLogContent), byte for
/// byte what serde writes, without the log ever held whole: the wrapper up
/// to `"content":"`, the file's first `len` bytes as base64 chunk by chunk,
/// then `"}}`.
fn log_answer(log: LogFile) -> Reply {
    let (head, tail) = log_frame(&log)?;
    let encoded_len = log.len.div_ceil(3) * 4;
    let content_length = head.len() as u64 + encoded_len + tail.len() as u64;
    let chunks = futures_util::stream::try_unfold((log.file, log.len, log.path), |(file, left, path)| async move {
        if left == 0 {
            return Ok(None);
        }
        let want = left.min(LOG_CHUNK_BYTES as u64) as usize;
        let (file, chunk, path) = tokio::task::spawn_blocking(move || read_encoded(file, want, path))
            .await
            .map_err(std::io::Error::other)??;
        Ok(Some((chunk, (file, left - want as u64, path))))
    });
    let frame = |b: Bytes| futures_util::stream::iter([Ok::<_, std::io::Error>(b)]);
    let body = frame(head).chain(chunks).chain(frame(tail));
    let mut resp = warp::reply::stream(body).into_response();
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CONTENT_LENGTH, HeaderValue::from(content_length));
    Ok(resp)
}

/// The answer around the content: serde's encoding of the log with an
/// empty `content`, cut before that empty string's closing quote.
fn log_frame(log: &LogFile) -> Result<(Bytes, Bytes), ApiError> {
    const TAIL: &[u8] = b"\"}}";
    let empty = proto::JobLogContent {
        job_id: log.job_id.clone(),
        name: log.name(),
        status: log.status,
        counter: log.counter,
        content: Vec::new(),
    };
    let mut whole = serde_json::to_vec(&proto::Response::ok(empty)).map_err(|_| ApiError::Internal)?;
    if !whole.ends_with(br#""content":""}}"#) {
        return Err(ApiError::Internal);
    }
    whole.truncate(whole.len() - TAIL.len());
    Ok((Bytes::from(whole), Bytes::from_static(TAIL)))
}

/// Reads exactly `want` bytes of the log and base64-encodes them; a log
/// that shrank under us (it never should) fails the answer mid-body.
fn read_encoded(file: File, want: usize, path: PathBuf) -> std::io::Result<(File, Bytes, PathBuf)> {
    let mut buf = vec![0; want];
    if let Err(e) = (&file).read_exact(&mut buf) {
        tracing::warn!(path = %path.display(), error = %e, "cannot read a log being sent");
        return Err(e);
    }
    Ok((file, Bytes::from(STANDARD.encode(&buf)), path))
}

/// The admin calls: pause, resume, cancel and run-now, for both kinds.
/// `params` is the form body (job_exec) or the query (job_http); `actor`
/// is who asked (SPEC 21's form), kept in a run's row.
pub fn act(b: &dyn Backend, kind: JobKind, action: Action, params: &Params, actor: String) -> Reply {
    let id = params.id(kind)?;
    let err = |e| ApiError::from_engine(kind, e);
    let data = match (action, kind) {
        (Action::Pause, _) => to_value(b.pause(kind, &id).map_err(err)?)?,
        (Action::Resume, _) => to_value(b.resume(kind, &id).map_err(err)?)?,
        (Action::Cancel, _) => {
            let (job, canceled) = b.cancel(kind, &id).map_err(err)?;
            let job = to_value(job)?;
            // "OK" as the original says when only the run went; the other
            // cases say what happened (clients of the original match codes).
            let message = match canceled {
                Canceled::Run => None,
                Canceled::NotRunning => Some(CANCEL_NOT_RUNNING),
                Canceled::RunAndQueued => Some(CANCEL_QUEUED_DROPPED),
            };
            if let Some(message) = message {
                let body = proto::Response { code: 200, name: None, message: message.into(), data: Some(job) };
                return Ok(crate::http::error::json_with_status(&body, warp::http::StatusCode::OK));
            }
            job
        }
        (Action::Run, JobKind::Job) => to_value(b.trigger_job(&id, Trigger::Manual, Some(actor)).map_err(err)?)?,
        (Action::Run, JobKind::JobHttp) => to_value(b.trigger_http_job(&id, Some(actor)).map_err(err)?)?,
    };
    tracing::info!(job.id = %id, kind = kind.as_str(), action = action.as_str(), "admin call");
    Ok(ok(data))
}

fn to_value<T: serde::Serialize>(v: T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(v).map_err(|_| ApiError::Internal)
}

/// `GET /karajo/health`: `{"status":"ok"}` while the scheduler runs.
pub fn health(b: &dyn Backend) -> warp::reply::Response {
    if b.is_alive() {
        crate::http::error::json_with_status(&serde_json::json!({"status": "ok"}), warp::http::StatusCode::OK)
    } else {
        let status = warp::http::StatusCode::SERVICE_UNAVAILABLE;
        crate::http::error::json_with_status(&serde_json::json!({"status": "down"}), status)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Seek, Write};

    use http_body_util::BodyExt;
    use proto::{JobLogContent, JobStatus};

    use super::*;

    fn log_file(content: &[u8], status: JobStatus) -> LogFile {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(content).unwrap();
        file.rewind().unwrap();
        let (job_id, counter) = (JobId::from_name("Big \"one\""), 7);
        LogFile { job_id, counter, status, len: content.len() as u64, file, path: "big.7".into() }
    }

    #[tokio::test]
    async fn a_streamed_log_is_byte_for_byte_the_json_serde_writes() {
        let sizes = [0, 1, 2, 3, 4, LOG_CHUNK_BYTES - 1, LOG_CHUNK_BYTES, LOG_CHUNK_BYTES + 1, 2 * LOG_CHUNK_BYTES + 2];
        for size in sizes {
            let content: Vec<u8> = (0..size).map(|i| (i * 7 % 256) as u8).collect();
            let log = log_file(&content, JobStatus::Running);
            let want = serde_json::to_vec(&proto::Response::ok(JobLogContent {
                job_id: log.job_id.clone(),
                name: log.name(),
                status: log.status,
                counter: log.counter,
                content: content.clone(),
            }))
            .unwrap();
            let resp = log_answer(log).unwrap();
            assert_eq!(resp.headers()[CONTENT_TYPE], "application/json");
            assert_eq!(resp.headers()[CONTENT_LENGTH], want.len().to_string().as_str(), "size {size}");
            let got = resp.into_body().collect().await.unwrap().to_bytes();
            assert!(got[..] == want[..], "size {size}");
        }
    }

    #[tokio::test]
    async fn only_the_length_at_open_is_sent() {
        let mut log = log_file(b"line one\n", JobStatus::Running);
        log.len = 5;
        let body = log_answer(log).unwrap().into_body().collect().await.unwrap().to_bytes();
        let v: proto::Response<JobLogContent> = serde_json::from_slice(&body).unwrap();
        assert_eq!(v.data.unwrap().content, b"line ");
    }

    #[tokio::test]
    async fn a_log_that_shrank_fails_the_body_instead_of_sending_short() {
        let mut log = log_file(b"short", JobStatus::Success);
        log.len = 4 * LOG_CHUNK_BYTES as u64;
        assert!(log_answer(log).unwrap().into_body().collect().await.is_err());
    }
}
