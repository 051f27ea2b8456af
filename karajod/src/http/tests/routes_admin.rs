//! Signed admin calls, webhooks of every auth kind, replay protection and
//! body limits.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::Value;

use super::fake::{Fake, SECRET, config};
use crate::http::{State, StateOptions, router};

fn setup(replay: Option<Duration>) -> (Arc<Fake>, Arc<State>, SigningKey) {
    let fake = Fake::new(config(vec![], replay));
    let signing = SigningKey::from_bytes(&[3u8; 32]);
    let opts = StateOptions { sourcehut_key: signing.verifying_key(), ..StateOptions::default() };
    (fake.clone(), State::new(fake, opts), signing)
}

fn sign(payload: &[u8]) -> String {
    proto::sign::hmac_sha256_hex(SECRET.as_bytes(), payload)
}

async fn post(st: &Arc<State>, path: &str, headers: &[(&str, String)], body: &[u8]) -> (u16, Value) {
    let mut req = warp::test::request().method("POST").path(path);
    for (k, v) in headers {
        req = req.header(*k, v.as_str());
    }
    let r = req.body(body).reply(&router(st.clone())).await;
    (r.status().as_u16(), serde_json::from_slice(r.body()).unwrap_or(Value::Null))
}

#[tokio::test]
async fn job_exec_admin_calls_sign_the_form_body() {
    let (fake, st, _) = setup(None);
    let body = b"_karajo_epoch=1677350854&id=alpha";
    let (s, v) = post(&st, "/karajo/api/job_exec/pause", &[("X-Karajo-Sign", sign(body))], body).await;
    assert_eq!((s, v["message"].as_str(), v["data"]["status"].as_str()), (200, Some("OK"), Some("paused")));
    let (s, _) = post(&st, "/karajo/api/job_exec/resume", &[("X-Karajo-Sign", sign(body))], body).await;
    assert_eq!(s, 200);
    let (s, v) = post(&st, "/karajo/api/job_exec/cancel", &[("X-Karajo-Sign", sign(body))], body).await;
    assert_eq!((s, v["data"]["id"].as_str()), (200, Some("alpha")));
    let (s, _) = post(&st, "/karajo/api/job_exec/run", &[("X-Karajo-Sign", sign(body))], body).await;
    assert_eq!(s, 200);
    assert_eq!(fake.triggers.lock().unwrap().last().unwrap().1, "manual");
    for headers in [vec![], vec![("X-Karajo-Sign", sign(b"other"))], vec![("X-Karajo-Sign", String::new())]] {
        let (s, v) = post(&st, "/karajo/api/job_exec/pause", &headers, body).await;
        assert_eq!((s, v), (401, serde_json::json!({"code":401,"message":"empty or invalid signature"})));
    }
    let unknown = b"_karajo_epoch=1&id=nope";
    let (s, v) = post(&st, "/karajo/api/job_exec/pause", &[("X-Karajo-Sign", sign(unknown))], unknown).await;
    assert_eq!(
        (s, v["name"].as_str(), v["message"].as_str()),
        (404, Some("ERR_JOB_NOT_FOUND"), Some("job not found: nope"))
    );
}

#[tokio::test]
async fn job_http_admin_calls_sign_the_raw_query() {
    let (_f, st, _) = setup(None);
    for action in ["pause", "resume", "run", "cancel"] {
        let q = "_karajo_epoch=1677350854&id=ping";
        let (s, _) =
            post(&st, &format!("/karajo/api/job_http/{action}?{q}"), &[("X-Karajo-Sign", sign(q.as_bytes()))], b"")
                .await;
        assert_eq!(s, 200, "{action}");
        let (s, _) =
            post(&st, &format!("/karajo/api/job_http/{action}?{q}"), &[("X-Karajo-Sign", sign(b"x"))], b"").await;
        assert_eq!(s, 401, "{action}");
    }
    let q = "id=nope";
    let (s, v) =
        post(&st, &format!("/karajo/api/job_http/pause?{q}"), &[("X-Karajo-Sign", sign(q.as_bytes()))], b"").await;
    assert_eq!((s, v["name"].as_str()), (400, Some("ERR_INVALID_JOB_ID")));
}

#[tokio::test]
async fn webhook_hmac_sha256_documented_example() {
    let (fake, st, _) = setup(None);
    let body = br#"{"_karajo_epoch":1677350854}"#;
    let sig = sign(body);
    assert!(sig.starts_with("fef16cab") && sig.ends_with("f38c54"));
    let (s, v) = post(&st, "/karajo/api/job_exec/run/alpha", &[("X-Karajo-Sign", sig)], body).await;
    assert_eq!((s, v["data"]["id"].as_str()), (200, Some("alpha")));
    assert_eq!(fake.triggers.lock().unwrap()[0].1, format!("http:{}", String::from_utf8_lossy(body)));
    let (s, v) = post(&st, "/karajo/api/job_exec/run/alpha", &[("X-Karajo-Sign", sign(b"x"))], body).await;
    assert_eq!((s, v), (403, serde_json::json!({"code":403,"name":"ERR_JOB_FORBIDDEN","message":"forbidden"})));
    let (s, v) = post(&st, "/karajo/api/job_exec/run/nope", &[], body).await;
    assert_eq!((s, v["name"].as_str()), (404, Some("ERR_JOB_NOT_FOUND")));
    fake.paused.lock().unwrap().insert(proto::JobId::from_name("alpha"));
    let (s, v) = post(&st, "/karajo/api/job_exec/run/alpha", &[("X-Karajo-Sign", sign(body))], body).await;
    assert_eq!((s, v["name"].as_str()), (412, Some("ERR_JOB_PAUSED")));
}

#[tokio::test]
async fn webhook_github_and_sourcehut() {
    let (_f, st, signing) = setup(None);
    let body = br#"{"ref":"refs/heads/main"}"#;
    let s256 = format!("sha256={}", sign(body));
    let s1 = format!("sha1={}", proto::sign::hmac_sha1_hex(SECRET.as_bytes(), body));
    assert_eq!(post(&st, "/karajo/api/job_exec/run/github", &[("X-Hub-Signature-256", s256)], body).await.0, 200);
    assert_eq!(post(&st, "/karajo/api/job_exec/run/github", &[("X-Hub-Signature", s1)], body).await.0, 200);
    let bad = ("X-Hub-Signature-256", "sha256=00".to_string());
    assert_eq!(post(&st, "/karajo/api/job_exec/run/github", &[bad], body).await.0, 403);
    let mut msg = body.to_vec();
    msg.extend_from_slice(b"nonce1");
    let sig = base64::engine::general_purpose::STANDARD.encode(signing.sign(&msg).to_bytes());
    let good = [("X-Payload-Signature", sig.clone()), ("X-Payload-Nonce", "nonce1".to_string())];
    assert_eq!(post(&st, "/karajo/api/job_exec/run/srht", &good, body).await.0, 200);
    let bad = [("X-Payload-Signature", sig), ("X-Payload-Nonce", "nonce2".to_string())];
    assert_eq!(post(&st, "/karajo/api/job_exec/run/srht", &bad, body).await.0, 403);
}

#[tokio::test]
async fn replay_window_refuses_stale_and_repeated_requests() {
    let (_f, st, _) = setup(Some(Duration::from_secs(300)));
    let now = chrono::Utc::now().timestamp();
    let body = format!("_karajo_epoch={now}&id=alpha");
    let h = [("X-Karajo-Sign", sign(body.as_bytes()))];
    assert_eq!(post(&st, "/karajo/api/job_exec/pause", &h, body.as_bytes()).await.0, 200);
    let (s, v) = post(&st, "/karajo/api/job_exec/pause", &h, body.as_bytes()).await;
    assert_eq!((s, v["name"].as_str()), (409, Some("ERR_REPLAY")));
    let old = format!("_karajo_epoch={}&id=alpha", now - 3600);
    let (s, _) =
        post(&st, "/karajo/api/job_exec/resume", &[("X-Karajo-Sign", sign(old.as_bytes()))], old.as_bytes()).await;
    assert_eq!(s, 409);
    let hook = format!(r#"{{"_karajo_epoch":{now}}}"#);
    let h = [("X-Karajo-Sign", sign(hook.as_bytes()))];
    assert_eq!(
        post(&st, "/karajo/api/job_exec/resume", &[("X-Karajo-Sign", sign(body.as_bytes()))], body.as_bytes()).await.0,
        200
    );
    assert_eq!(post(&st, "/karajo/api/job_exec/run/alpha", &h, hook.as_bytes()).await.0, 200);
    assert_eq!(post(&st, "/karajo/api/job_exec/run/alpha", &h, hook.as_bytes()).await.0, 409);
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_413() {
    let (_f, st, _) = setup(None);
    let big = vec![b'a'; 2 * 1024 * 1024];
    let (s, v) = post(&st, "/karajo/api/job_exec/run/alpha", &[], &big).await;
    assert_eq!((s, v["name"].as_str()), (413, Some("ERR_BODY_TOO_LARGE")));
    let (s, _) = post(&st, "/karajo/api/job_exec/pause", &[], &big).await;
    assert_eq!(s, 413);
}
