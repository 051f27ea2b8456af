//! The dashboard's files under `/karajo/` (the login page) and
//! `/karajo/app/` (the dashboard and job page), embedded in the binary from
//! `karajod/ui/` at build time.
//!
//! Invariants: only files from the embedded table are served; a request
//! path is a lookup key, never a file system path. The login page is served
//! before any session exists while everything under `app/` needs one, so
//! its stylesheet and script are inlined into it once, at first use.
//! Every reply says `Cache-Control: no-cache` with a content-hash `ETag`
//! (a new binary never mixes with cached old modules) and carries a
//! Content-Security-Policy that allows only this origin.

use std::sync::OnceLock;

use warp::http::{HeaderValue, StatusCode, header};

/// An embedded file: its content type and bytes.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    pub content_type: &'static str,
    pub bytes: &'static [u8],
    /// Whether this is the self-contained login page (it gets a CSP that
    /// allows its inline script and style).
    inline: bool,
}

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const SVG: &str = "image/svg+xml";

macro_rules! file {
    ($path:literal, $ct:expr) => {
        ($path, $ct, include_bytes!(concat!("../../ui/", $path)) as &[u8])
    };
}

/// The files below `/karajo/`: path, content type, bytes.
pub const FILES: &[(&str, &str, &[u8])] = &[
    file!("app/index.html", HTML),
    file!("app/job.html", HTML),
    file!("app/style.css", CSS),
    file!("app/tools.css", CSS),
    file!("app/panels.css", CSS),
    file!("app/favicon.svg", SVG),
    file!("app/active.js", JS),
    file!("app/api.js", JS),
    file!("app/audit.js", JS),
    file!("app/chart.js", JS),
    file!("app/checks.js", JS),
    file!("app/common.js", JS),
    file!("app/dashboard.js", JS),
    file!("app/format.js", JS),
    file!("app/history.js", JS),
    file!("app/job.js", JS),
    file!("app/login.js", JS),
    file!("app/logview.js", JS),
    file!("app/search.js", JS),
    file!("app/sign.js", JS),
    file!("app/theme.js", JS),
    file!("app/upcoming.js", JS),
];

const LOGIN_TEMPLATE: &str = include_str!("../../ui/index.html");
const STYLE_LINK: &str = r#"<link rel="stylesheet" href="/karajo/app/style.css">"#;
const SCRIPT_TAG: &str = r#"<script type="module" src="/karajo/app/login.js"></script>"#;

const CSP_APP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const CSP_LOGIN: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
img-src data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn file_bytes(path: &str) -> &'static [u8] {
    FILES.iter().find(|(p, _, _)| *p == path).map(|(_, _, b)| *b).expect("an embedded file")
}

/// The login page with the stylesheet and its script inlined.
fn login_page() -> &'static [u8] {
    static PAGE: OnceLock<String> = OnceLock::new();
    PAGE.get_or_init(|| {
        let css = String::from_utf8_lossy(file_bytes("app/style.css"));
        let js = String::from_utf8_lossy(file_bytes("app/login.js"));
        LOGIN_TEMPLATE
            .replace(STYLE_LINK, &format!("<style>\n{css}</style>"))
            .replace(SCRIPT_TAG, &format!("<script type=\"module\">\n{js}</script>"))
    })
    .as_bytes()
}

/// Every path [`asset`] answers, for listings and tests.
pub fn paths() -> impl Iterator<Item = &'static str> {
    ["", "index.html", "app", "app/"].into_iter().chain(FILES.iter().map(|(p, _, _)| *p))
}

/// The file at `path` below `/karajo/` (`""` = the login page, `app/...` =
/// the dashboard; `app` and `app/` are its index).
pub fn asset(path: &str) -> Option<Asset> {
    let path = match path {
        "" | "index.html" => {
            return Some(Asset { content_type: HTML, bytes: login_page(), inline: true });
        }
        "app" | "app/" => "app/index.html",
        p => p,
    };
    FILES.iter().find(|(p, _, _)| *p == path).map(|(_, content_type, bytes)| Asset {
        content_type,
        bytes,
        inline: false,
    })
}

/// A strong validator: FNV-1a 64 of the bytes, quoted.
pub fn etag(a: &Asset) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in a.bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{h:016x}\"")
}

/// The response carrying an asset, or 304 when the request's
/// `If-None-Match` already names its ETag.
pub fn reply(a: Asset, if_none_match: Option<&str>) -> warp::reply::Response {
    let tag = etag(&a);
    let fresh = if_none_match.is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let mut resp = if fresh {
        let mut r = warp::reply::Response::new(b"".as_slice().into());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        warp::reply::Response::new(a.bytes.into())
    };
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(a.content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&tag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    let csp = if a.inline { CSP_LOGIN } else { CSP_APP };
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_path_is_served() {
        for p in paths() {
            let a = asset(p).unwrap_or_else(|| panic!("{p} is not served"));
            assert!(!a.bytes.is_empty(), "{p} is empty");
        }
    }

    #[test]
    fn unknown_and_escaping_paths_are_not_served() {
        for p in ["app/nope.js", "../Cargo.toml", "app/../index.html", "ui/app/api.js", "app//api.js"] {
            assert!(asset(p).is_none(), "{p} was served");
        }
    }

    #[test]
    fn the_login_page_is_self_contained() {
        let page = std::str::from_utf8(asset("").unwrap().bytes).unwrap();
        assert!(LOGIN_TEMPLATE.contains(STYLE_LINK) && LOGIN_TEMPLATE.contains(SCRIPT_TAG));
        assert!(!page.contains("/karajo/app/style.css") && !page.contains("src=\"/karajo/app/"));
        assert!(page.contains("<style>") && page.contains("<script type=\"module\">\n"));
        // The inlined texts cannot close their own element early.
        assert!(!String::from_utf8_lossy(file_bytes("app/style.css")).contains("</style"));
        assert!(!String::from_utf8_lossy(file_bytes("app/login.js")).contains("</script"));
    }

    #[test]
    fn the_login_script_imports_nothing() {
        let js = String::from_utf8_lossy(file_bytes("app/login.js"));
        assert!(!js.lines().any(|l| l.trim_start().starts_with("import ")));
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(asset("app/").unwrap().content_type, HTML);
        assert_eq!(asset("app/job.js").unwrap().content_type, JS);
        assert_eq!(asset("app/style.css").unwrap().content_type, CSS);
        assert_eq!(asset("app/favicon.svg").unwrap().content_type, SVG);
    }

    #[test]
    fn replies_carry_cache_and_security_headers() {
        let a = asset("app/api.js").unwrap();
        let r = reply(a, None);
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-cache");
        assert_eq!(r.headers()[header::CONTENT_TYPE], JS);
        assert!(r.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("script-src 'self'"));
        let tag = etag(&a);
        assert_eq!(reply(a, Some(&tag)).status(), StatusCode::NOT_MODIFIED);
        assert_eq!(reply(a, Some("\"other\"")).status(), StatusCode::OK);
    }

    #[test]
    fn every_embedded_file_is_listed() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/app");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let key = format!("app/{name}");
            assert!(asset(&key).is_some(), "{key} exists in ui/ but is not embedded");
        }
    }
}
