//! TLS for `--url https://` (karajod's own TLS, or a TLS-terminating
//! proxy): rustls over the TCP stream, then the same hyper exchange as
//! plain HTTP.
//!
//! Invariant: certificates are always verified: against the CAs of
//! `--cacert` when given (only those, as `curl --cacert`), else the
//! system's CA store (`SSL_CERT_FILE` / `SSL_CERT_DIR` name others, as
//! OpenSSL does); nothing here turns verification off.

use std::path::Path;
use std::sync::Arc;

use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// The CA certificates to trust instead of the system's.
pub type CaCerts = Arc<Vec<CertificateDer<'static>>>;

/// Reads the PEM certificates of `--cacert FILE`; an error names the file.
pub fn read_cacert(path: &Path) -> Result<CaCerts, String> {
    let at = |e: String| format!("--cacert {}: {e}", path.display());
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| at(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| at(format!("not PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(at("no PEM certificate in it".into()));
    }
    Ok(Arc::new(certs))
}

/// Runs the TLS handshake with `authority` (`host:port`) over `tcp`,
/// trusting `cacert` when given.
pub async fn connect(
    tcp: TcpStream,
    authority: &str,
    cacert: Option<&CaCerts>,
) -> Result<TlsStream<TcpStream>, String> {
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let name = ServerName::try_from(host.to_string()).map_err(|e| format!("{host} is not a TLS server name: {e}"))?;
    TlsConnector::from(config(cacert)?).connect(name, tcp).await.map_err(|e| format!("TLS with {authority}: {e}"))
}

fn config(cacert: Option<&CaCerts>) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    match cacert {
        Some(certs) => {
            let (added, _) = roots.add_parsable_certificates(certs.iter().cloned());
            if added == 0 {
                return Err("no usable CA certificate in --cacert".into());
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                let why = found.errors.first().map(|e| format!(": {e}")).unwrap_or_default();
                return Err(format!("no CA certificates found on this system{why}"));
            }
        }
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
