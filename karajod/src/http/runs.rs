//! `GET /karajo/api/job_exec/runs?id=&limit=&before=&status=` and
//! `/job_http/runs`: a job's history rows newest first (SPEC 15), read
//! like the other job routes (SPEC 7 access).
//!
//! Invariant: parameters are checked before the database is asked; a bad
//! one is 400 `ERR_BAD_REQUEST` naming it; an unknown job is the same
//! not-found answer as `GET /job_exec?id=` (404) or `/job_http?id=` (400).

use std::sync::Arc;

use proto::{JobId, JobKind};
use warp::Filter;

use crate::http::api::{Reply, exists};
use crate::http::auth::{self, Principal};
use crate::http::error::{ApiError, ok};
use crate::http::input::Params;
use crate::http::{State, routes};
use crate::store::history::RunQuery;

/// Rows answered when `limit` is not given.
pub const DEFAULT_LIMIT: u32 = 50;
/// The most rows one request may ask for.
pub const MAX_LIMIT: u32 = 1000;
/// The statuses a row can have (SPEC 15, 17).
const STATUSES: [&str; 5] = ["running", "success", "failed", "canceled", "missed"];

/// The route of one kind.
pub fn route(st: Arc<State>, seg: &'static str, kind: JobKind) -> routes::Route {
    routes::api_path(seg)
        .and(warp::path("runs"))
        .and(warp::path::end())
        .and(routes::get_or_head())
        .and(auth::read(st.clone()))
        .and(routes::query_params())
        .then(move |_: Principal, q: Params| {
            let st = st.clone();
            async move { routes::finish(runs(&*st.backend, kind, &q).await) }
        })
        .boxed()
}

/// What a runs request asks for, checked.
#[derive(Debug, PartialEq)]
struct Page {
    id: JobId,
    limit: u32,
    before: Option<u64>,
    status: Option<String>,
}

fn page(kind: JobKind, q: &Params) -> Result<Page, ApiError> {
    let id = q.id(kind)?;
    let limit = match q.get("limit").map(str::trim) {
        None | Some("") => DEFAULT_LIMIT,
        Some(s) => match s.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(ApiError::BadRequest(format!("invalid limit: {s} (a whole number from 1 to {MAX_LIMIT})")));
            }
        },
    };
    let before = match q.get("before").map(str::trim) {
        None | Some("") => None,
        Some(s) => {
            Some(s.parse::<u64>().map_err(|_| ApiError::BadRequest(format!("invalid before: {s} (a run counter)")))?)
        }
    };
    let status = match q.get("status").map(str::trim) {
        None | Some("") => None,
        Some(s) if STATUSES.contains(&s) => Some(s.to_string()),
        Some(s) => {
            return Err(ApiError::BadRequest(format!("invalid status: {s} (one of {})", STATUSES.join(", "))));
        }
    };
    Ok(Page { id, limit, before, status })
}

/// The rows of one job, newest first.
pub async fn runs(b: &dyn crate::http::backend::Backend, kind: JobKind, q: &Params) -> Reply {
    let p = page(kind, q)?;
    if !exists(b, kind, &p.id) {
        return Err(ApiError::not_found(kind, p.id.to_string()));
    }
    let h = b.history().ok_or(ApiError::Unavailable)?;
    let query = RunQuery { kind, job_id: &p.id, limit: p.limit, before: p.before, status: p.status.as_deref() };
    match h.runs(&query).await {
        Ok(rows) => Ok(ok(rows)),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the runs");
            Err(ApiError::Unavailable)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> Result<Page, ApiError> {
        page(JobKind::Job, &Params::parse(q.as_bytes()).unwrap())
    }

    #[test]
    fn limits_default_and_bounds() {
        assert_eq!(parse("id=a").unwrap().limit, DEFAULT_LIMIT);
        assert_eq!(parse("id=a&limit=1000&before=7&status=failed").unwrap().before, Some(7));
        for bad in ["id=a&limit=0", "id=a&limit=1001", "id=a&limit=x", "id=a&before=-1", "id=a&status=ok"] {
            assert!(matches!(parse(bad), Err(ApiError::BadRequest(_))), "{bad}");
        }
        assert!(matches!(parse("limit=5"), Err(ApiError::JobNotFound(_))));
    }
}
