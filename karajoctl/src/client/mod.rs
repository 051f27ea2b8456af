//! Talking to karajod: HTTP/1.1 over its Unix control socket or over TCP
//! (TLS for `https://`) to `--url`, one connection per request (each is a
//! few local round trips; a pool would cost more at start-up than it saves).
//!
//! Invariants: every answer is the `{code,message,name?,data?}` wrapper and
//! anything but 2xx becomes [`ClientError::Refused`]; mutating calls are
//! signed whenever a secret is known (required over TCP, harmless over the
//! socket, which trusts its peers by file permissions).

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use proto::JobKind;
use serde_json::Value;

use crate::error::ClientError;

mod params;
mod target;
mod tls;

pub use params::{admin_params, encode, epoch_now, segment, signed_read_path};
pub use target::Target;

/// The API's path prefix.
pub const API: &str = "/karajo/api";
/// A connection factory for one target, with the optional signing secret.
#[derive(Clone)]
pub struct Client {
    target: Target,
    secret: Option<String>,
    cacert: Option<tls::CaCerts>,
}

impl Client {
    pub fn new(target: Target, secret: Option<String>) -> Client {
        Client { target, secret: secret.filter(|s| !s.is_empty()), cacert: None }
    }

    /// Trusts only the CAs of the PEM file `path` for `https://` (read
    /// now, so a bad file is reported before any request).
    pub fn with_cacert(mut self, path: &std::path::Path) -> Result<Client, String> {
        self.cacert = Some(tls::read_cacert(path)?);
        Ok(self)
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// `GET {API}{path_query}` and return the wrapper's `data`.
    pub async fn get(&self, path_query: &str) -> Result<Value, ClientError> {
        let (path_query, sign) = self.sign_read(path_query);
        let resp = self.exchange(Method::GET, &path_query, sign, Bytes::new()).await?;
        Ok(resp.data.unwrap_or(Value::Null))
    }

    /// [`Client::get`] decoded straight into `T`: no `Value` tree on the
    /// way (for `list`, half of the client's time with 1,000 jobs).
    pub async fn get_as<T: serde::de::DeserializeOwned>(&self, path_query: &str) -> Result<T, ClientError> {
        let (path_query, sign) = self.sign_read(path_query);
        let resp: proto::Response<T> = self.exchange(Method::GET, &path_query, sign, Bytes::new()).await?;
        resp.data.ok_or_else(|| ClientError::Protocol {
            target: self.target.describe(),
            what: "an answer without its data".to_string(),
        })
    }

    /// POST run|pause|resume|cancel for one job, signed; returns the whole
    /// wrapper since its `message` matters ("job is not running").
    pub async fn act(&self, kind: JobKind, action: &str, id: &str) -> Result<proto::Response, ClientError> {
        // The nonce keeps a retry within the same second from being an exact replay.
        let params = format!("{}&_karajo_nonce={:016x}", admin_params(kind, id, epoch_now()), params::nonce());
        let sign = self.secret.is_some();
        let seg = segment(kind);
        match kind {
            JobKind::Job => {
                let path = format!("/{seg}/{action}");
                self.exchange(Method::POST, &path, sign, Bytes::from(params)).await
            }
            JobKind::JobHttp => {
                let path = format!("/{seg}/{action}?{params}");
                self.exchange(Method::POST, &path, sign, Bytes::new()).await
            }
        }
    }

    /// POST `check/pause|resume?name=NAME`, signed over the query like the
    /// HTTP-job calls.
    pub async fn act_check(&self, action: &str, name: &str) -> Result<proto::Response, ClientError> {
        let params =
            format!("name={}&_karajo_epoch={}&_karajo_nonce={:016x}", encode(name), epoch_now(), params::nonce());
        let sign = self.secret.is_some();
        self.exchange(Method::POST, &format!("/check/{action}?{params}"), sign, Bytes::new()).await
    }

    /// POST `/reload`: the daemon reads its configuration file again.
    /// Signed like the admin calls when a secret is known (over --url).
    pub async fn reload(&self) -> Result<proto::Response<proto::ReloadReport>, ClientError> {
        let params = format!("_karajo_epoch={}&_karajo_nonce={:016x}", epoch_now(), params::nonce());
        let sign = self.secret.is_some();
        self.exchange(Method::POST, "/reload", sign, Bytes::from(params)).await
    }

    /// Opens a Server-Sent Events stream; the body is read by the caller.
    pub async fn stream(&self, path_query: &str) -> Result<Incoming, ClientError> {
        let (path_query, sign) = self.sign_read(path_query);
        let resp = self.send(Method::GET, &path_query, sign, Bytes::new()).await?;
        if resp.status() == StatusCode::OK {
            return Ok(resp.into_body());
        }
        let status = resp.status();
        let body = self.collect(resp).await?;
        Err(self.refusal(status, &body))
    }

    /// A daemon with users lets scripts read signed instead of with a
    /// session: when a secret is known, the read is signed, and its query
    /// gets a fresh `_karajo_epoch` and a nonce so that two identical reads
    /// are never an exact replay.
    fn sign_read(&self, path_query: &str) -> (String, bool) {
        if self.secret.is_none() {
            return (path_query.to_string(), false);
        }
        (signed_read_path(path_query, epoch_now(), params::nonce()), true)
    }

    async fn exchange<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path_query: &str,
        sign: bool,
        body: Bytes,
    ) -> Result<proto::Response<T>, ClientError> {
        let resp = self.send(method, path_query, sign, body).await?;
        let status = resp.status();
        let body = self.collect(resp).await?;
        if !status.is_success() {
            return Err(self.refusal(status, &body));
        }
        serde_json::from_slice(&body).map_err(|e| ClientError::Protocol {
            target: self.target.describe(),
            what: format!("HTTP {status} with a body that is not the API's JSON ({e})"),
        })
    }

    fn refusal(&self, status: StatusCode, body: &[u8]) -> ClientError {
        let parsed: Option<proto::Response> = serde_json::from_slice(body).ok();
        let (name, message) = match parsed {
            Some(r) if !r.message.is_empty() => (r.name, r.message),
            Some(r) => (r.name, status.canonical_reason().unwrap_or("error").to_string()),
            None => (None, format!("{} from {}", status.canonical_reason().unwrap_or("error"), self.target.describe())),
        };
        let over_tcp = matches!(self.target, Target::Tcp { .. });
        let hint = match (status.as_u16(), name) {
            (401, Some(proto::ErrorName::AuthRequired)) => Some(
                "this daemon has users: over --url, sign with --secret or KARAJO_SECRET, or use the control socket",
            ),
            (401, _) if over_tcp && self.secret.is_none() => {
                Some("over --url, sign with --secret or KARAJO_SECRET (the daemon's [karajo] secret)")
            }
            (401, _) if over_tcp => Some("is --secret / KARAJO_SECRET the daemon's [karajo] secret?"),
            _ => None,
        };
        ClientError::Refused { code: status.as_u16(), name, message, hint }
    }

    async fn collect(&self, resp: Response<Incoming>) -> Result<Bytes, ClientError> {
        match resp.into_body().collect().await {
            Ok(b) => Ok(b.to_bytes()),
            Err(e) => Err(self.broken(&e)),
        }
    }

    fn broken(&self, e: &hyper::Error) -> ClientError {
        ClientError::Unreachable { target: self.target.describe(), reason: e.to_string(), hint: None }
    }

    async fn send(
        &self,
        method: Method,
        path_query: &str,
        sign: bool,
        body: Bytes,
    ) -> Result<Response<Incoming>, ClientError> {
        let (uri, host) = match &self.target {
            Target::Socket(_) => (format!("{API}{path_query}"), "localhost".to_string()),
            Target::Tcp { authority, prefix, .. } => (format!("{prefix}{API}{path_query}"), authority.clone()),
        };
        let mut req = Request::builder()
            .method(method.clone())
            .uri(uri.clone())
            .header(hyper::header::HOST, host)
            .header(hyper::header::USER_AGENT, concat!("karajoctl/", env!("CARGO_PKG_VERSION")));
        if !body.is_empty() {
            req = req.header(hyper::header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        if let Some(secret) = self.secret.as_ref().filter(|_| sign) {
            // Binds method, path and body (SPEC 21): a captured pause is not a resume.
            let sig = proto::sign::sign_bound(secret.as_bytes(), method.as_str(), &uri, epoch_now() as i64, &body);
            req = req.header(proto::sign::SIGNATURE_HEADER, sig);
        }
        let req = req.body(Full::new(body)).map_err(|e| ClientError::Protocol {
            target: self.target.describe(),
            what: format!("cannot build the request: {e}"),
        })?;
        let mut sender = self.connect().await?;
        sender.send_request(req).await.map_err(|e| self.broken(&e))
    }

    async fn connect(&self) -> Result<Sender, ClientError> {
        let what = self.target.describe();
        let sender = match &self.target {
            Target::Socket(path) => {
                let stream = tokio::net::UnixStream::connect(path).await.map_err(|e| ClientError::io(&what, &e))?;
                handshake(stream).await
            }
            Target::Tcp { authority, tls, .. } => {
                let stream = tokio::net::TcpStream::connect(authority).await.map_err(|e| ClientError::io(&what, &e))?;
                let _ = stream.set_nodelay(true);
                if *tls {
                    let stream = tls::connect(stream, authority, self.cacert.as_ref())
                        .await
                        .map_err(|reason| ClientError::Unreachable { target: what.clone(), reason, hint: None })?;
                    handshake(stream).await
                } else {
                    handshake(stream).await
                }
            }
        };
        sender.map_err(|e| self.broken(&e))
    }
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn handshake<S>(stream: S) -> Result<Sender, hyper::Error>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    // The connection task ends with the response body (or the runtime).
    tokio::spawn(conn);
    Ok(sender)
}

/// Reads the `data` of an answer as a proto type.
pub fn decode<T: serde::de::DeserializeOwned>(client: &Client, data: Value) -> anyhow::Result<T> {
    serde_json::from_value(data)
        .map_err(|e| ClientError::Protocol {
            target: client.target().describe(),
            what: format!("the data does not match the API's shape ({e})"),
        })
        .context("decoding the answer")
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_secret_means_unsigned() {
        let c = Client::new(Target::Socket("/x".into()), Some(String::new()));
        assert!(c.secret.is_none());
    }
}
