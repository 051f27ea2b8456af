//! `dir_public` served at `/` without auth (`index.html` for directories),
//! for GET and HEAD, never under `/karajo`.
//!
//! Invariant: nothing outside the directory is ever served: `..` segments
//! (also percent-encoded), backslashes and NULs are refused, and the
//! resolved path (symlinks followed) must still lie under the directory's
//! own resolved path. warp's file server then streams the file it names.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use warp::filters::BoxedFilter;
use warp::{Filter, Reply};

use crate::http::error::ApiError;
use crate::http::input::percent_decode;

/// Where a request tail lands inside `root` (already canonical), or `None`
/// when it would leave it or names no regular file.
pub async fn resolve(root: &Path, tail: &str) -> Option<PathBuf> {
    let decoded = percent_decode(tail)?;
    let mut path = root.to_path_buf();
    for seg in decoded.split('/') {
        if seg.starts_with("..") || seg.contains('\\') || seg.contains('\0') {
            return None;
        }
        if !seg.is_empty() && seg != "." {
            path.push(seg);
        }
    }
    let mut real = tokio::fs::canonicalize(&path).await.ok()?;
    if !real.starts_with(root) {
        return None;
    }
    if tokio::fs::metadata(&real).await.ok()?.is_dir() {
        real = tokio::fs::canonicalize(real.join("index.html")).await.ok()?;
        if !real.starts_with(root) {
            return None;
        }
    }
    tokio::fs::metadata(&real).await.ok()?.is_file().then_some(real)
}

/// The route serving `dir` at `/` (never a path under `/karajo`); `None`
/// when it is not set or missing.
pub fn routes(dir: Option<&Path>) -> Option<BoxedFilter<(warp::reply::Response,)>> {
    let root = match dir.map(std::fs::canonicalize) {
        Some(Ok(root)) => Arc::new(root),
        Some(Err(e)) => {
            tracing::warn!("dir_public {} is not served: {e}", dir.unwrap_or(Path::new("")).display());
            return None;
        }
        None => return None,
    };
    let root_path = root.as_ref().clone();
    let method = crate::http::routes::get_or_head();
    let guard = request_tail()
        .and_then(move |rel: String| {
            let root = root.clone();
            async move {
                if rel.split('/').next() == Some("karajo") {
                    return Err(warp::reject::not_found());
                }
                match resolve(&root, &rel).await {
                    Some(_) => Ok(()),
                    None => Err(warp::reject::custom(ApiError::NotFound)),
                }
            }
        })
        .untuple_one();
    let index = warp::path::end().and(warp::fs::file(root_path.join("index.html")));
    let file = not_end().and(warp::fs::dir(root_path));
    let served = method.and(guard).and(index.or(file).unify()).map(|f: warp::fs::File| f.into_response());
    Some(served.boxed())
}

/// The request path after `/`, read without consuming it, so the file
/// server after the guard sees the same path. warp's `peek`, `tail` and
/// file server panic on a request with no path at all (`CONNECT
/// host:port`, `GET host:port`): they are only reached once the path is
/// known to be non-empty, which such a request never has.
fn request_tail() -> impl Filter<Extract = (String,), Error = warp::Rejection> + Clone {
    let rest = not_end().and(warp::path::peek()).map(|p: warp::path::Peek| p.as_str().to_string());
    warp::path::end().map(String::new).or(rest).unify()
}

/// Passes only a request whose remaining path is not empty.
fn not_end() -> impl Filter<Extract = (), Error = warp::Rejection> + Clone {
    warp::path::end()
        .map(|| false)
        .or(warp::any().map(|| true))
        .unify()
        .and_then(|more: bool| async move { if more { Ok(()) } else { Err(warp::reject::not_found()) } })
        .untuple_one()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> (tempfile::TempDir, PathBuf) {
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("pub");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("index.html"), "home").unwrap();
        std::fs::write(root.join("sub/index.html"), "sub").unwrap();
        std::fs::write(root.join("a.txt"), "a").unwrap();
        std::fs::write(outer.path().join("secret.txt"), "secret").unwrap();
        std::os::unix::fs::symlink(outer.path().join("secret.txt"), root.join("link.txt")).unwrap();
        std::os::unix::fs::symlink(root.join("a.txt"), root.join("inside.txt")).unwrap();
        let root = std::fs::canonicalize(root).unwrap();
        (outer, root)
    }

    #[tokio::test]
    async fn serves_files_and_index_html() {
        let (_t, root) = tree();
        assert_eq!(resolve(&root, "").await.unwrap(), root.join("index.html"));
        assert_eq!(resolve(&root, "sub").await.unwrap(), root.join("sub/index.html"));
        assert_eq!(resolve(&root, "sub/").await.unwrap(), root.join("sub/index.html"));
        assert_eq!(resolve(&root, "a.txt").await.unwrap(), root.join("a.txt"));
        assert_eq!(resolve(&root, "inside.txt").await.unwrap(), root.join("a.txt"));
    }

    #[tokio::test]
    async fn never_escapes_the_directory() {
        let (_t, root) = tree();
        for tail in [
            "../secret.txt",
            "sub/../../secret.txt",
            "%2e%2e/secret.txt",
            "%2E%2E%2fsecret.txt",
            "..%2fsecret.txt",
            "link.txt",
            "%2fetc%2fpasswd",
            "/etc/passwd",
            "..\\secret.txt",
            "a.txt%00",
            "nope",
            "%ff",
        ] {
            assert!(resolve(&root, tail).await.is_none(), "{tail}");
        }
    }

    async fn status_and_body(method: &str, path: &str, root: &Path) -> (u16, String) {
        let r = routes(Some(root)).unwrap().recover(crate::http::error::recover).unify();
        let resp = warp::test::request().method(method).path(path).reply(&r).await;
        (resp.status().as_u16(), String::from_utf8_lossy(resp.body()).into_owned())
    }

    #[tokio::test]
    async fn each_file_is_served_as_itself_and_odd_targets_never_panic() {
        let (_t, root) = tree();
        assert_eq!(status_and_body("GET", "/a.txt", &root).await, (200, "a".into()));
        assert_eq!(status_and_body("GET", "/", &root).await, (200, "home".into()));
        assert_eq!(status_and_body("GET", "/sub/", &root).await, (200, "sub".into()));
        assert_eq!(status_and_body("HEAD", "/a.txt", &root).await.0, 200);
        assert_eq!(status_and_body("GET", "/karajo/x", &root).await.0, 404);
        for (method, target) in [("CONNECT", "example.com:443"), ("CONNECT", "/"), ("POST", "/a.txt")] {
            let (status, _) = status_and_body(method, target, &root).await;
            assert!((400..500).contains(&status), "{method} {target}: {status}");
        }
        // No panic; the accept loop answers 400 before the router sees one.
        status_and_body("GET", "example.com:443", &root).await;
        std::fs::remove_file(root.join("index.html")).unwrap();
        assert_eq!(status_and_body("GET", "/a.txt", &root).await, (200, "a".into()));
        assert_eq!(status_and_body("GET", "/", &root).await.0, 404);
    }
}
