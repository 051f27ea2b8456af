//! `/environment` assembled from kept per-job pieces (`http/env_pieces.rs`)
//! against a plain `serde_json` encoding of the same state: byte for byte,
//! as JSON and gunzipped, after changes, a reload and with names that need
//! escaping or sort apart from their IDs; and the `ETag` that goes with it.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use proto::{JobId, JobKind};

use super::tests::{config, every_minute, fixture_in, gated, next_end, start_time, timed, wait_until};
use super::*;
use crate::config::HttpMethod;
use crate::http::environment::{Encoding, EnvironmentCache};
use crate::library;

fn plain(e: &Engine) -> Vec<u8> {
    serde_json::to_vec(&proto::Response::ok(e.environment())).unwrap()
}

fn gunzip(gz: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(gz).read_to_end(&mut out).unwrap();
    out
}

/// Both encodings from `cache` equal the plain encoding of the state now.
/// The gzip form is asked for first (a browser), then the plain one is
/// made from the kept layout, and then the other way round again.
fn check(cache: &EnvironmentCache, e: &Engine, when: &str) -> bytes::Bytes {
    let gz = cache.answer(e, Encoding::Gzip).unwrap().body.to_bytes();
    let json = cache.answer(e, Encoding::Identity).unwrap().body.to_bytes();
    assert_eq!(std::str::from_utf8(&json).unwrap(), std::str::from_utf8(&plain(e)).unwrap(), "{when}");
    assert_eq!(gunzip(&gz), json.to_vec(), "{when}: gzip form");
    let fresh = EnvironmentCache::default();
    let json_first = fresh.answer(e, Encoding::Identity).unwrap().body.to_bytes();
    assert_eq!(json_first, json, "{when}: plain first");
    assert_eq!(gunzip(&fresh.answer(e, Encoding::Gzip).unwrap().body.to_bytes()), json.to_vec(), "{when}: gzip second");
    json
}

fn jobs() -> Vec<crate::config::JobConfig> {
    let mut v: Vec<_> =
        ["b job", "a \"quoted\" job", "Ünïcode – job", "z</script>"].iter().map(|n| timed(n, None)).collect();
    v.push(timed("ticker", every_minute()));
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_assembled_environment_is_the_plain_encoding_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let http = vec![
        library::http_job("h two", HttpMethod::Get, "http://u:pw@127.0.0.1:9/x?token=1"),
        library::http_job("h one", HttpMethod::Post, "http://127.0.0.1:9/"),
    ];
    let cfg = config(dir.path(), jobs(), http);
    let runs = Arc::new(AtomicUsize::new(0));
    let calls = HashMap::from([(JobId::from_name("ticker"), gated(runs, None))]);
    let mut f = fixture_in(dir, Arc::new(clock::ManualClock::new(start_time())), cfg, calls);
    next_end(&mut f).await;
    let cache = EnvironmentCache::default();
    let first = check(&cache, &f.engine, "first answer");
    assert!(std::str::from_utf8(&first).unwrap().contains(r#""http_jobs":{"h one":"#));

    f.engine.pause(JobKind::Job, &JobId::from_name("b job")).unwrap();
    check(&cache, &f.engine, "after a pause (one piece encoded again)");
    f.engine.pause(JobKind::JobHttp, &JobId::from_name("h two")).unwrap();
    check(&cache, &f.engine, "after an HTTP job's pause");
    f.engine.trigger_job(&JobId::from_name("ticker"), Trigger::Manual).unwrap();
    next_end(&mut f).await;
    check(&cache, &f.engine, "after a run");

    let mut fewer = jobs();
    fewer.remove(0);
    fewer[0].common.description = "changed by the reload".into();
    f.engine.reload(config(f.dir.path(), fewer, vec![]));
    wait_until("the reload shows", || f.engine.environment().http_jobs.is_empty()).await;
    let reloaded = check(&cache, &f.engine, "after a reload");
    assert!(std::str::from_utf8(&reloaded).unwrap().contains("changed by the reload"));

    // The same number of jobs, one of them another: positions are kept
    // per configuration, and the new name sorts where it belongs.
    let mut renamed = jobs();
    renamed.remove(0);
    renamed[1] = timed("0 first by name", None);
    f.engine.reload(config(f.dir.path(), renamed, vec![]));
    wait_until("the rename shows", || f.engine.environment().jobs.contains_key("0 first by name")).await;
    let text = String::from_utf8(check(&cache, &f.engine, "after a reload that swaps a job").to_vec()).unwrap();
    assert!(text.contains(r#""jobs":{"0 first by name":"#), "{text}");
    f.engine.shutdown().await;
}

#[tokio::test]
async fn the_etag_names_the_state_and_moves_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), jobs(), vec![]);
    let f = fixture_in(dir, Arc::new(clock::ManualClock::new(start_time())), cfg, HashMap::new());
    let cache = EnvironmentCache::default();
    let plain_tag = cache.answer(&f.engine, Encoding::Identity).unwrap().etag.expect("an ETag");
    let gz_tag = cache.answer(&f.engine, Encoding::Gzip).unwrap().etag.expect("an ETag");
    assert_ne!(plain_tag, gz_tag, "each encoding has its own tag");
    assert!(plain_tag.starts_with('"') && plain_tag.ends_with('"'), "{plain_tag}");
    assert_eq!(cache.not_modified(&f.engine, Encoding::Identity, &plain_tag), Some(plain_tag.clone()));
    let listed = format!("\"other\", W/{gz_tag}");
    assert_eq!(cache.not_modified(&f.engine, Encoding::Gzip, &listed), Some(gz_tag.clone()));
    assert!(cache.not_modified(&f.engine, Encoding::Identity, &gz_tag).is_none());
    f.engine.pause(JobKind::Job, &JobId::from_name("b job")).unwrap();
    assert!(cache.not_modified(&f.engine, Encoding::Identity, &plain_tag).is_none(), "a change moves the tag");
    let again = cache.answer(&f.engine, Encoding::Identity).unwrap().etag.unwrap();
    assert_ne!(again, plain_tag);
    assert!(
        EnvironmentCache::default().not_modified(&f.engine, Encoding::Identity, &again).is_none(),
        "another run's tag"
    );
    f.engine.shutdown().await;
}

/// An engine with 70 jobs: three runs of pieces in the gzip form.
fn seventy_jobs() -> super::tests::Fixture {
    let dir = tempfile::tempdir().unwrap();
    let many: Vec<_> = (0..70).map(|i| timed(&format!("job {i:03}"), None)).collect();
    let cfg = config(dir.path(), many, vec![]);
    fixture_in(dir, Arc::new(clock::ManualClock::new(start_time())), cfg, HashMap::new())
}

#[tokio::test]
async fn the_gzip_form_over_many_runs_of_pieces_follows_each_change() {
    let f = seventy_jobs();
    let cache = EnvironmentCache::default();
    check(&cache, &f.engine, "70 jobs");
    for name in ["job 000", "job 040", "job 069"] {
        f.engine.pause(JobKind::Job, &JobId::from_name(name)).unwrap();
        check(&cache, &f.engine, name);
    }
    f.engine.shutdown().await;
}

/// The router over a real engine, as warp itself hands the answer on (the
/// request fuzz target and any caller but our accept loop): the plain
/// form's chunks all arrive, with a `Content-Length` that matches, and
/// the gzip form unpacks to the same bytes.
#[tokio::test]
async fn the_router_sends_every_chunk_of_the_plain_form() {
    let f = seventy_jobs();
    let state = crate::http::State::new(Arc::new(f.engine.clone()), crate::http::StateOptions::default());
    let get = async |gzip: bool| {
        let mut req = warp::test::request().path("/karajo/api/environment");
        if gzip {
            req = req.header("accept-encoding", "gzip");
        }
        req.reply(&crate::http::router(state.clone())).await
    };
    for round in ["first", "kept", "after a pause"] {
        if round == "after a pause" {
            f.engine.pause(JobKind::Job, &JobId::from_name("job 040")).unwrap();
        }
        let r = get(false).await;
        assert_eq!(r.status(), 200, "{round}");
        assert_eq!(std::str::from_utf8(r.body()).unwrap(), std::str::from_utf8(&plain(&f.engine)).unwrap(), "{round}");
        assert_eq!(r.headers()["content-length"].to_str().unwrap(), r.body().len().to_string(), "{round}");
        let gz = get(true).await;
        assert_eq!(gz.headers()["content-encoding"], "gzip", "{round}");
        assert_eq!(gunzip(gz.body()), r.body().to_vec(), "{round}: gzip form");
    }
    f.engine.shutdown().await;
}
