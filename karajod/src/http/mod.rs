//! The HTTP transport: routes of the API, webhooks and dashboard, wired
//! onto shared state. Handlers decode, call the engine, encode.

pub mod ui;

use std::convert::Infallible;

use warp::Filter;

/// `GET /karajo/health`: 200 `{"status":"ok"}` while the daemon is up.
pub fn health() -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
    warp::path!("karajo" / "health")
        .and(warp::get())
        .and_then(|| async { Ok::<_, Infallible>(warp::reply::json(&serde_json::json!({"status": "ok"}))) })
}

/// Every route served on `listen_address`.
pub fn routes() -> impl Filter<Extract = (impl warp::Reply,), Error = Infallible> + Clone {
    health().recover(|_rej: warp::Rejection| async {
        let body = proto::Response::<()>::error(404, Some(proto::ErrorName::NotFound), "not found");
        Ok::<_, Infallible>(warp::reply::with_status(warp::reply::json(&body), warp::http::StatusCode::NOT_FOUND))
    })
}
