//! What both transports (the TCP API in `http`, the control socket in
//! `control`) share, so neither imports the other: our own HTTP/1.1
//! accept loop over the warp router, for what `warp::serve` does not
//! offer (header limits, a slow-client header timeout, gzip only when the
//! client accepts it, a tracing span per request, a bounded graceful
//! shutdown), the caller's identity ([`Caller`]: TCP address or Unix peer
//! credentials) put on every request, the connection [`Limits`], and the
//! random tokens both sides make.
//!
//! Invariants: every connection task is tracked by the graceful watcher;
//! after `shutdown` no new connection is accepted; event streams are never
//! compressed (compression would hold events back). Nothing here knows a
//! route: this module sits below `http` and `control`.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use futures_util::TryStreamExt;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyDataStream, BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, VARY};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, UnixListener};
use tokio_util::sync::CancellationToken;
use tower_service::Service;
use tracing::Instrument;
use warp::filters::BoxedFilter;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type OutBody = UnsyncBoxBody<Bytes, BoxError>;

/// Who is on the other end, set by the accept loop on every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    Tcp(std::net::SocketAddr),
    /// A connection on the control socket, with its peer credentials.
    Socket {
        uid: u32,
        pid: Option<i32>,
    },
}

impl Caller {
    /// The key failed logins are counted under.
    pub fn rate_key(&self) -> String {
        match self {
            Caller::Tcp(a) => a.ip().to_string(),
            Caller::Socket { uid, .. } => format!("uid:{uid}"),
        }
    }
}

/// 32 random bytes as hex: session tokens, CSRF tokens, private names.
pub fn random_token() -> String {
    use rand::RngCore;
    let mut buf = [0u8; 32];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// Connection limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A client must send a request's whole head within this.
    pub header_read_timeout: Duration,
    pub max_headers: usize,
    /// Bounds the request head: start line and headers, in bytes.
    pub max_header_bytes: usize,
    /// Bounds hyper's read buffer.
    pub max_buf_size: usize,
    /// How long open connections may finish at shutdown.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            max_headers: 100,
            max_header_bytes: 32 * 1024,
            max_buf_size: 64 * 1024,
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// A bound listener of either transport.
#[derive(Debug)]
pub enum Listener {
    Tcp(TcpListener),
    /// TCP speaking TLS with the certificate [`crate::tls::TlsSource`] holds.
    Tls(TcpListener, std::sync::Arc<crate::tls::TlsSource>),
    Unix(UnixListener),
}

/// Serves `router` on `listener` until `shutdown` is cancelled, then lets
/// open connections finish within the grace period.
pub async fn serve(
    listener: Listener,
    router: BoxedFilter<(warp::reply::Response,)>,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        // A client that half-closes after its request (`nc -N`, scripts)
        // still gets the answer of a handler that awaits (login, /environment).
        .half_close(true)
        .header_read_timeout(limits.header_read_timeout)
        .max_headers(limits.max_headers)
        .max_header_size(limits.max_header_bytes)
        .max_buf_size(limits.max_buf_size);
    loop {
        let accepted = tokio::select! {
            a = accept(&listener) => a,
            _ = shutdown.cancelled() => break,
        };
        let (io, caller) = match accepted {
            Ok(c) => c,
            Err(e) => {
                // EMFILE and the like: back off instead of spinning.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let tls = match &listener {
            Listener::Tls(_, source) => Some(source.acceptor()),
            _ => None,
        };
        let (watcher, builder, router) = (graceful.watcher(), builder.clone(), router.clone());
        let handshake_timeout = limits.header_read_timeout;
        // The TLS handshake runs in the connection's task: a slow client
        // never holds up the accept loop.
        tokio::spawn(async move {
            let io = match tls {
                None => io,
                Some(tls) => match tokio::time::timeout(handshake_timeout, tls.accept(io)).await {
                    Ok(Ok(s)) => Box::new(s) as Box<dyn IoStream>,
                    Ok(Err(e)) => return tracing::debug!("TLS handshake failed: {e}"),
                    Err(_) => return tracing::debug!("TLS handshake timed out"),
                },
            };
            let conn = builder.serve_connection(TokioIo::new(io), service(router, caller));
            if let Err(e) = watcher.watch(conn).await {
                tracing::debug!("connection ended: {e}");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown()).await.is_err() {
        tracing::warn!("connections still open after the grace period; closing them");
    }
}

type Io = Box<dyn IoStream>;
trait IoStream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin> IoStream for T {}

async fn accept(listener: &Listener) -> std::io::Result<(Io, Caller)> {
    match listener {
        Listener::Tcp(l) | Listener::Tls(l, _) => {
            let (s, addr) = l.accept().await?;
            let _ = s.set_nodelay(true);
            Ok((Box::new(s) as Box<dyn IoStream>, Caller::Tcp(addr)))
        }
        Listener::Unix(l) => {
            let (s, _) = l.accept().await?;
            let cred = s.peer_cred()?;
            let caller = Caller::Socket { uid: cred.uid(), pid: cred.pid() };
            Ok((Box::new(s) as Box<dyn IoStream>, caller))
        }
    }
}

fn service(
    router: BoxedFilter<(warp::reply::Response,)>,
    caller: Caller,
) -> impl hyper::service::Service<
    hyper::Request<Incoming>,
    Response = hyper::Response<OutBody>,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    let svc = warp::service(router);
    hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(caller);
        let gzip = req.method() != hyper::Method::HEAD && accepts_gzip(req.headers().get(ACCEPT_ENCODING));
        let span = request_span(&req, caller);
        let mut svc = svc.clone();
        let refused = refuse_pathless(req.uri());
        async move {
            if let Some(resp) = refused {
                return Ok(encode(resp, false));
            }
            let resp = svc.call(req).await.unwrap_or_else(|never| match never {});
            tracing::debug!(status = resp.status().as_u16(), "answered");
            Ok::<_, Infallible>(encode(resp, gzip))
        }
        .instrument(span)
    })
}

/// The answer to a request target without a path (`CONNECT host:port`,
/// `GET host:port`): routers serve paths only (warp's path filters panic
/// on such a target), so it is answered here, before any routing, with the
/// API's JSON 400.
pub fn refuse_pathless(uri: &hyper::Uri) -> Option<warp::reply::Response> {
    if uri.path_and_query().is_some() {
        return None;
    }
    let body = proto::Response::<()>::error(400, Some(proto::ErrorName::BadRequest), "the request target has no path");
    let mut resp = warp::reply::Response::new(serde_json::to_vec(&body).unwrap_or_default().into());
    *resp.status_mut() = hyper::StatusCode::BAD_REQUEST;
    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Some(resp)
}

fn request_span<B>(req: &hyper::Request<B>, caller: Caller) -> tracing::Span {
    match caller {
        Caller::Tcp(addr) => {
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), peer = %addr)
        }
        Caller::Socket { uid, pid } => {
            let span = tracing::info_span!("control", method = %req.method(), path = %req.uri().path(), uid, pid);
            span.in_scope(|| tracing::info!("control socket request"));
            span
        }
    }
}

/// True when `Accept-Encoding` allows gzip (`gzip` or `*`, not `q=0`).
pub fn accepts_gzip(header: Option<&HeaderValue>) -> bool {
    let Some(v) = header.and_then(|h| h.to_str().ok()) else {
        return false;
    };
    v.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let coding = parts.next().unwrap_or("");
        let q_zero = parts
            .any(|p| p.strip_prefix("q=").is_some_and(|q| q.trim().parse::<f32>().map(|q| q <= 0.0).unwrap_or(false)));
        (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !q_zero
    })
}

fn is_compressible_type(ct: Option<&HeaderValue>) -> bool {
    let ct = ct.and_then(|v| v.to_str().ok()).unwrap_or("");
    let ct = ct.split(';').next().unwrap_or("").trim();
    ct == "application/json"
        || ct == "application/javascript"
        || ct == "image/svg+xml"
        || (ct.starts_with("text/") && ct != "text/event-stream")
}

/// Boxes the body, gzip-compressing it when allowed and worthwhile.
fn encode(resp: warp::reply::Response, gzip: bool) -> hyper::Response<OutBody> {
    let (mut parts, body) = resp.into_parts();
    let compress = gzip
        && !parts.headers.contains_key(CONTENT_ENCODING)
        && is_compressible_type(parts.headers.get(CONTENT_TYPE))
        && !matches!(parts.status.as_u16(), 204 | 304);
    if !compress {
        return hyper::Response::from_parts(parts, body.map_err(BoxError::from).boxed_unsync());
    }
    parts.headers.remove(CONTENT_LENGTH);
    parts.headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    parts.headers.append(VARY, HeaderValue::from_static("accept-encoding"));
    let data = BodyDataStream::new(body).map_err(std::io::Error::other);
    let encoder = async_compression::tokio::bufread::GzipEncoder::new(tokio_util::io::StreamReader::new(data));
    let frames = tokio_util::io::ReaderStream::new(encoder).map_ok(Frame::data).map_err(BoxError::from);
    hyper::Response::from_parts(parts, StreamBody::new(frames).boxed_unsync())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_negotiation() {
        let h = |s: &'static str| HeaderValue::from_static(s);
        assert!(accepts_gzip(Some(&h("gzip, deflate"))));
        assert!(accepts_gzip(Some(&h("br;q=1.0, GZIP;q=0.5"))));
        assert!(accepts_gzip(Some(&h("*"))));
        assert!(!accepts_gzip(Some(&h("gzip;q=0"))));
        assert!(!accepts_gzip(Some(&h("br, deflate"))));
        assert!(!accepts_gzip(None));
    }

    #[test]
    fn event_streams_are_never_compressed() {
        assert!(!is_compressible_type(Some(&HeaderValue::from_static("text/event-stream"))));
        assert!(is_compressible_type(Some(&HeaderValue::from_static("application/json"))));
        assert!(is_compressible_type(Some(&HeaderValue::from_static("text/html; charset=utf-8"))));
        assert!(!is_compressible_type(Some(&HeaderValue::from_static("image/png"))));
    }
}
