//! The dashboard's files as a browser gets them from the real daemon:
//! revalidation with the ETag answers 304 without a body.

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
