//! `dir_public` served at `/` without auth (`index.html` for directories).
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

/// The route serving `dir` at `/`; `None` when it is not set or missing.
pub fn routes(dir: Option<&Path>) -> Option<BoxedFilter<(warp::reply::Response,)>> {
    let root = match dir.map(std::fs::canonicalize) {
        Some(Ok(root)) => Arc::new(root),
        Some(Err(e)) => {
            tracing::warn!("dir_public {} is not served: {e}", dir.unwrap_or(Path::new("")).display());
            return None;
        }
        None => return None,
    };
    let guard_root = root.clone();
    let guard = warp::path::tail()
        .and_then(move |tail: warp::path::Tail| {
            let root = guard_root.clone();
            async move {
                match resolve(&root, tail.as_str()).await {
                    Some(_) => Ok(()),
                    None => Err(warp::reject::custom(ApiError::NotFound)),
                }
            }
        })
        .untuple_one();
    let method = warp::get().or(warp::head()).unify();
    let file = method.and(guard).and(warp::fs::dir(root.as_ref().clone())).map(|f: warp::fs::File| f.into_response());
    Some(file.boxed())
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
}
