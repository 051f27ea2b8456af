//! Webhooks of every auth kind against the real daemon.

use crate::api::{CONF, get, post, sign};
use crate::harness::{Daemon, Tree};

#[test]
fn documented_example_and_bad_signatures() {
    let tree = Tree::new(CONF);
    let d = Daemon::start(&tree);
    let body = br#"{"_karajo_epoch":1677350854}"#.to_vec();
    let sig = sign(&body);
    assert!(sig.starts_with("fef16cab") && sig.ends_with("f38c54"));
    let (s, v) = post(&d, "/karajo/api/job_exec/run/alpha", &[("X-Karajo-Sign", &sig)], body.clone());
    assert_eq!((s, v["data"]["id"].as_str()), (200, Some("alpha")));
    let (s, v) = post(&d, "/karajo/api/job_exec/run/alpha", &[("X-Karajo-Sign", &sign(b"x"))], body.clone());
    assert_eq!((s, v), (403, serde_json::json!({"code":403,"name":"ERR_JOB_FORBIDDEN","message":"forbidden"})));
    assert_eq!(post(&d, "/karajo/api/job_exec/run/nope", &[], body).1["name"], "ERR_JOB_NOT_FOUND");
    assert_eq!(get(&d, "/karajo/health").0, 200);
}

#[test]
fn github_and_sourcehut() {
    let tree = Tree::new(CONF);
    let d = Daemon::start(&tree);
    let body = br#"{"ref":"refs/heads/main"}"#.to_vec();
    let s256 = format!("sha256={}", sign(&body));
    let s1 = format!("sha1={}", proto::sign::hmac_sha1_hex(b"s3cret", &body));
    assert_eq!(post(&d, "/karajo/api/job_exec/run/gh", &[("X-Hub-Signature-256", &s256)], body.clone()).0, 200);
    assert_eq!(post(&d, "/karajo/api/job_exec/run/gh", &[("X-Hub-Signature", &s1)], body.clone()).0, 200);
    assert_eq!(post(&d, "/karajo/api/job_exec/run/gh", &[("X-Hub-Signature-256", "sha256=00")], body.clone()).0, 403);
    let bad = [("X-Payload-Signature", "AAAA"), ("X-Payload-Nonce", "n")];
    assert_eq!(post(&d, "/karajo/api/job_exec/run/srht", &bad, body).0, 403);
}
