//! The dashboard's files under `/karajo/` (the login page) and
//! `/karajo/app/` (the dashboard), embedded in the binary.
//!
//! PLACEHOLDER: the dashboard engineer replaces [`asset`] with the files
//! under `karajod/ui/`; the routes and access rules here stay.
//!
//! Invariant: only files from the embedded table are served; a request
//! path is a lookup key, never a file system path.

/// An embedded file: its content type and bytes.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

const LOGIN_PAGE: &str = "<!doctype html><html><head><meta charset=utf-8><title>karajo</title></head>\
<body><form method=post action=/karajo/api/auth/login><input name=name><input name=password type=password>\
<button>Log in</button></form></body></html>";

const DASHBOARD: &str = "<!doctype html><html><head><meta charset=utf-8><title>karajo</title></head>\
<body><p>karajo dashboard</p></body></html>";

/// The file at `path` below `/karajo/` (`""` = the login page, `app/...` =
/// the dashboard).
pub fn asset(path: &str) -> Option<Asset> {
    let html = |s: &'static str| Asset {
        content_type: "text/html; charset=utf-8",
        bytes: s.as_bytes(),
    };
    match path {
        "" | "index.html" => Some(html(LOGIN_PAGE)),
        "app" | "app/" | "app/index.html" => Some(html(DASHBOARD)),
        _ => None,
    }
}

/// The response carrying an asset.
pub fn reply(a: Asset) -> warp::reply::Response {
    let mut resp = warp::reply::Response::new(a.bytes.into());
    resp.headers_mut().insert(
        warp::http::header::CONTENT_TYPE,
        warp::http::HeaderValue::from_static(a.content_type),
    );
    resp
}
