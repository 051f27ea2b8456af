//! `POST /auth/login`, `POST /auth/logout`, `GET /auth/session` (login
//! and session answer the user's role too, for the dashboard).
//!
//! Invariants: bcrypt runs on a blocking thread, also for unknown users
//! (against a fixed dummy hash) so timing does not reveal who exists;
//! each attempt is counted per address before bcrypt runs and refused past
//! the limit (see `limit.rs`); the password never reaches a log.

use std::sync::Arc;

use warp::http::StatusCode;
use warp::http::header::SET_COOKIE;

use crate::http::State;
use crate::http::auth::Caller;
use crate::http::error::{ApiError, json_with_status};
use crate::http::input::Params;
use crate::http::session::{SessionInfo, expired_cookie, session_cookie, verify_password};

/// A valid bcrypt hash of nothing anyone types, for unknown user names.
const DUMMY_HASH: &str = "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy";

/// Checks the form's `name` and `password`; opens a session on success.
/// Every attempt is audited, with the name tried.
pub async fn login(state: Arc<State>, caller: Caller, form: Params) -> Result<warp::reply::Response, ApiError> {
    let name: String = form.get("name").unwrap_or("").chars().take(100).collect();
    let result = check(&state, &caller, form).await;
    state.record_as(&caller, format!("user:{name}"), "login", &name, &result);
    result
}

async fn check(state: &Arc<State>, caller: &Caller, form: Params) -> Result<warp::reply::Response, ApiError> {
    let key = caller.rate_key();
    if !state.login_limiter.attempt(&key) {
        return Err(ApiError::TooManyRequests);
    }
    let name = form.get("name").unwrap_or("").to_string();
    let password = form.get("password").unwrap_or("").to_string();
    let config = state.backend.config();
    let user = config.users.iter().find(|u| u.name == name);
    let hash = user.map(|u| u.password_hash.expose().to_string()).unwrap_or_else(|| DUMMY_HASH.to_string());
    let known = user.is_some();
    let checked = hash.clone();
    let valid = tokio::task::spawn_blocking(move || verify_password(&password, &checked))
        .await
        .map_err(|_| ApiError::Internal)?;
    if !(known && valid) {
        tracing::info!(user = %name, peer = %key, "login failed");
        return Err(ApiError::AuthLogin);
    }
    state.login_limiter.succeeded(&key);
    let (token, info) = state.sessions.create(&name, &hash);
    tracing::info!(user = %name, peer = %key, "login");
    let mut resp = json_with_status(&proto::Response::ok(info.view(&config.users)), StatusCode::OK);
    let mut cookie = session_cookie(&token, state.session_ttl);
    if config.server.tls.is_some() {
        // Over HTTPS the browser must never send it in the clear.
        cookie.push_str("; Secure");
    }
    resp.headers_mut().insert(SET_COOKIE, cookie.parse().map_err(|_| ApiError::Internal)?);
    Ok(resp)
}

/// Deletes the session (if any) and the cookie.
pub fn logout(state: &State, caller: Caller, sess: Option<(String, SessionInfo)>) -> warp::reply::Response {
    if let Some((token, info)) = sess {
        state.sessions.remove(&token);
        tracing::info!(user = %info.user, "logout");
        state.record_as::<()>(&caller, format!("user:{}", info.user), "logout", &info.user, &Ok(()));
    }
    let mut resp = json_with_status(&proto::Response::<()>::error(200, None, "OK"), StatusCode::OK);
    resp.headers_mut().insert(SET_COOKIE, expired_cookie().parse().expect("static cookie"));
    resp
}

/// `{name, csrf_token, role}` of the logged-in user; 401 otherwise.
pub fn session(state: &State, sess: Option<(String, SessionInfo)>) -> Result<warp::reply::Response, ApiError> {
    let (_, info) = sess.ok_or(ApiError::AuthRequired)?;
    Ok(json_with_status(&proto::Response::ok(info.view(&state.backend.config().users)), StatusCode::OK))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_is_a_valid_bcrypt_hash() {
        assert!(bcrypt::verify("x", DUMMY_HASH).is_ok());
    }
}
