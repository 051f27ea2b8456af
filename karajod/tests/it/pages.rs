//! The dashboard's files as a browser gets them from the real daemon:
//! revalidation with the ETag answers 304 without a body, for the files and
//! for `/environment`.

use crate::api::CONF;
use crate::harness::{Daemon, Tree, client};

#[test]
fn an_unchanged_dashboard_file_answers_304_to_its_etag() {
    let tree = Tree::new(CONF);
    let d = Daemon::start(&tree);
    for path in ["/karajo/", "/karajo/app/index.html"] {
        let first = d.get(path);
        assert_eq!(first.status(), 200, "{path}");
        let tag = first.headers()["etag"].to_str().unwrap().to_string();
        let again = client().get(format!("{}{path}", d.url)).header("if-none-match", &tag).send().unwrap();
        assert_eq!(again.status(), 304, "{path}");
        assert_eq!(again.headers()["etag"].to_str().unwrap(), tag);
        assert!(again.bytes().unwrap().is_empty());
        let other = client().get(format!("{}{path}", d.url)).header("if-none-match", "\"stale\"").send().unwrap();
        assert_eq!(other.status(), 200, "{path}");
    }
}

#[test]
fn environment_is_sent_gzipped_only_to_clients_that_accept_it_and_says_so() {
    use std::io::Read;
    let tree = Tree::new(CONF);
    let d = Daemon::start(&tree);
    let url = format!("{}/karajo/api/environment", d.url);
    let plain = client().get(&url).send().unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.bytes().unwrap();
    for _ in 0..2 {
        let gz = client().get(&url).header("accept-encoding", "gzip, deflate").send().unwrap();
        assert_eq!(gz.status(), 200);
        assert_eq!(gz.headers()["content-encoding"], "gzip");
        assert_eq!(gz.headers()["vary"], "accept-encoding");
        let mut body = Vec::new();
        flate2::read::GzDecoder::new(&gz.bytes().unwrap()[..]).read_to_end(&mut body).unwrap();
        assert_eq!(body, plain.to_vec(), "the same answer, compressed once");
    }
}

#[test]
fn environment_answers_304_to_its_etag_until_a_job_changes() {
    let tree = Tree::new(CONF);
    let d = Daemon::start(&tree);
    let url = format!("{}/karajo/api/environment", d.url);
    let fetch = |tag: Option<&str>, gzip: bool| {
        let mut req = client().get(&url);
        if let Some(t) = tag {
            req = req.header("if-none-match", t);
        }
        if gzip {
            req = req.header("accept-encoding", "gzip");
        }
        req.send().unwrap()
    };
    for gzip in [false, true] {
        let first = fetch(None, gzip);
        assert_eq!(first.status(), 200);
        let tag = first.headers()["etag"].to_str().unwrap().to_string();
        let again = fetch(Some(&tag), gzip);
        assert_eq!(again.status(), 304, "gzip {gzip}");
        assert_eq!(again.headers()["etag"].to_str().unwrap(), tag);
        assert!(again.headers().get("content-encoding").is_none());
        assert!(again.bytes().unwrap().is_empty());
        assert_eq!(fetch(Some("\"stale\""), gzip).status(), 200);
    }
    let tag = fetch(None, false).headers()["etag"].to_str().unwrap().to_string();
    let body = "_karajo_epoch=1677350854&id=alpha";
    let sign = crate::api::sign(body.as_bytes());
    let paused =
        client().post(format!("{}/karajo/api/job_exec/pause", d.url)).header("X-Karajo-Sign", sign).body(body).send();
    assert_eq!(paused.unwrap().status(), 200);
    let after = fetch(Some(&tag), false);
    assert_eq!(after.status(), 200, "a paused job is a new answer");
    assert_ne!(after.headers()["etag"].to_str().unwrap(), tag);
    let v: serde_json::Value = after.json().unwrap();
    assert_eq!(v["data"]["jobs"]["alpha"]["status"], "paused");
}
