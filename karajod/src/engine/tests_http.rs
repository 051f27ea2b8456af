//! HTTP job tests against a real local server (warp on port 0): the
//! signature over the exact bytes, the logged request and response, 2xx
//! versus failure, and a path URL reaching this daemon's own address.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use proto::{JobId, JobKind, JobStatus};
use warp::Filter;

use super::tests::{config, fixture_in, next_end, start_time};
use super::{Clock, EngineOptions, ManualClock};
use crate::config::{HttpMethod, RequestType};
use crate::library;

type Seen = Arc<Mutex<Vec<(String, Option<String>, Bytes)>>>;

/// A server that records (path+query, signature header, body) and answers
/// 200 on `/ok`, 500 elsewhere.
async fn server() -> (SocketAddr, Seen) {
    let seen: Seen = Default::default();
    let s = seen.clone();
    let route = warp::path::full()
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(warp::header::optional::<String>("x-karajo-sign"))
        .and(warp::body::bytes())
        .map(move |path: warp::path::FullPath, q: String, sign: Option<String>, body: Bytes| {
            let ok = path.as_str() == "/ok";
            s.lock().unwrap().push((format!("{}?{q}", path.as_str()), sign, body));
            let code = if ok { warp::http::StatusCode::OK } else { warp::http::StatusCode::INTERNAL_SERVER_ERROR };
            warp::reply::with_status("pong", code)
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(warp::serve(route).incoming(listener).run());
    (addr, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_jobs_sign_what_they_send_and_log_the_exchange() {
    let (addr, seen) = server().await;
    let dir = tempfile::tempdir().unwrap();
    let mut json = library::http_job("json", HttpMethod::Post, &format!("http://{addr}/ok"));
    json.http_request_type = RequestType::Json;
    json.http_headers = vec![crate::config::HttpHeader::literal("X-Extra", "1")];
    let query = library::http_job("query", HttpMethod::Get, "/fail?a=b");
    let cfg = config(dir.path(), vec![], vec![json, query]);
    let mut opts = EngineOptions::new(format!("http://{addr}"));
    let clock = Arc::new(ManualClock::new(start_time()));
    opts.clock = clock.clone();
    let engine = super::Engine::new(library_secrets(cfg), opts).unwrap();
    let mut f = super::tests::Fixture { dir, clock, ended: engine.subscribe_ended(), engine };
    f.engine.trigger_http_job(&JobId::from_name("json")).unwrap();
    let e = next_end(&mut f).await;
    assert_eq!((e.kind, e.status), (JobKind::JobHttp, JobStatus::Success));
    let epoch = f.clock.now().timestamp();
    let body = format!("{{\"_karajo_epoch\":{epoch}}}");
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen[0].2, body.as_bytes());
        assert_eq!(seen[0].1.as_deref(), Some(proto::sign::hmac_sha256_hex(b"s3cret", body.as_bytes()).as_str()));
    }
    let text = std::fs::read_to_string(&e.log_path).unwrap();
    for want in ["job_http: json: --- Request: POST http://", "X-Extra: 1", "200 OK", "pong", "=== DONE"] {
        assert!(text.contains(want), "{want} in {text}");
    }

    f.engine.trigger_http_job(&JobId::from_name("query")).unwrap();
    let e = next_end(&mut f).await;
    assert_eq!(e.status, JobStatus::Failed);
    let (target, sign, _) = seen.lock().unwrap()[1].clone();
    let q = format!("a=b&_karajo_epoch={epoch}");
    assert_eq!(target, format!("/fail?{q}"), "a path URL goes to this daemon");
    assert_eq!(sign.as_deref(), Some(proto::sign::hmac_sha256_hex(b"s3cret", q.as_bytes()).as_str()));
    let text = std::fs::read_to_string(&e.log_path).unwrap();
    assert!(text.contains("500 Internal Server Error"), "{text}");
    f.engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_fails_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let job = library::http_job("down", HttpMethod::Get, "http://127.0.0.1:9/x");
    let cfg = config(dir.path(), vec![], vec![job]);
    let mut f = fixture_in(dir, Arc::new(ManualClock::new(start_time())), library_secrets(cfg), HashMap::new());
    f.engine.trigger_http_job(&JobId::from_name("down")).unwrap();
    let e = next_end(&mut f).await;
    assert_eq!(e.status, JobStatus::Failed);
    let text = std::fs::read_to_string(&e.log_path).unwrap();
    assert!(text.contains("!!! failed: "), "{text}");
    f.engine.shutdown().await;
}

/// Job secrets default to the global one, as `Karajo::build` fills them.
fn library_secrets(mut cfg: crate::config::Config) -> crate::config::Config {
    for j in &mut cfg.http_jobs {
        std::sync::Arc::make_mut(j).common.secret = cfg.server.secret.clone();
    }
    cfg
}
