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
