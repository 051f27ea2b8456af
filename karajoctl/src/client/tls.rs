//! TLS for `--url https://` (e.g. karajod behind a TLS-terminating proxy):
//! rustls over the TCP stream, then the same hyper exchange as plain HTTP.
//!
//! Invariant: certificates are checked against the system's CA store
//! (`SSL_CERT_FILE` / `SSL_CERT_DIR` name others, as OpenSSL does);
//! nothing here turns verification off.

use std::sync::Arc;

use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// Runs the TLS handshake with `authority` (`host:port`) over `tcp`.
pub async fn connect(tcp: TcpStream, authority: &str) -> Result<TlsStream<TcpStream>, String> {
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let name = ServerName::try_from(host.to_string()).map_err(|e| format!("{host} is not a TLS server name: {e}"))?;
    TlsConnector::from(config()?).connect(name, tcp).await.map_err(|e| format!("TLS with {authority}: {e}"))
}

fn config() -> Result<Arc<ClientConfig>, String> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        let why = found.errors.first().map(|e| format!(": {e}")).unwrap_or_default();
        return Err(format!("no CA certificates found on this system{why}"));
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
