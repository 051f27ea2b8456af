//! The response wrapper of every JSON answer, `{"code","name","message","data"}`,
//! and the typed list of the `ERR_*` names clients match on.
//!
//! Invariant: `code` always equals the HTTP status the server sends.

use serde::{Deserialize, Serialize};

/// The compatible error names. The wire spelling is the `ERR_*` string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorName {
    #[serde(rename = "ERR_JOB_FORBIDDEN")]
    JobForbidden,
    #[serde(rename = "ERR_JOB_PAUSED")]
    JobPaused,
    #[serde(rename = "ERR_JOB_ALREADY_RUN")]
    JobAlreadyRun,
    #[serde(rename = "ERR_JOB_NOT_FOUND")]
    JobNotFound,
    #[serde(rename = "ERR_INVALID_JOB_ID")]
    InvalidJobId,
    #[serde(rename = "ERR_LOG_NOT_FOUND")]
    LogNotFound,
    #[serde(rename = "ERR_AUTH_LOGIN")]
    AuthLogin,
    #[serde(rename = "ERR_AUTH_REQUIRED")]
    AuthRequired,
    /// Authenticated, but the role or token may not do this.
    #[serde(rename = "ERR_FORBIDDEN")]
    Forbidden,
    #[serde(rename = "ERR_CSRF")]
    Csrf,
    #[serde(rename = "ERR_REPLAY")]
    Replay,
    #[serde(rename = "ERR_BAD_REQUEST")]
    BadRequest,
    #[serde(rename = "ERR_BODY_TOO_LARGE")]
    BodyTooLarge,
    #[serde(rename = "ERR_TOO_MANY_REQUESTS")]
    TooManyRequests,
    #[serde(rename = "ERR_NOT_FOUND")]
    NotFound,
    #[serde(rename = "ERR_METHOD_NOT_ALLOWED")]
    MethodNotAllowed,
    #[serde(rename = "ERR_JOB_EMPTY_COMMANDS_OR_CALL")]
    JobEmptyCommandsOrCall,
    #[serde(rename = "ERR_INTERNAL")]
    Internal,
    #[serde(rename = "ERR_UNAVAILABLE")]
    Unavailable,
    /// A reload refused: the new configuration has errors.
    #[serde(rename = "ERR_CONFIG")]
    Config,
}

impl ErrorName {
    /// The wire spelling, e.g. `ERR_JOB_PAUSED`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorName::JobForbidden => "ERR_JOB_FORBIDDEN",
            ErrorName::JobPaused => "ERR_JOB_PAUSED",
            ErrorName::JobAlreadyRun => "ERR_JOB_ALREADY_RUN",
            ErrorName::JobNotFound => "ERR_JOB_NOT_FOUND",
            ErrorName::InvalidJobId => "ERR_INVALID_JOB_ID",
            ErrorName::LogNotFound => "ERR_LOG_NOT_FOUND",
            ErrorName::AuthLogin => "ERR_AUTH_LOGIN",
            ErrorName::AuthRequired => "ERR_AUTH_REQUIRED",
            ErrorName::Forbidden => "ERR_FORBIDDEN",
            ErrorName::Csrf => "ERR_CSRF",
            ErrorName::Replay => "ERR_REPLAY",
            ErrorName::BadRequest => "ERR_BAD_REQUEST",
            ErrorName::BodyTooLarge => "ERR_BODY_TOO_LARGE",
            ErrorName::TooManyRequests => "ERR_TOO_MANY_REQUESTS",
            ErrorName::NotFound => "ERR_NOT_FOUND",
            ErrorName::MethodNotAllowed => "ERR_METHOD_NOT_ALLOWED",
            ErrorName::JobEmptyCommandsOrCall => "ERR_JOB_EMPTY_COMMANDS_OR_CALL",
            ErrorName::Internal => "ERR_INTERNAL",
            ErrorName::Unavailable => "ERR_UNAVAILABLE",
            ErrorName::Config => "ERR_CONFIG",
        }
    }
}

impl std::fmt::Display for ErrorName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `message` of a cancel that found no run going (still a 200).
pub const CANCEL_NOT_RUNNING: &str = "job is not running";
/// The `message` of a cancel that ended the run and dropped the trigger
/// queued behind it (a cancel of the run alone says `OK`, as the original).
pub const CANCEL_QUEUED_DROPPED: &str = "OK; the queued run was dropped too";

/// Every JSON body the API sends. `name` only on errors that have one,
/// `data` only when there is something to carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response<T = serde_json::Value> {
    pub code: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<ErrorName>,
    #[serde(default)]
    pub message: String,
    #[serde(default = "Option::default", skip_serializing_if = "Option::is_none")]
    pub data: Option<T>,
}

impl<T> Response<T> {
    /// `200 OK` carrying `data`.
    pub fn ok(data: T) -> Self {
        Response { code: 200, name: None, message: "OK".into(), data: Some(data) }
    }

    /// An error answer; `code` is the HTTP status that goes with it.
    pub fn error(code: u16, name: Option<ErrorName>, message: impl Into<String>) -> Self {
        Response { code, name, message: message.into(), data: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_has_the_original_shape() {
        let r: Response = Response::error(403, Some(ErrorName::JobForbidden), "forbidden");
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"code":403,"name":"ERR_JOB_FORBIDDEN","message":"forbidden"}"#
        );
    }

    #[test]
    fn signature_error_has_no_name() {
        let r: Response = Response::error(401, None, "empty or invalid signature");
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"code":401,"message":"empty or invalid signature"}"#);
    }

    #[test]
    fn error_names_serialise_as_their_wire_spelling() {
        for name in [ErrorName::JobPaused, ErrorName::Replay, ErrorName::InvalidJobId] {
            assert_eq!(serde_json::to_value(name).unwrap(), serde_json::Value::String(name.as_str().into()));
        }
    }
}
