//! `GET /karajo/api/upcoming?hours=24&limit=500` (SPEC 16): the timer runs
//! due soon, `[{kind, id, name, at, slot}]` sorted by `at`, readable like
//! the rest of the read API (SPEC 7) and served on both transports.

use std::sync::Arc;

use proto::upcoming::{DEFAULT_HOURS, DEFAULT_LIMIT, MAX_HOURS, MAX_LIMIT};
use warp::Filter;
use warp::filters::BoxedFilter;

use crate::http::State;
use crate::http::auth::{self, Principal};
use crate::http::error::{ApiError, ok};
use crate::http::input::{Params, raw_query};

/// The route: `GET /karajo/api/upcoming`.
pub fn route(st: Arc<State>) -> BoxedFilter<(warp::reply::Response,)> {
    warp::path!("karajo" / "api" / "upcoming")
        .and(crate::http::routes::get_or_head())
        .and(auth::read(st.clone()))
        .and(raw_query())
        .map(move |_: Principal, q: String| {
            let answer = Params::parse(q.as_bytes()).and_then(|q| {
                let hours = number(&q, "hours", DEFAULT_HOURS as usize, MAX_HOURS as usize)?;
                let limit = number(&q, "limit", DEFAULT_LIMIT, MAX_LIMIT)?;
                Ok(st.backend.upcoming(chrono::TimeDelta::hours(hours as i64), limit))
            });
            answer.map(ok).unwrap_or_else(ApiError::into_response)
        })
        .boxed()
}

/// A whole number 1..=`max` (default when absent or empty); 400 otherwise.
fn number(q: &Params, key: &str, default: usize, max: usize) -> Result<usize, ApiError> {
    match q.get(key).map(str::trim) {
        None | Some("") => Ok(default),
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::BadRequest(format!("invalid {key}: {s:?}: expected a whole number from 1 to {max}"))),
        },
    }
}
