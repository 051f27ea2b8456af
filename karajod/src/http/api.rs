//! Handlers of the JSON API (prefix `/karajo/api`): plain functions of
//! (engine, decoded input) -> response, called by the routes in `routes.rs`
//! after the access filters passed, and directly by unit tests.
//!
//! Invariant: handlers decode, call the engine, encode; nothing else.

use proto::{JobId, JobKind};

use crate::engine::Trigger;
use crate::http::Backend;
use crate::http::environment::{Encoding, EnvironmentCache};
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
    let body = cache.answer(b, enc).map_err(|_| ApiError::Internal)?;
    Ok(environment_reply(body, enc))
}

/// `GET /environment` when nothing changed since the last answer: the
/// kept answer, cheap enough to send from the async workers.
pub fn environment_unchanged(b: &dyn Backend, cache: &EnvironmentCache, enc: Encoding) -> Option<Reply> {
    cache.unchanged(b, enc).map(|body| Ok(environment_reply(body, enc)))
}

/// The answer with its encoding said (the accept loop leaves a body that
/// already has a `Content-Encoding` as it is).
fn environment_reply(body: bytes::Bytes, enc: Encoding) -> warp::reply::Response {
    use warp::http::{HeaderValue, header};
    let mut resp = crate::http::error::json_response(body, warp::http::StatusCode::OK);
    if enc == Encoding::Gzip {
        resp.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
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

/// `GET /job_exec/log?id=&counter=` and `/job_http/log`.
pub fn log(b: &dyn Backend, kind: JobKind, q: &Params) -> Reply {
    let id = log_job(b, kind, q)?;
    let counter = q.counter()?.ok_or_else(|| ApiError::BadRequest("missing counter".into()))?;
    match b.log(kind, &id, counter) {
        Ok(content) => Ok(ok(content)),
        Err(crate::engine::EngineError::JobNotFound(_)) => Err(ApiError::LogJobNotFound(id.to_string())),
        Err(e) => Err(ApiError::from_engine(kind, e)),
    }
}

/// The admin calls: pause, resume, cancel and run-now, for both kinds.
/// `params` is the form body (job_exec) or the query (job_http).
pub fn act(b: &dyn Backend, kind: JobKind, action: Action, params: &Params) -> Reply {
    let id = params.id(kind)?;
    let err = |e| ApiError::from_engine(kind, e);
    let data = match (action, kind) {
        (Action::Pause, _) => to_value(b.pause(kind, &id).map_err(err)?)?,
        (Action::Resume, _) => to_value(b.resume(kind, &id).map_err(err)?)?,
        (Action::Cancel, _) => {
            let (job, canceled) = b.cancel(kind, &id).map_err(err)?;
            let job = to_value(job)?;
            if !canceled {
                let body =
                    proto::Response { code: 200, name: None, message: "job is not running".into(), data: Some(job) };
                return Ok(crate::http::error::json_with_status(&body, warp::http::StatusCode::OK));
            }
            job
        }
        (Action::Run, JobKind::Job) => to_value(b.trigger_job(&id, Trigger::Manual).map_err(err)?)?,
        (Action::Run, JobKind::JobHttp) => to_value(b.trigger_http_job(&id).map_err(err)?)?,
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
