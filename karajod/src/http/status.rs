//! `GET /karajo/api/status`: the daemon at a glance (SPEC 22) for
//! `karajoctl status`, readable like the rest of the read API and served
//! on both transports by the same router.
//!
//! Invariant: built from counts only ([`crate::engine::Census`]); no job
//! views are built, so it stays cheap with thousands of jobs.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;

use crate::http::State;
use crate::http::auth::{self, Principal};
use crate::http::error::ok;

/// The route: `GET /karajo/api/status`.
pub fn route(st: Arc<State>) -> BoxedFilter<(warp::reply::Response,)> {
    warp::path!("karajo" / "api" / "status")
        .and(warp::get())
        .and(auth::read(st.clone()))
        .map(move |_: Principal| ok(status(&st)))
        .boxed()
}

/// The status as it is now.
pub fn status(st: &State) -> proto::Status {
    let census = st.backend.census();
    let config = st.backend.config();
    proto::Status {
        name: config.server.name.clone(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        started_at: st.started.0,
        uptime_seconds: st.started.1.elapsed().as_secs(),
        // The file the reloader reads is the one the daemon was started from.
        config_file: st.reloader.as_ref().map(|r| r.path().display().to_string()).unwrap_or_default(),
        jobs: census.jobs,
        http_jobs: census.http_jobs,
        runs: census.runs,
        cluster: "none".to_string(),
    }
}
