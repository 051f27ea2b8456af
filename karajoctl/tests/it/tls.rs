//! A TLS-terminating proxy on loopback for `--url https://` tests: a
//! fresh self-signed certificate for `localhost`, written as a PEM file
//! that karajoctl is told to trust with `SSL_CERT_FILE`, and every
//! connection relayed to the daemon's plain-HTTP port.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// The running proxy; it stops with the test process.
pub struct Proxy {
    /// `https://localhost:PORT`
    pub url: String,
    /// The certificate to trust, PEM.
    pub ca_file: PathBuf,
    _dir: tempfile::TempDir,
}

/// Starts a proxy to `upstream` (`http://HOST:PORT`).
pub fn start(upstream: &str) -> Proxy {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("a test certificate");
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, cert.cert.pem()).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key_pair.serialize_der()));
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let upstream = upstream.trim_start_matches("http://").to_string();
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = std_listener.local_addr().unwrap().port();
    std_listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = TcpListener::from_std(std_listener).unwrap();
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, upstream) = (acceptor.clone(), upstream.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                    let Ok(mut plain) = TcpStream::connect(&upstream).await else { return };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
    });
    Proxy { url: format!("https://localhost:{port}"), ca_file, _dir: dir }
}
