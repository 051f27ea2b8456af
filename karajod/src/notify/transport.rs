//! How a `[notif]` reaches its SMTP server: one lettre transport per
//! notification, and the short reason code a failure is logged with.
//!
//! `smtps://` is implicit TLS, `smtp+starttls://` requires STARTTLS,
//! `smtp://` is plain; AUTH only when `smtp_user` is set. The password goes
//! into lettre's `Credentials`, whose `Debug` prints nothing of it.

use std::error::Error as _;
use std::fmt;
use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, Tokio1Executor};

use crate::config::model::{NotifConfig, SmtpScheme};

/// The transport of one notification.
pub type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// Builds the transport for `cfg`. Connects to nothing: a server that is
/// down now may be up when a run ends. `timeout` bounds each SMTP step.
pub fn build(cfg: &NotifConfig, timeout: Duration) -> Result<Transport, lettre::transport::smtp::Error> {
    let tls = match cfg.scheme {
        SmtpScheme::Plain => Tls::None,
        SmtpScheme::Smtps => Tls::Wrapper(tls_parameters(cfg)?),
        SmtpScheme::StartTls => Tls::Required(tls_parameters(cfg)?),
    };
    let mut builder = Transport::builder_dangerous(cfg.host.as_str()).port(cfg.port).tls(tls).timeout(Some(timeout));
    if let Some(user) = &cfg.smtp_user {
        builder = builder.credentials(Credentials::new(user.clone(), cfg.smtp_password.expose().to_string()));
    }
    Ok(builder.build())
}

fn tls_parameters(cfg: &NotifConfig) -> Result<TlsParameters, lettre::transport::smtp::Error> {
    TlsParameters::builder(cfg.host.clone())
        // `smtp_insecure`: any certificate is accepted (self-signed, unknown
        // CA, another host name), as the original's InsecureSkipVerify does.
        .dangerous_accept_invalid_certs(cfg.smtp_insecure)
        .dangerous_accept_invalid_hostnames(cfg.smtp_insecure)
        .build_rustls()
}

/// Why a mail was not sent, as a stable code for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailReason {
    /// The server refused the credentials, or offered no usable AUTH.
    AuthRefused,
    /// Nothing listens at host:port.
    ConnectionRefused,
    /// TLS handshake or certificate failure.
    Tls,
    /// A step took longer than the send timeout.
    Timeout,
    /// The server refused the sender, a recipient or the data.
    Rejected,
    /// The email itself could not be built (an address lettre refuses).
    Message,
    /// Anything else (DNS, a reset connection, ...).
    Other,
}

impl FailReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FailReason::AuthRefused => "auth_refused",
            FailReason::ConnectionRefused => "connection_refused",
            FailReason::Tls => "tls",
            FailReason::Timeout => "timeout",
            FailReason::Rejected => "rejected",
            FailReason::Message => "message",
            FailReason::Other => "other",
        }
    }

    /// Sorts a lettre error. lettre reports TLS handshake failures as
    /// connection errors carrying an `io::Error`, so the source chain is read.
    pub fn of(err: &lettre::transport::smtp::Error, scheme: SmtpScheme) -> FailReason {
        if err.is_tls() {
            return FailReason::Tls;
        }
        if err.is_timeout() {
            return FailReason::Timeout;
        }
        if let Some(code) = err.status() {
            // 530 auth required, 534 mechanism too weak, 535 bad credentials,
            // 538 encryption required for AUTH (RFC 4954).
            return match code.to_string().as_str() {
                "530" | "534" | "535" | "538" => FailReason::AuthRefused,
                _ => FailReason::Rejected,
            };
        }
        if err.is_client() && err.to_string().contains("authentication") {
            // "No compatible authentication mechanism was found": lettre has
            // no kind for it, only this message.
            return FailReason::AuthRefused;
        }
        match io_error_kind(err) {
            Some(std::io::ErrorKind::ConnectionRefused) => FailReason::ConnectionRefused,
            Some(std::io::ErrorKind::TimedOut) => FailReason::Timeout,
            Some(std::io::ErrorKind::InvalidData) if scheme != SmtpScheme::Plain => FailReason::Tls,
            _ => FailReason::Other,
        }
    }
}

impl fmt::Display for FailReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn io_error_kind(err: &lettre::transport::smtp::Error) -> Option<std::io::ErrorKind> {
    let mut source = err.source();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        source = e.source();
    }
    None
}
