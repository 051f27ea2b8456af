//! Read routes: environment, one job, logs, streams, health, metrics,
//! unknown paths.

use std::sync::Arc;

use serde_json::Value;

use super::fake::{Fake, config};
use crate::engine::RunState;
use crate::http::{State, StateOptions, router};

pub fn setup(cfg: crate::config::Config) -> (Arc<Fake>, Arc<State>) {
    let fake = Fake::new(cfg);
    let state = State::new(fake.clone(), StateOptions::default());
    (fake, state)
}

pub async fn get(state: &Arc<State>, path: &str) -> (u16, Value) {
    let r = warp::test::request().method("GET").path(path).reply(&router(state.clone())).await;
    (r.status().as_u16(), serde_json::from_slice(r.body()).unwrap_or(Value::Null))
}

#[tokio::test]
async fn environment_and_single_jobs() {
    let (_f, st) = setup(config(vec![], None));
    let (s, v) = get(&st, "/karajo/api/environment").await;
    assert_eq!((s, v["code"].as_u64()), (200, Some(200)));
    assert_eq!(v["data"]["jobs"]["alpha"]["id"], "alpha");
    assert_eq!(v["data"]["http_jobs"]["ping"]["http_method"], "GET");
    let (s, v) = get(&st, "/karajo/api/job_exec?id=ALPHA").await;
    assert_eq!((s, v["data"]["name"].as_str()), (200, Some("alpha")));
    for q in ["?id=nope", "", "?id=../x", "?id=%ff%fe"] {
        let (s, v) = get(&st, &format!("/karajo/api/job_exec{q}")).await;
        assert_eq!((s, v["name"].as_str()), (404, Some("ERR_JOB_NOT_FOUND")), "{q}");
    }
    let (s, _) = get(&st, "/karajo/api/job_http?id=ping").await;
    assert_eq!(s, 200);
    for q in ["?id=nope", "?id=", ""] {
        let (s, v) = get(&st, &format!("/karajo/api/job_http{q}")).await;
        assert_eq!((s, v["name"].as_str()), (400, Some("ERR_INVALID_JOB_ID")), "{q}");
    }
}

#[tokio::test]
async fn logs_and_their_errors() {
    let (_f, st) = setup(config(vec![], None));
    let (s, v) = get(&st, "/karajo/api/job_exec/log?id=alpha&counter=1").await;
    assert_eq!(s, 200);
    assert_eq!(v["data"]["content"], "aGVsbG8K");
    assert_eq!(v["data"]["name"], "alpha.1.success");
    let (s, v) = get(&st, "/karajo/api/job_exec/log?id=alpha&counter=2").await;
    assert_eq!((s, v["name"].as_str()), (404, Some("ERR_LOG_NOT_FOUND")));
    let (s, v) = get(&st, "/karajo/api/job_exec/log?id=nope&counter=1").await;
    assert_eq!((s, v["name"].as_str()), (404, Some("ERR_JOB_NOT_FOUND")));
    for q in ["id=alpha&counter=x", "id=alpha", "id=alpha&counter=-1", "id=alpha&counter=99999999999999999999999"] {
        let (s, v) = get(&st, &format!("/karajo/api/job_exec/log?{q}")).await;
        assert_eq!((s, v["name"].as_str()), (400, Some("ERR_BAD_REQUEST")), "{q}");
    }
    let (s, _) = get(&st, "/karajo/api/job_http/log?id=ping&counter=1").await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn unknown_paths_and_methods() {
    let (_f, st) = setup(config(vec![], None));
    for p in ["/karajo/nope", "/karajo/api/nope", "/karajo/api/job_exec/log/x", "/", "/x"] {
        let (s, v) = get(&st, p).await;
        assert_eq!((s, v["name"].as_str()), (404, Some("ERR_NOT_FOUND")), "{p}");
    }
    let (s, v) = get(&st, "/karajo/api/job_exec/pause").await;
    assert_eq!((s, v["name"].as_str()), (405, Some("ERR_METHOD_NOT_ALLOWED")));
    let (s, v) = get(&st, "/karajo/health").await;
    assert_eq!((s, v["status"].as_str()), (200, Some("ok")));
}

#[tokio::test]
async fn metrics_need_read_access_or_the_bearer_token() {
    let hash = bcrypt::hash("pw", 4).unwrap();
    let (_f, st) = setup(config(vec![("u", &hash)], None));
    let r = warp::test::request().path("/karajo/metrics").reply(&router(st.clone())).await;
    assert_eq!(r.status(), 401);
    let r = warp::test::request()
        .path("/karajo/metrics")
        .header("authorization", "Bearer mtok")
        .reply(&router(st.clone()))
        .await;
    assert_eq!(r.status(), 200);
    assert!(String::from_utf8_lossy(r.body()).contains("karajo_running 0"));
    let (_f, open) = setup(config(vec![], None));
    let r = warp::test::request().path("/karajo/metrics").reply(&router(open)).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn sse_sends_lines_so_far_then_live_ones_then_end() {
    let (fake, st) = setup(config(vec![], None));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alpha.7.running");
    std::fs::write(&path, "one\r\ntwo\n").unwrap();
    let (tx, rx) = tokio::sync::watch::channel((9u64, RunState::Running));
    *fake.live_log.lock().unwrap() = Some((path.clone(), rx));
    let writer = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"three\npartial").unwrap();
        tx.send((22, RunState::Running)).unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        tx.send((22, RunState::Ended(proto::JobStatus::Success))).unwrap();
    });
    let r = warp::test::request().path("/karajo/api/job_exec/log/stream?id=alpha").reply(&router(st)).await;
    writer.await.unwrap();
    assert_eq!(r.status(), 200);
    let body = String::from_utf8_lossy(r.body()).to_string();
    let data: Vec<&str> = body.lines().filter_map(|l| l.strip_prefix("data:")).collect();
    assert_eq!(data, ["one", "two", "three", "partial", r#"{"counter":7,"status":"success"}"#], "{body}");
    assert!(body.contains("event:end"), "{body}");
}

#[tokio::test]
async fn sse_errors_are_json() {
    let (_f, st) = setup(config(vec![], None));
    let (s, v) = get(&st, "/karajo/api/job_exec/log/stream?id=nope").await;
    assert_eq!((s, v["name"].as_str()), (404, Some("ERR_JOB_NOT_FOUND")));
    let (s, _) = get(&st, "/karajo/api/job_http/log/stream?id=ping&counter=zz").await;
    assert_eq!(s, 400);
}
