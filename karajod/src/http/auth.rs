//! Access rules of SPEC 7 as warp filters, so handlers stay thin:
//!
//! - the control socket ([`Caller::Socket`]) is trusted by its file mode;
//! - reads need a session when `user.conf` has users (or, for scripts, an
//!   `X-Karajo-Sign` over a raw query holding a fresh `_karajo_epoch`, see
//!   `replay.rs`: a signature of a fixed string never grants a read);
//!   otherwise they are public;
//! - mutations need a valid `X-Karajo-Sign` (over the form body for
//!   job_exec, over the raw query for job_http) or a session plus the
//!   `X-Karajo-Csrf` header; signed ones pass the replay guard when on.
//!
//! Invariant: a filter here either proves one of these or rejects with a
//! typed [`ApiError`]; no handler re-checks.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use proto::session::{CSRF_HEADER, SESSION_COOKIE, SIGN_HEADER};
use warp::{Filter, Rejection};

use crate::http::State;
use crate::http::error::ApiError;
use crate::http::input::{body_limited, raw_query};
use crate::http::session::SessionInfo;

pub use crate::serve::Caller;

/// What proved a request may proceed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The control socket.
    Trusted,
    /// A valid signature with the global secret.
    Signed,
    User(SessionInfo),
    /// Nobody; allowed only for reads when no users are configured.
    Anonymous,
}

/// What a signature covers on an admin call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignOver {
    /// job_exec pause/resume/cancel/run: the raw form body.
    Body,
    /// job_http pause/resume/run/cancel: the raw query string.
    Query,
}

/// A mutation that passed the access checks, with its raw inputs.
#[derive(Debug, Clone)]
pub struct Authorised {
    pub principal: Principal,
    pub body: Bytes,
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

fn sign_header() -> impl Filter<Extract = (Option<String>,), Error = Rejection> + Clone {
    warp::header::optional::<String>(SIGN_HEADER)
}

/// Read access: trusted socket, no users configured, a session, or a
/// signature over a raw query holding a fresh `_karajo_epoch`.
pub fn read(state: Arc<State>) -> impl Filter<Extract = (Principal,), Error = Rejection> + Clone {
    caller().and(session(state.clone())).and(sign_header()).and(raw_query()).and(warp::path::full()).and_then(
        move |caller: Caller, sess, sign: Option<String>, query: String, path: warp::path::FullPath| {
            let state = state.clone();
            async move {
                let signed = sign.as_deref().map(|sig| SignedRead { sig, query: &query, scope: path.as_str() });
                read_principal(&state, caller, sess, signed).map_err(warp::reject::custom)
            }
        },
    )
}

/// A read's `X-Karajo-Sign` with what it covers: the raw query of the
/// request to `scope` (its path).
#[derive(Debug, Clone, Copy)]
pub struct SignedRead<'a> {
    pub sig: &'a str,
    pub query: &'a str,
    pub scope: &'a str,
}

/// The rule behind [`read`], as a plain function. A valid signature whose
/// query lacks a fresh epoch is refused with the epoch's error when users
/// exist (without users, the read is public anyway).
pub fn read_principal(
    state: &State,
    caller: Caller,
    sess: Option<(String, SessionInfo)>,
    signed: Option<SignedRead<'_>>,
) -> Result<Principal, ApiError> {
    if matches!(caller, Caller::Socket { .. }) {
        return Ok(Principal::Trusted);
    }
    if let Some((_, s)) = sess {
        return Ok(Principal::User(s));
    }
    let config = state.backend.config();
    if let Some(r) = signed
        && proto::sign::verify_hmac_sha256(config.server.secret.expose().as_bytes(), r.query.as_bytes(), r.sig)
    {
        match state.replay.check_read(config.server.replay_window, r.scope, r.query.as_bytes()) {
            Ok(()) => return Ok(Principal::Signed),
            Err(e) if !config.users.is_empty() => return Err(e),
            Err(_) => {}
        }
    }
    if config.users.is_empty() { Ok(Principal::Anonymous) } else { Err(ApiError::AuthRequired) }
}

/// Mutation access for an admin call whose signature covers `over`;
/// `scope` names the endpoint for the replay guard.
pub fn mutation(
    state: Arc<State>,
    over: SignOver,
    scope: String,
) -> impl Filter<Extract = (Authorised,), Error = Rejection> + Clone {
    let limit = state.max_body_bytes;
    caller()
        .and(session(state.clone()))
        .and(sign_header())
        .and(warp::header::optional::<String>(CSRF_HEADER))
        .and(raw_query())
        .and(body_limited(limit))
        .and_then(move |caller, sess, sign: Option<String>, csrf: Option<String>, query: String, body: Bytes| {
            let (state, scope) = (state.clone(), scope.clone());
            async move {
                let proof = Proof { caller, sess, sign: sign.as_deref(), csrf: csrf.as_deref() };
                let principal = mutation_principal(&state, proof, over, &scope, &body, &query)?;
                Ok::<_, Rejection>(Authorised { principal, body, query })
            }
        })
}

/// The credentials a request brought.
pub struct Proof<'a> {
    pub caller: Caller,
    pub sess: Option<(String, SessionInfo)>,
    pub sign: Option<&'a str>,
    pub csrf: Option<&'a str>,
}

/// The rule behind [`mutation`], as a plain function.
pub fn mutation_principal(
    state: &State,
    proof: Proof<'_>,
    over: SignOver,
    scope: &str,
    body: &[u8],
    query: &str,
) -> Result<Principal, ApiError> {
    if matches!(proof.caller, Caller::Socket { .. }) {
        return Ok(Principal::Trusted);
    }
    let config = state.backend.config();
    let signed: &[u8] = match over {
        SignOver::Body => body,
        SignOver::Query => query.as_bytes(),
    };
    if let Some(sig) = proof.sign.filter(|s| !s.trim().is_empty()) {
        if !proto::sign::verify_hmac_sha256(config.server.secret.expose().as_bytes(), signed, sig) {
            return Err(ApiError::BadSignature);
        }
        if let Some(window) = config.server.replay_window {
            state.replay.check(window, scope, signed)?;
        }
        return Ok(Principal::Signed);
    }
    match proof.sess {
        Some((_, s)) if proof.csrf.is_some_and(|c| s.csrf_matches(c)) => Ok(Principal::User(s)),
        Some(_) => Err(ApiError::Csrf),
        None => Err(ApiError::BadSignature),
    }
}
