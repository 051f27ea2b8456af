//! The HTTP side of passive checks (SPEC 18): the public ping endpoints
//! `GET|POST /karajo/ping/KEY[/start|/fail|/EXIT_CODE]`, and the API
//! `GET /karajo/api/check?name=`, `POST /karajo/api/check/pause?name=`
//! and `/check/resume?name=` (authorised like `job_http/pause`: a
//! signature over the query, a session with CSRF, a token, or the socket).
//!
//! Invariants: a ping needs no credentials (its key is the secret) and an
//! unknown key answers the same 404 as any unknown path, revealing
//! nothing; a ping body is read up to [`MAX_PING_BODY_BYTES`] and the rest
//! dropped, never refused; a ping waits for no disk.

use std::sync::Arc;

use bytes::{Buf, Bytes, BytesMut};
use futures_util::StreamExt;
use warp::Filter;

use crate::checks::{MAX_PING_BODY_BYTES, PingKind};
use crate::http::State;
use crate::http::auth::{self, Authorised, Need, Principal, SignOver};
use crate::http::error::{self, ApiError};
use crate::http::input::Params;
use crate::http::routes::{Route, api_path, finish, get_or_head, query_params};

/// How long a pinger may take to send its body.
const PING_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Every check route.
pub fn routes(st: Arc<State>) -> Route {
    ping(st.clone()).or(show(st.clone())).unify().or(act(st.clone(), true)).unify().or(act(st, false)).unify().boxed()
}

fn ping(st: Arc<State>) -> Route {
    warp::path("karajo")
        .and(warp::path("ping"))
        .and(warp::path::tail())
        .and(get_or_head().or(warp::post()).unify())
        .and(body_cut())
        .map(move |tail: warp::path::Tail, body: Bytes| finish(handle_ping(&st, tail.as_str(), body)))
        .boxed()
}

fn handle_ping(st: &State, tail: &str, body: Bytes) -> Result<warp::reply::Response, ApiError> {
    let (key, rest) = tail.split_once('/').unwrap_or((tail, ""));
    let kind = PingKind::parse(rest).ok_or(ApiError::NotFound)?;
    let checks = st.backend.checks().ok_or(ApiError::NotFound)?;
    checks.ping(key, kind, body).map_err(|_| ApiError::NotFound)?;
    Ok(error::ok(serde_json::Value::Null))
}

/// The body up to [`MAX_PING_BODY_BYTES`]; what comes after is read and dropped.
fn body_cut() -> impl Filter<Extract = (Bytes,), Error = warp::Rejection> + Clone {
    warp::body::stream().and_then(|stream| async move {
        tokio::time::timeout(PING_BODY_TIMEOUT, cut(stream))
            .await
            .map_err(|_| warp::reject::custom(ApiError::BadRequest("request body too slow".into())))
    })
}

async fn cut<S, B, E>(stream: S) -> Bytes
where
    S: futures_util::Stream<Item = Result<B, E>>,
    B: Buf,
{
    let mut stream = std::pin::pin!(stream);
    let mut out = BytesMut::new();
    while let Some(Ok(mut chunk)) = stream.next().await {
        let take = MAX_PING_BODY_BYTES.saturating_sub(out.len()).min(chunk.remaining());
        out.extend_from_slice(&chunk.copy_to_bytes(take));
    }
    out.freeze()
}

fn show(st: Arc<State>) -> Route {
    api_path("check")
        .and(warp::path::end())
        .and(get_or_head())
        .and(auth::read(st.clone()))
        .and(query_params())
        .map(move |_: Principal, q: Params| finish(one(&st, &q)))
        .boxed()
}

fn one(st: &State, q: &Params) -> Result<warp::reply::Response, ApiError> {
    let name = q.get("name").filter(|n| !n.is_empty()).ok_or_else(|| ApiError::BadRequest("missing name".into()))?;
    let checks = st.backend.checks().ok_or(ApiError::NotFound)?;
    Ok(error::ok(checks.get(name).map_err(|_| ApiError::NotFound)?))
}

fn act(st: Arc<State>, pause: bool) -> Route {
    let word = if pause { "pause" } else { "resume" };
    api_path("check")
        .and(warp::path(word))
        .and(warp::path::end())
        .and(warp::post())
        .and(auth::mutation(st.clone(), SignOver::Query, format!("check/{word}"), Need::Operate))
        .map(move |a: Authorised| {
            let name = a.params.get("name").unwrap_or("").to_string();
            let r = st
                .backend
                .checks()
                .ok_or(ApiError::NotFound)
                .and_then(|c| c.set_paused(&name, pause).map_err(|_| ApiError::NotFound))
                .map(error::ok);
            if r.is_ok() {
                tracing::info!(check = %name, action = word, "admin call");
            }
            st.record(&a.caller, Some(&a.principal), &a.action, &name, &r);
            finish(r)
        })
        .boxed()
}
