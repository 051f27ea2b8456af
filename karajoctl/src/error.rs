//! What can go wrong talking to karajod, and the exit code each case means:
//! 0 ok, 1 the daemon refused (or answered nonsense), 2 usage (clap's own),
//! 3 the daemon could not be reached.
//!
//! Invariant: every message names what was tried (the socket path or URL),
//! so a user can tell a typo in `--socket` from a stopped daemon.

use std::fmt;
use std::io;

use proto::ErrorName;

/// Exit codes, as documented in `karajoctl --help`.
pub mod exit {
    pub const OK: u8 = 0;
    pub const REFUSED: u8 = 1;
    /// clap exits with this code itself; named here so the table is whole.
    #[allow(dead_code)]
    pub const USAGE: u8 = 2;
    pub const UNREACHABLE: u8 = 3;
}

/// The hint every "unknown ID" message ends with.
pub const LIST_HINT: &str = "run `karajoctl list` to see every job's ID";

/// A failed exchange with the daemon. `target` is the socket or URL.
#[derive(Debug)]
pub enum ClientError {
    /// Connecting or the exchange itself failed.
    Unreachable { target: String, reason: String, hint: Option<&'static str> },
    /// The daemon answered with an error status.
    Refused { code: u16, name: Option<ErrorName>, message: String, hint: Option<&'static str> },
    /// The daemon answered, but not what the API promises.
    Protocol { target: String, what: String },
    /// A run followed with `--wait` ended other than `success`.
    RunFailed { what: String, status: String },
}

impl ClientError {
    pub fn exit_code(&self) -> u8 {
        match self {
            ClientError::Unreachable { .. } => exit::UNREACHABLE,
            ClientError::Refused { .. } | ClientError::Protocol { .. } | ClientError::RunFailed { .. } => exit::REFUSED,
        }
    }

    /// The wire error name, when the daemon gave one.
    pub fn name(&self) -> Option<ErrorName> {
        match self {
            ClientError::Refused { name, .. } => *name,
            _ => None,
        }
    }

    /// Whether the daemon said that no job has the ID asked for: a job
    /// answers `ERR_JOB_NOT_FOUND`, an HTTP job `ERR_INVALID_JOB_ID`.
    pub fn is_unknown_id(&self) -> bool {
        matches!(self.name(), Some(ErrorName::JobNotFound | ErrorName::InvalidJobId))
    }

    /// The one message every command gives for an unknown ID (`what` is
    /// "job", "http job" or "job or http job"; `given` as typed), keeping
    /// the daemon's status and error name. Other errors pass unchanged.
    pub fn for_unknown_id(self, what: &str, given: &str) -> ClientError {
        match self {
            ClientError::Refused { code, name, .. } if self.is_unknown_id() => ClientError::Refused {
                code,
                name,
                message: format!("no {what} has the ID or name \"{given}\""),
                hint: Some(LIST_HINT),
            },
            other => other,
        }
    }

    /// An I/O failure while connecting to or talking with `target`.
    pub fn io(target: &str, err: &io::Error) -> ClientError {
        let hint = match err.kind() {
            io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused if target.starts_with("socket ") => Some(
                "is karajod running? its control_socket is set in karajo.conf; pick it with --socket PATH or KARAJO_SOCKET",
            ),
            io::ErrorKind::ConnectionRefused => {
                Some("is karajod running and listening on that address (listen_address)?")
            }
            io::ErrorKind::PermissionDenied => {
                Some("the socket is mode 0660: run as the daemon's user or a member of its group")
            }
            _ => None,
        };
        ClientError::Unreachable { target: target.to_string(), reason: err.to_string(), hint }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Unreachable { target, reason, hint } => {
                write!(f, "cannot reach karajod at {target}: {reason}")?;
                if let Some(h) = hint {
                    write!(f, "\n  hint: {h}")?;
                }
                Ok(())
            }
            ClientError::Refused { code, name, message, hint } => {
                write!(f, "{message} (")?;
                if let Some(n) = name {
                    write!(f, "{n}, ")?;
                }
                write!(f, "HTTP {code})")?;
                if let Some(h) = hint {
                    write!(f, "\n  hint: {h}")?;
                }
                Ok(())
            }
            ClientError::Protocol { target, what } => {
                write!(f, "unexpected answer from {target}: {what}")
            }
            ClientError::RunFailed { what, status } => write!(f, "{what} ended {status}"),
        }
    }
}

impl std::error::Error for ClientError {}

/// The exit code for an error that ended the program, and whether to stay
/// quiet about it: a closed stdout (`karajoctl logs x | head`) is not a failure.
pub fn classify(err: &anyhow::Error) -> (u8, bool) {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<ClientError>() {
            return (e.exit_code(), false);
        }
        if let Some(e) = cause.downcast_ref::<io::Error>()
            && e.kind() == io::ErrorKind::BrokenPipe
        {
            return (exit::OK, true);
        }
    }
    (exit::REFUSED, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_kind_of_failure() {
        let refused = ClientError::Refused {
            code: 412,
            name: Some(ErrorName::JobPaused),
            message: "job is paused".into(),
            hint: None,
        };
        assert_eq!(classify(&anyhow::Error::new(refused)), (exit::REFUSED, false));
        let gone = ClientError::io("socket /nope", &io::Error::from(io::ErrorKind::NotFound));
        assert_eq!(classify(&anyhow::Error::new(gone)), (exit::UNREACHABLE, false));
        let pipe = anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe)).context("writing");
        assert_eq!(classify(&pipe), (exit::OK, true));
        assert_eq!(classify(&anyhow::anyhow!("other")), (exit::REFUSED, false));
    }

    #[test]
    fn messages_name_the_target_and_the_error_name() {
        let e = ClientError::io("socket /run/x.sock", &io::Error::from(io::ErrorKind::NotFound));
        let text = e.to_string();
        assert!(text.contains("socket /run/x.sock"), "{text}");
        assert!(text.contains("hint:"), "{text}");
        let r = ClientError::Refused {
            code: 404,
            name: Some(ErrorName::JobNotFound),
            message: "job not found: backup".into(),
            hint: None,
        };
        assert_eq!(r.to_string(), "job not found: backup (ERR_JOB_NOT_FOUND, HTTP 404)");
    }
}
