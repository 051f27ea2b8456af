//! What a notification email says: the subject line, the body (the tail of
//! the run log) and the lettre [`Message`] built from a [`NotifConfig`].
//!
//! Pure apart from reading the log file; no network. Invariant: a body is
//! never larger than [`MAX_BODY_BYTES`], whatever the size of the log.

use std::io::SeekFrom;
use std::path::Path;

use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Mailboxes};
use proto::{JobId, JobKind, JobStatus};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::config::model::NotifConfig;

/// The largest body sent: a longer log is cut to its last this many bytes,
/// because the end of a log is where a failure shows.
pub const MAX_BODY_BYTES: u64 = 1024 * 1024;

/// Why an email could not be built; these come from addresses that passed
/// config validation but that lettre still refuses.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid {field} address {value:?}: {source}")]
    Address {
        field: &'static str,
        value: String,
        #[source]
        source: lettre::address::AddressError,
    },
    #[error("cannot build the email: {0}")]
    Build(#[from] lettre::error::Error),
}

/// `job: ID: #COUNTER: STATUS` (`job_http:` for HTTP jobs), as the original
/// karajo writes it, so existing mail filters keep working.
pub fn subject(kind: JobKind, id: &JobId, counter: u64, status: JobStatus) -> String {
    format!("{}: {}: #{}: {}", kind.as_str(), id, counter, status.as_str())
}

/// Builds the plain-text email of one notification: from `cfg.from` to
/// every `cfg.to` (display names kept).
pub fn message(cfg: &NotifConfig, subject: &str, mut body: String) -> Result<Message, MailError> {
    // lettre always ends DATA with CRLF "." CRLF, which the server reads as
    // one more line end: without this, a log ending in a newline would
    // arrive with a blank line added.
    if body.ends_with('\n') {
        body.pop();
        if body.ends_with('\r') {
            body.pop();
        }
    }
    let from: Mailbox = parse_mailbox("from", &cfg.from)?;
    let mut to = Mailboxes::new();
    for addr in &cfg.to {
        to.push(parse_mailbox("to", addr)?);
    }
    let mut builder = Message::builder().from(from).subject(subject).header(ContentType::TEXT_PLAIN);
    for mb in to {
        builder = builder.to(mb);
    }
    Ok(builder.body(body)?)
}

fn parse_mailbox(field: &'static str, value: &str) -> Result<Mailbox, MailError> {
    value.trim().parse().map_err(|source| MailError::Address { field, value: value.to_string(), source })
}

/// The email body for a run: the log file's content, or its last
/// [`MAX_BODY_BYTES`] when larger. Only that tail is read from disk.
/// A log that cannot be read still yields a body saying so, because the
/// subject (job, run, status) is worth sending on its own.
pub async fn log_body(path: &Path) -> String {
    match read_tail(path, MAX_BODY_BYTES).await {
        Ok(text) => text,
        Err(e) => format!("(the run log {} could not be read: {e})\n", path.display()),
    }
}

/// Reads at most `max` bytes from the end of `path`, as text. A cut that
/// lands inside a UTF-8 character drops that character's leftover bytes;
/// other invalid UTF-8 (a log is whatever the commands printed) is replaced.
pub async fn read_tail(path: &Path, max: u64) -> std::io::Result<String> {
    let mut file = tokio::fs::File::open(path).await?;
    let len = file.metadata().await?.len();
    let start = len.saturating_sub(max);
    if start > 0 {
        file.seek(SeekFrom::Start(start)).await?;
    }
    // `take` keeps the bound even if the log grows while it is read.
    let mut buf = Vec::with_capacity(len.min(max) as usize);
    file.take(max).read_to_end(&mut buf).await?;
    let skip = if start > 0 { buf.iter().take(3).take_while(|b| (**b & 0xC0) == 0x80).count() } else { 0 };
    Ok(String::from_utf8_lossy(&buf[skip..]).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::{Origin, Secret, SmtpScheme};

    fn cfg(to: &[&str]) -> NotifConfig {
        NotifConfig {
            name: "ops".into(),
            scheme: SmtpScheme::Plain,
            host: "127.0.0.1".into(),
            port: 25,
            smtp_user: None,
            smtp_password: Secret::default(),
            smtp_insecure: false,
            from: "karajo@example.com".into(),
            to: to.iter().map(|s| s.to_string()).collect(),
            origin: Origin::default(),
        }
    }

    #[test]
    fn subject_names_kind_id_counter_and_status() {
        let id = JobId::from_name("Test job success");
        assert_eq!(subject(JobKind::Job, &id, 7, JobStatus::Failed), "job: test_job_success: #7: failed");
        assert_eq!(subject(JobKind::JobHttp, &id, 1, JobStatus::Success), "job_http: test_job_success: #1: success");
    }

    #[test]
    fn message_keeps_display_names_and_every_recipient() {
        let m = message(&cfg(&["Alice Ops <alice@example.com>", "bob@example.com"]), "s", "hello\n".into()).unwrap();
        let to: Vec<String> = m.envelope().to().iter().map(|a| a.to_string()).collect();
        assert_eq!(to, ["alice@example.com", "bob@example.com"]);
        let text = String::from_utf8(m.formatted()).unwrap();
        assert!(text.contains("To: \"Alice Ops\" <alice@example.com>, bob@example.com"), "{text}");
        assert!(text.contains("Content-Type: text/plain"), "{text}");
    }

    #[test]
    fn message_refuses_a_bad_address() {
        let err = message(&cfg(&["not an address"]), "s", String::new()).unwrap_err();
        assert!(matches!(err, MailError::Address { field: "to", .. }));
    }

    #[tokio::test]
    async fn tail_drops_a_cut_utf8_character() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        std::fs::write(&p, "aé€z").unwrap(); // 1 + 2 + 3 + 1 bytes
        assert_eq!(read_tail(&p, 100).await.unwrap(), "aé€z");
        assert_eq!(read_tail(&p, 3).await.unwrap(), "z"); // starts inside '€'
        assert_eq!(read_tail(&p, 4).await.unwrap(), "€z");
    }
}
