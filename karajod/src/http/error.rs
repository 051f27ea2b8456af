//! The API's typed errors: each maps to one HTTP status, one `ERR_*` name
//! (or none, where the original sent none) and the original's message.
//!
//! Invariant: the JSON `code` always equals the HTTP status sent, and no
//! message carries a secret or a file system path.

use proto::{ErrorName, JobKind, Response};
use warp::http::StatusCode;
use warp::reject::Rejection;

use crate::engine::EngineError;

/// Every way a request can fail, as the transports report it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// Webhook with a missing or wrong signature.
    #[error("forbidden")]
    Forbidden,
    #[error("job is paused")]
    Paused,
    #[error("job already run")]
    AlreadyRun,
    /// No job has this webhook path.
    #[error("job not found: {0}")]
    WebhookNotFound(String),
    /// Admin call with a missing or wrong `X-Karajo-Sign`.
    #[error("empty or invalid signature")]
    BadSignature,
    #[error("job not found: {0}")]
    JobNotFound(String),
    /// An HTTP-job endpoint with an unknown or empty ID (the original's 400).
    #[error("invalid or empty job id: {0}")]
    InvalidJobId(String),
    /// A log request naming an unknown job.
    #[error("job ID {0} not found")]
    LogJobNotFound(String),
    #[error("log #{0} not found")]
    LogNotFound(u64),
    #[error("invalid user name and/or password")]
    AuthLogin,
    #[error("authentication required")]
    AuthRequired,
    /// Authenticated, but the role or token may not do this.
    #[error("{0}")]
    NotAllowed(String),
    #[error("missing or invalid CSRF token")]
    Csrf,
    #[error("{0}")]
    Replay(&'static str),
    #[error("{0}")]
    BadRequest(String),
    #[error("request body larger than {0} bytes")]
    BodyTooLarge(u64),
    #[error("too many failed logins, try again later")]
    TooManyRequests,
    #[error("too many open log streams, close one and try again")]
    TooManyStreams,
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("internal error")]
    Internal,
    #[error("shutting down")]
    Unavailable,
    /// A reload refused; carries every error of the new configuration.
    #[error("configuration refused, the old one stays in force:\n{}", .0.errors.join("\n"))]
    ConfigRefused(proto::ReloadRefused),
}

impl warp::reject::Reject for ApiError {}

impl ApiError {
    /// Maps an engine error; `kind` decides the not-found flavour, as the
    /// original answered 404 for jobs and 400 for HTTP jobs.
    pub fn from_engine(kind: JobKind, err: EngineError) -> ApiError {
        match err {
            EngineError::JobNotFound(id) => ApiError::not_found(kind, id),
            EngineError::Paused => ApiError::Paused,
            EngineError::AlreadyQueued => ApiError::AlreadyRun,
            EngineError::LogNotFound(n) => ApiError::LogNotFound(n),
            EngineError::ShuttingDown => ApiError::Unavailable,
            err @ EngineError::Io { .. } => {
                tracing::error!("{err}");
                ApiError::Internal
            }
        }
    }

    /// The "unknown job" error of an endpoint of this kind.
    pub fn not_found(kind: JobKind, id: impl Into<String>) -> ApiError {
        match kind {
            JobKind::Job => ApiError::JobNotFound(id.into()),
            JobKind::JobHttp => ApiError::InvalidJobId(id.into()),
        }
    }

    pub fn status(&self) -> StatusCode {
        use ApiError::*;
        match self {
            Forbidden | Csrf | NotAllowed(_) => StatusCode::FORBIDDEN,
            Paused => StatusCode::PRECONDITION_FAILED,
            AlreadyRun | TooManyRequests | TooManyStreams => StatusCode::TOO_MANY_REQUESTS,
            WebhookNotFound(_) | JobNotFound(_) | LogJobNotFound(_) | LogNotFound(_) | NotFound => {
                StatusCode::NOT_FOUND
            }
            BadSignature | AuthRequired => StatusCode::UNAUTHORIZED,
            InvalidJobId(_) | AuthLogin | BadRequest(_) | ConfigRefused(_) => StatusCode::BAD_REQUEST,
            Replay(_) => StatusCode::CONFLICT,
            BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The `ERR_*` name; `None` where the original sent none.
    pub fn name(&self) -> Option<ErrorName> {
        use ApiError::*;
        Some(match self {
            Forbidden => ErrorName::JobForbidden,
            Paused => ErrorName::JobPaused,
            AlreadyRun => ErrorName::JobAlreadyRun,
            WebhookNotFound(_) | JobNotFound(_) | LogJobNotFound(_) => ErrorName::JobNotFound,
            BadSignature => return None,
            InvalidJobId(_) => ErrorName::InvalidJobId,
            LogNotFound(_) => ErrorName::LogNotFound,
            AuthLogin => ErrorName::AuthLogin,
            AuthRequired => ErrorName::AuthRequired,
            Csrf => ErrorName::Csrf,
            NotAllowed(_) => ErrorName::Forbidden,
            Replay(_) => ErrorName::Replay,
            BadRequest(_) => ErrorName::BadRequest,
            BodyTooLarge(_) => ErrorName::BodyTooLarge,
            TooManyRequests | TooManyStreams => ErrorName::TooManyRequests,
            NotFound => ErrorName::NotFound,
            MethodNotAllowed => ErrorName::MethodNotAllowed,
            Internal => ErrorName::Internal,
            Unavailable => ErrorName::Unavailable,
            ConfigRefused(_) => ErrorName::Config,
        })
    }

    /// The wrapped JSON answer.
    pub fn into_response(self) -> warp::reply::Response {
        let status = self.status();
        if let ApiError::ConfigRefused(refused) = &self {
            let mut body = Response::error(status.as_u16(), self.name(), self.to_string());
            body.data = Some(refused.clone());
            return json_with_status(&body, status);
        }
        let body: Response<()> = Response::error(status.as_u16(), self.name(), self.to_string());
        json_with_status(&body, status)
    }
}

/// `200 OK` with `data`.
pub fn ok<T: serde::Serialize>(data: T) -> warp::reply::Response {
    json_with_status(&Response::ok(data), StatusCode::OK)
}

/// Any serialisable body as JSON with this status.
pub fn json_with_status<T: serde::Serialize>(body: &T, status: StatusCode) -> warp::reply::Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| INTERNAL_BODY.to_vec());
    json_response(bytes, status)
}

const INTERNAL_BODY: &[u8] = br#"{"code":500,"message":"internal error"}"#;

/// JSON already serialised, with this status.
pub fn json_response(bytes: impl Into<bytes::Bytes>, status: StatusCode) -> warp::reply::Response {
    let mut resp = warp::reply::Response::new(bytes.into().into());
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(warp::http::header::CONTENT_TYPE, warp::http::HeaderValue::from_static("application/json"));
    resp
}

/// Turns any rejection into the wrapped JSON error; nothing escapes as a
/// bare 500 or an empty body.
pub async fn recover(rej: Rejection) -> Result<warp::reply::Response, std::convert::Infallible> {
    Ok(rejection_to_error(&rej).into_response())
}

fn rejection_to_error(rej: &Rejection) -> ApiError {
    if let Some(e) = rej.find::<ApiError>() {
        return e.clone();
    }
    if rej.is_not_found() {
        return ApiError::NotFound;
    }
    if rej.find::<warp::reject::MethodNotAllowed>().is_some() {
        return ApiError::MethodNotAllowed;
    }
    if rej.find::<warp::reject::PayloadTooLarge>().is_some() {
        return ApiError::BodyTooLarge(crate::http::MAX_BODY_BYTES);
    }
    if let Some(e) = rej.find::<warp::reject::InvalidQuery>() {
        return ApiError::BadRequest(e.to_string());
    }
    if let Some(e) = rej.find::<warp::reject::InvalidHeader>() {
        return ApiError::BadRequest(e.to_string());
    }
    if let Some(e) = rej.find::<warp::reject::MissingHeader>() {
        return ApiError::BadRequest(e.to_string());
    }
    if let Some(e) = rej.find::<warp::reject::UnsupportedMediaType>() {
        return ApiError::BadRequest(e.to_string());
    }
    if let Some(e) = rej.find::<warp::reject::MissingCookie>() {
        return ApiError::BadRequest(e.to_string());
    }
    tracing::warn!("unhandled rejection: {rej:?}");
    ApiError::Internal
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn body_of(e: ApiError) -> (u16, serde_json::Value) {
        let status = e.status().as_u16();
        let r: Response<()> = Response::error(status, e.name(), e.to_string());
        (status, serde_json::to_value(r).unwrap())
    }

    #[test]
    fn original_bodies_are_kept() {
        let (s, v) = body_of(ApiError::Forbidden);
        assert_eq!((s, v), (403, serde_json::json!({"code":403,"name":"ERR_JOB_FORBIDDEN","message":"forbidden"})));
        let (s, v) = body_of(ApiError::BadSignature);
        assert_eq!((s, v), (401, serde_json::json!({"code":401,"message":"empty or invalid signature"})));
        let (s, v) = body_of(ApiError::InvalidJobId("x".into()));
        assert_eq!(s, 400);
        assert_eq!(v["name"], "ERR_INVALID_JOB_ID");
        assert_eq!(v["message"], "invalid or empty job id: x");
    }

    #[test]
    fn engine_errors_map_by_kind() {
        let nf = || EngineError::JobNotFound("a".into());
        assert_eq!(ApiError::from_engine(JobKind::Job, nf()).status(), 404);
        assert_eq!(ApiError::from_engine(JobKind::JobHttp, nf()).status(), 400);
        assert_eq!(ApiError::from_engine(JobKind::Job, EngineError::Paused).status(), 412);
        assert_eq!(ApiError::from_engine(JobKind::Job, EngineError::AlreadyQueued).status(), 429);
        assert_eq!(ApiError::from_engine(JobKind::Job, EngineError::LogNotFound(3)).to_string(), "log #3 not found");
        assert_eq!(ApiError::from_engine(JobKind::Job, EngineError::ShuttingDown).status(), 503);
        let io =
            EngineError::Io { op: "read", path: PathBuf::from("/secret/path"), source: std::io::Error::other("x") };
        let e = ApiError::from_engine(JobKind::Job, io);
        assert_eq!(e.status(), 500);
        assert!(!e.to_string().contains("/secret"));
    }

    #[test]
    fn every_error_code_equals_its_status() {
        for e in [ApiError::Csrf, ApiError::Replay("x"), ApiError::BodyTooLarge(1), ApiError::TooManyRequests] {
            let (s, v) = body_of(e);
            assert_eq!(v["code"], s);
        }
    }
}
