//! TLS on `listen_address` (SPEC 21): `[karajo] tls_cert` and `tls_key`
//! (PEM) make the TCP API speak HTTPS through rustls. The certificate is
//! read again after every reload (SIGHUP or the API), so a renewed one is
//! served without dropping the listener.
//!
//! Invariants: every new connection uses the certificate in force when it
//! was accepted (a swap never disturbs a handshake under way); a reload
//! whose files do not load keeps the old certificate and says why; the
//! lock is held only to clone or replace an `Arc`, never during I/O.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Why a certificate could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {what}")]
    File { path: PathBuf, what: String },
    #[error("tls_cert and tls_key do not go together: {0}")]
    Pair(String),
}

/// The certificate in force, and where it is read from.
pub struct TlsSource {
    files: RwLock<(PathBuf, PathBuf)>,
    current: RwLock<TlsAcceptor>,
}

impl std::fmt::Debug for TlsSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSource").field("files", &self.files).finish_non_exhaustive()
    }
}

impl TlsSource {
    /// Loads `cert` and `key`; an error stops the start.
    pub fn load(cert: &Path, key: &Path) -> Result<TlsSource, TlsError> {
        let acceptor = acceptor(cert, key)?;
        Ok(TlsSource { files: RwLock::new((cert.to_path_buf(), key.to_path_buf())), current: RwLock::new(acceptor) })
    }

    /// The acceptor for a connection accepted now.
    pub fn acceptor(&self) -> TlsAcceptor {
        self.current.read().expect("tls lock").clone()
    }

    /// Reads the files again (`cert`/`key` as the reloaded configuration
    /// names them, when it does); on failure the old certificate stays.
    pub fn reload(&self, files: Option<(&Path, &Path)>) {
        if let Some((cert, key)) = files {
            *self.files.write().expect("tls lock") = (cert.to_path_buf(), key.to_path_buf());
        }
        let (cert, key) = self.files.read().expect("tls lock").clone();
        match acceptor(&cert, &key) {
            Ok(a) => {
                *self.current.write().expect("tls lock") = a;
                tracing::info!(cert = %cert.display(), "TLS certificate reloaded");
            }
            Err(e) => tracing::error!("TLS certificate not reloaded, the old one stays in force: {e}"),
        }
    }
}

fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    let file_err = |path: &Path, what: String| TlsError::File { path: path.to_path_buf(), what };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| file_err(cert, format!("cannot read a PEM certificate: {e}")))?
        .collect::<Result<_, _>>()
        .map_err(|e| file_err(cert, format!("not a PEM certificate: {e}")))?;
    if chain.is_empty() {
        return Err(file_err(cert, "holds no PEM certificate".into()));
    }
    let key_der =
        PrivateKeyDer::from_pem_file(key).map_err(|e| file_err(key, format!("not a PEM private key: {e}")))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Pair(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| TlsError::Pair(e.to_string()))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}
