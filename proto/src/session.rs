//! The logged-in user's session as the API shows it: `POST /auth/login`
//! and `GET /auth/session` answer with this in `data`.
//!
//! Invariant: the session token itself never travels in JSON, only in the
//! `karajo` cookie; the CSRF token is what scripts in the page may read.

use serde::{Deserialize, Serialize};

/// `{name, csrf_token, role}`: who is logged in, the value mutating calls
/// must send in `X-Karajo-Csrf`, and the user's role in force now (SPEC
/// 21), so the dashboard shows only the controls that role may use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub name: String,
    pub csrf_token: String,
    pub role: crate::Role,
}

/// The cookie that carries the session token.
pub const SESSION_COOKIE: &str = "karajo";
/// The header that carries the CSRF token on cookie-authorised mutations.
pub const CSRF_HEADER: &str = "X-Karajo-Csrf";
/// The header of signed admin calls (and the default `header_sign`).
pub const SIGN_HEADER: &str = "X-Karajo-Sign";
