//! Access rules of SPEC 7 and 21 as warp filters, so handlers stay thin.
//! A request's [`Credentials`] prove a [`Principal`]:
//!
//! - the control socket ([`Caller::Socket`]) is trusted by its file mode;
//! - `X-Karajo-Signature: t=EPOCH,v1=HEX` binds method, path, epoch and
//!   body, always under the replay guard (see `replay.rs`);
//! - the classic `X-Karajo-Sign` (over the form body for job_exec, over
//!   the raw query for job_http and reads, which must hold a fresh
//!   `_karajo_epoch`), unless `[karajo] classic_signatures = false`;
//! - `Authorization: Bearer TOKEN` of a `[token]` (failures rate-limited
//!   like logins), no CSRF header needed;
//! - a session, plus the `X-Karajo-Csrf` header for mutations;
//! - nobody, for reads when `user.conf` has no users.
//!
//! Then `crate::auth::authorise` decides by role and job globs; a refusal
//! is 403 `ERR_FORBIDDEN`, and every refused mutation is audited.
//!
//! Invariant: a filter here either proves access or rejects with a typed
//! [`ApiError`]; no handler re-checks.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use proto::session::{CSRF_HEADER, SESSION_COOKIE, SIGN_HEADER};
use proto::sign::SIGNATURE_HEADER;
use warp::{Filter, Rejection};

pub use crate::auth::{Need, Principal};
use crate::http::State;
use crate::http::error::ApiError;
use crate::http::input::{Params, body_limited, raw_query};
use crate::http::session::SessionInfo;
pub use crate::serve::Caller;

/// What a signature covers on an admin call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignOver {
    /// job_exec pause/resume/cancel/run: the raw form body.
    Body,
    /// job_http pause/resume/run/cancel: the raw query string.
    Query,
}

/// A mutation that passed the access checks, with its decoded inputs.
#[derive(Debug, Clone)]
pub struct Authorised {
    pub principal: Principal,
    pub caller: Caller,
    /// The endpoint, e.g. `job_exec/pause` (the audit entry's action).
    pub action: String,
    pub params: Params,
}

/// The credentials a request brought, with what a signature covers.
#[derive(Clone)]
pub struct Credentials {
    pub caller: Caller,
    pub sess: Option<(String, SessionInfo)>,
    pub authorization: Option<String>,
    pub classic: Option<String>,
    pub bound: Option<String>,
    pub csrf: Option<String>,
    pub method: String,
    /// The path with its query as sent (what the bound signature covers).
    pub path_query: String,
    pub path: String,
    pub query: String,
}

/// The caller; a request without one (never from our accept loops) is
/// treated as an anonymous TCP client.
pub fn caller() -> impl Filter<Extract = (Caller,), Error = std::convert::Infallible> + Clone {
    warp::ext::optional::<Caller>()
        .map(|c: Option<Caller>| c.unwrap_or(Caller::Tcp(SocketAddr::from(([0, 0, 0, 0], 0)))))
}

/// The session of the `karajo` cookie, if live.
pub fn session(
    state: Arc<State>,
) -> impl Filter<Extract = (Option<(String, SessionInfo)>,), Error = std::convert::Infallible> + Clone {
    warp::cookie::optional::<String>(SESSION_COOKIE).map(move |token: Option<String>| {
        let token = token?;
        state.sessions.get(&token, &state.backend.config().users).map(|s| (token, s))
    })
}

fn header(name: &'static str) -> impl Filter<Extract = (Option<String>,), Error = Rejection> + Clone {
    warp::header::optional::<String>(name)
}

/// Every credential of the request.
pub fn credentials(state: Arc<State>) -> impl Filter<Extract = (Credentials,), Error = Rejection> + Clone {
    let headers =
        header("authorization").and(header(SIGN_HEADER)).and(header(SIGNATURE_HEADER)).and(header(CSRF_HEADER));
    caller().and(session(state)).and(headers).and(warp::method()).and(warp::path::full()).and(raw_query()).map(
        |caller,
         sess,
         authorization,
         classic,
         bound,
         csrf,
         method: warp::http::Method,
         path: warp::path::FullPath,
         query: String| {
            let path = path.as_str().to_string();
            let path_query = if query.is_empty() { path.clone() } else { format!("{path}?{query}") };
            Credentials {
                caller,
                sess,
                authorization,
                classic,
                bound,
                csrf,
                method: method.to_string(),
                path_query,
                path,
                query,
            }
        },
    )
}

/// Read access (any role).
pub fn read(state: Arc<State>) -> impl Filter<Extract = (Principal,), Error = Rejection> + Clone {
    read_as(state, Need::Read)
}

/// Read access for a read that needs more than a viewer (the audit log).
/// A read that names a job (`?id=`: one job, its logs, its runs) is
/// checked against a token's job globs like a mutation.
pub fn read_as(state: Arc<State>, need: Need) -> impl Filter<Extract = (Principal,), Error = Rejection> + Clone {
    credentials(state.clone()).and_then(move |c: Credentials| {
        let state = state.clone();
        async move {
            let who = read_principal(&state, &c).map_err(warp::reject::custom)?;
            let action = c.path.trim_start_matches("/karajo/api/").to_string();
            let query = Params::parse(c.query.as_bytes()).map_err(warp::reject::custom)?;
            permit(&state, &c.caller, &who, need, &action, query.get("id")).map_err(warp::reject::custom)?;
            Ok::<_, Rejection>(who)
        }
    })
}

/// The principal of a read, as a plain function. A valid classic
/// signature whose query lacks a fresh epoch is refused with the epoch's
/// error when users exist (without users, the read is public anyway).
pub fn read_principal(state: &State, c: &Credentials) -> Result<Principal, ApiError> {
    if let Some(who) = strong_principal(state, c, b"")? {
        return Ok(who);
    }
    if let Some((_, s)) = &c.sess {
        return Ok(Principal::User(s.user.clone()));
    }
    let config = state.backend.config();
    if let Some(sig) = &c.classic
        && config.server.classic_signatures
        && proto::sign::verify_hmac_sha256(config.server.secret.expose().as_bytes(), c.query.as_bytes(), sig)
    {
        match state.replay.check_read(config.server.replay_window, &c.path, c.query.as_bytes()) {
            Ok(()) => return Ok(Principal::Signed),
            Err(e) if !config.users.is_empty() => return Err(e),
            Err(_) => {}
        }
    }
    if config.users.is_empty() { Ok(Principal::Anonymous) } else { Err(ApiError::AuthRequired) }
}

/// The socket, a bound signature or a bearer token: what proves itself
/// without a session. `None` when the request brought none of them.
fn strong_principal(state: &State, c: &Credentials, body: &[u8]) -> Result<Option<Principal>, ApiError> {
    if matches!(c.caller, Caller::Socket { .. }) {
        return Ok(Some(Principal::Trusted));
    }
    let config = state.backend.config();
    if let Some(value) = &c.bound {
        let (epoch, hex) = proto::sign::parse_bound(value).ok_or(ApiError::BadSignature)?;
        let secret = config.server.secret.expose().as_bytes();
        if !proto::sign::verify_bound(secret, &c.method, &c.path_query, epoch, body, hex) {
            return Err(ApiError::BadSignature);
        }
        let payload = proto::sign::bound_payload(&c.method, &c.path_query, epoch, body);
        state.replay.check_bound(config.server.replay_window, epoch, &payload)?;
        return Ok(Some(Principal::Signed));
    }
    let Some(token) = c.authorization.as_deref().and_then(crate::auth::token::bearer) else { return Ok(None) };
    let key = c.caller.rate_key();
    if !state.login_limiter.attempt(&key) {
        return Err(ApiError::TooManyRequests);
    }
    match crate::auth::token::find(&config.tokens, token) {
        Some(t) => {
            state.login_limiter.succeeded(&key);
            Ok(Some(Principal::Token(t.clone())))
        }
        None => Err(ApiError::AuthRequired),
    }
}

/// Mutation access for a call whose classic signature covers `over` and
/// that needs `need`; `action` names the endpoint (replay scope, audit).
pub fn mutation(
    state: Arc<State>,
    over: SignOver,
    action: String,
    need: Need,
) -> impl Filter<Extract = (Authorised,), Error = Rejection> + Clone {
    let limit = state.max_body_bytes;
    credentials(state.clone()).and(body_limited(limit)).and_then(move |c: Credentials, body: Bytes| {
        let (state, action) = (state.clone(), action.clone());
        async move {
            let refused = |e: ApiError| {
                if worth_auditing(&e) {
                    state.record::<()>(&c.caller, claimed(&c).as_ref(), &action, "", &Err(e.clone()));
                }
                warp::reject::custom(e)
            };
            let who = mutation_principal(&state, &c, over, &action, &body).map_err(refused)?;
            let params = mutation_params(&who, over, &body, &c.query).map_err(warp::reject::custom)?;
            permit(&state, &c.caller, &who, need, &action, params.get("id")).map_err(warp::reject::custom)?;
            Ok::<_, Rejection>(Authorised { principal: who, caller: c.caller, action, params })
        }
    })
}

/// A refusal is audited once a credential was at least partly proven (a
/// replayed valid signature, a wrong token or a session without its CSRF
/// token, all bounded); a bad signature or a rate-limited attempt is not,
/// so a flood of forgeries cannot fill the disk.
fn worth_auditing(e: &ApiError) -> bool {
    !matches!(e, ApiError::BadSignature | ApiError::TooManyRequests)
}

/// Who a refused request claimed to be, for its audit entry: a signature
/// (also a bad one), a session's user, or nobody (a wrong token names no
/// token).
fn claimed(c: &Credentials) -> Option<Principal> {
    if c.bound.is_some() || c.classic.as_deref().is_some_and(|s| !s.trim().is_empty()) {
        return Some(Principal::Signed);
    }
    c.sess.as_ref().map(|(_, s)| Principal::User(s.user.clone()))
}

/// The principal of a mutation, as a plain function.
pub fn mutation_principal(
    state: &State,
    c: &Credentials,
    over: SignOver,
    scope: &str,
    body: &[u8],
) -> Result<Principal, ApiError> {
    if let Some(who) = strong_principal(state, c, body)? {
        return Ok(who);
    }
    let config = state.backend.config();
    if let Some(sig) = c.classic.as_deref().filter(|s| !s.trim().is_empty()) {
        let signed: &[u8] = match over {
            SignOver::Body => body,
            SignOver::Query => c.query.as_bytes(),
        };
        if !config.server.classic_signatures
            || !proto::sign::verify_hmac_sha256(config.server.secret.expose().as_bytes(), signed, sig)
        {
            return Err(ApiError::BadSignature);
        }
        if let Some(window) = config.server.replay_window {
            state.replay.check(window, scope, signed)?;
        }
        return Ok(Principal::Signed);
    }
    match &c.sess {
        Some((_, s)) if c.csrf.as_deref().is_some_and(|t| s.csrf_matches(t)) => Ok(Principal::User(s.user.clone())),
        Some(_) => Err(ApiError::Csrf),
        None => Err(ApiError::BadSignature),
    }
}

/// The parameters of an admin call: the signed part (form body or query);
/// a caller who did not sign the body may also put `id` in the query of a
/// job_exec call.
fn mutation_params(who: &Principal, over: SignOver, body: &[u8], query: &str) -> Result<Params, ApiError> {
    match over {
        SignOver::Query => Params::parse(query.as_bytes()),
        SignOver::Body => {
            let p = Params::parse(body)?;
            if p.get("id").is_none() && *who != Principal::Signed {
                return Params::parse(query.as_bytes());
            }
            Ok(p)
        }
    }
}

/// [`crate::auth::authorise`], with a refusal audited and answered 403.
/// The job is matched as the lookups find it: IDs are case-insensitive.
fn permit(
    state: &State,
    caller: &Caller,
    who: &Principal,
    need: Need,
    action: &str,
    job: Option<&str>,
) -> Result<(), ApiError> {
    let job = job.map(|j| j.trim().to_ascii_lowercase());
    crate::auth::authorise(&state.backend.config(), who, need, job.as_deref()).map_err(|d| {
        let e = ApiError::NotAllowed(d.to_string());
        state.record::<()>(caller, Some(who), action, job.as_deref().unwrap_or(""), &Err(e.clone()));
        e
    })
}
