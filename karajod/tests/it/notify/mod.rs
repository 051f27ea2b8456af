//! Notification emails against a real SMTP server on loopback
//! (`tests/smtp/server.py`, aiosmtpd): implicit TLS and STARTTLS with AUTH,
//! plain without, and the failures that must be logged, never felt by a run.
//! Waits are on `Notifier::flush` (a condition with a deadline), never sleeps.

mod daemon;
mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use karajod::config::model::SmtpScheme;
use karajod::notify::{MAX_BODY_BYTES, Notifier, QUEUE_CAPACITY};
use proto::{JobId, JobKind, JobStatus};
use serde_json::Value;

use support::{Captured, PASSWORD, SmtpServer, USER, body, names, notif, notifier, write_log};

const FLUSH: Duration = Duration::from_secs(30);
fn check_delivered(m: &Value, subject: &str, log: &str) {
    assert_eq!(m["subject"], subject);
    assert_eq!(m["mail_from"], "karajo@example.com");
    assert_eq!(m["rcpt_tos"], serde_json::json!(["alice@example.com", "bob@example.com"]));
    let to = m["to"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect::<Vec<_>>().join(", ");
    assert!(to.contains("Alice Ops <alice@example.com>") && to.contains("bob@example.com"), "To: {to}");
    assert_eq!(m["content_type"], "text/plain");
    assert_eq!(body(m), log);
}

/// Success and failure mails of `kind` arrive over `mode` with AUTH.
async fn delivers_with_auth(mode: &str, scheme: SmtpScheme, kind: JobKind) {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = SmtpServer::start(dir.path(), mode) else {
        return;
    };
    let n = notifier(&[notif("ops", scheme, server.port, Some(USER), PASSWORD)]);
    let id = JobId::from_name("Test job");
    let ok_log = write_log(dir.path(), "1.success", "hello\nworld: ünïcode\n");
    let bad_log = write_log(dir.path(), "2.failed", "step 1\nexit status 3\n");
    n.run_ended(&names(&["ops"]), kind, &id, 1, JobStatus::Success, ok_log);
    n.run_ended(&names(&["ops"]), kind, &id, 2, JobStatus::Failed, bad_log);
    n.flush(FLUSH).await;
    let k = kind.as_str();
    let got = server.messages();
    assert_eq!(got.len(), 2, "{got:?}");
    let (ok, bad) =
        if got[0]["subject"].as_str().unwrap().ends_with("success") { (&got[0], &got[1]) } else { (&got[1], &got[0]) };
    check_delivered(ok, &format!("{k}: test_job: #1: success"), "hello\nworld: ünïcode\n");
    check_delivered(bad, &format!("{k}: test_job: #2: failed"), "step 1\nexit status 3\n");
    assert!(got.iter().all(|m| m["authenticated"] == true));
    assert_eq!((n.stats().sent, n.stats().failed), (2, 0));
}

#[tokio::test]
async fn smtps_with_auth_delivers_success_and_failure_mails() {
    delivers_with_auth("tls", SmtpScheme::Smtps, JobKind::Job).await;
}

#[tokio::test]
async fn starttls_with_auth_delivers_success_and_failure_mails() {
    delivers_with_auth("starttls", SmtpScheme::StartTls, JobKind::JobHttp).await;
}

#[tokio::test]
async fn plain_smtp_without_auth_delivers_to_every_notification() {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = SmtpServer::start(dir.path(), "plain") else {
        return;
    };
    let mut second = notif("dev", SmtpScheme::Plain, server.port, None, "");
    second.to = vec!["Dev Team <dev@example.com>".into()];
    let n = notifier(&[notif("ops", SmtpScheme::Plain, server.port, None, ""), second]);
    let log = write_log(dir.path(), "3.success", "done\n");
    n.run_ended(&names(&["ops", "dev"]), JobKind::Job, &JobId::from_name("backup"), 3, JobStatus::Success, log);
    n.flush(FLUSH).await;
    let got = server.messages();
    assert_eq!(got.len(), 2, "{got:?}");
    let to_dev = got.iter().find(|m| m["rcpt_tos"] == serde_json::json!(["dev@example.com"])).expect("mail to dev");
    assert_eq!(to_dev["to"][0], "Dev Team <dev@example.com>");
    assert!(got.iter().all(|m| m["subject"] == "job: backup: #3: success" && m["authenticated"] == false));
}

#[tokio::test]
async fn log_over_one_mib_is_cut_to_its_last_mib() {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = SmtpServer::start(dir.path(), "plain") else {
        return;
    };
    let mut log = String::new();
    for i in 0.. {
        if log.len() >= 5 * 1024 * 1024 {
            break;
        }
        log.push_str(&format!("line {i:08}: some output of the job\n"));
    }
    let path = write_log(dir.path(), "4.failed", &log);
    let n = notifier(&[notif("ops", SmtpScheme::Plain, server.port, None, "")]);
    n.run_ended(&names(&["ops"]), JobKind::Job, &JobId::from_name("big"), 4, JobStatus::Failed, path);
    n.flush(FLUSH).await;
    let got = server.messages();
    assert_eq!(got.len(), 1);
    let tail = &log[log.len() - MAX_BODY_BYTES as usize..];
    assert_eq!(body(&got[0]).len(), tail.len());
    assert!(body(&got[0]) == tail, "the body is not the log's last MiB");
}

/// run_ended must return at once whatever the server does.
fn assert_quick(start: Instant) {
    assert!(start.elapsed() < Duration::from_millis(200), "run_ended blocked for {:?}", start.elapsed());
}

/// A failing send: logged with the notification name and `reason`, counted,
/// and nothing panics; `flush` returns within its bound.
async fn fails_with(n: &Notifier, logs: &Captured, dir: &Path, reason: &str) {
    let log = write_log(dir, "5.failed", "boom\n");
    let start = Instant::now();
    n.run_ended(&names(&["ops"]), JobKind::Job, &JobId::from_name("j"), 5, JobStatus::Failed, log);
    assert_quick(start);
    n.flush(FLUSH).await;
    assert!(start.elapsed() < FLUSH, "flush overran its timeout");
    assert_eq!((n.stats().sent, n.stats().failed, n.stats().pending), (0, 1, 0));
    let text = logs.text();
    let line = text.lines().find(|l| l.contains("notif=ops")).unwrap_or_else(|| panic!("no warning: {text}"));
    assert!(line.contains("WARN") && line.contains(&format!("reason={reason}")), "{line}");
    assert!(!text.contains(PASSWORD) && !text.contains("wrong-pass"), "a password reached the log");
}

#[tokio::test]
async fn wrong_credentials_are_logged_and_do_not_block() {
    let (logs, _g) = Captured::start();
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = SmtpServer::start(dir.path(), "tls") else {
        return;
    };
    let n = notifier(&[notif("ops", SmtpScheme::Smtps, server.port, Some(USER), "wrong-pass")]);
    fails_with(&n, &logs, dir.path(), "auth_refused").await;
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn stopped_server_is_logged_and_does_not_block() {
    let (logs, _g) = Captured::start();
    let dir = tempfile::tempdir().unwrap();
    let Some(mut server) = SmtpServer::start(dir.path(), "starttls") else {
        return;
    };
    server.stop();
    let n = notifier(&[notif("ops", SmtpScheme::StartTls, server.port, Some(USER), PASSWORD)]);
    fails_with(&n, &logs, dir.path(), "connection_refused").await;
}

#[tokio::test]
async fn self_signed_certificate_without_insecure_is_a_tls_error() {
    let (logs, _g) = Captured::start();
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = SmtpServer::start(dir.path(), "tls") else {
        return;
    };
    let mut cfg = notif("ops", SmtpScheme::Smtps, server.port, Some(USER), PASSWORD);
    cfg.smtp_insecure = false;
    fails_with(&notifier(&[cfg]), &logs, dir.path(), "tls").await;
}

/// A server that accepts and then says nothing: sends hang until their own
/// timeout, yet run_ended returns at once, flush keeps to its bound, and
/// the queue drops what does not fit.
#[tokio::test]
async fn silent_server_neither_blocks_runs_nor_grows_the_queue() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let _hold = tokio::spawn(async move {
        let mut conns = Vec::new();
        while let Ok((c, _)) = silent.accept().await {
            conns.push(c);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let log = write_log(dir.path(), "6.success", "ok\n");
    let n = notifier(&[notif("ops", SmtpScheme::Plain, port, None, "")]);
    let start = Instant::now();
    for counter in 0..QUEUE_CAPACITY as u64 + 6 {
        n.run_ended(&names(&["ops"]), JobKind::Job, &JobId::from_name("j"), counter, JobStatus::Success, log.clone());
    }
    assert_quick(start);
    let stats = n.stats();
    assert_eq!((stats.pending, stats.dropped), (QUEUE_CAPACITY, 6));
    let start = Instant::now();
    n.flush(Duration::from_millis(300)).await;
    assert!(start.elapsed() < Duration::from_secs(2), "flush ignored its timeout: {:?}", start.elapsed());
    assert_eq!(n.stats().sent, 0);
}

#[tokio::test]
async fn check_reachable_warns_only_for_servers_that_cannot_be_used() {
    let (logs, _g) = Captured::start();
    let dir = tempfile::tempdir().unwrap();
    let Some(good) = SmtpServer::start(dir.path(), "tls") else {
        return;
    };
    let down = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let n = notifier(&[
        notif("good", SmtpScheme::Smtps, good.port, Some(USER), PASSWORD),
        notif("badpass", SmtpScheme::Smtps, good.port, Some(USER), "wrong-pass"),
        notif("down", SmtpScheme::Plain, down, None, ""),
    ]);
    n.check_reachable().await;
    let text = logs.text();
    let warned = |name: &str| text.lines().any(|l| l.contains("WARN") && l.contains(&format!("notif={name}")));
    assert!(!warned("good"), "{text}");
    assert!(warned("badpass") && text.contains("reason=auth_refused"), "{text}");
    assert!(warned("down") && text.contains("reason=connection_refused"), "{text}");
    assert!(good.messages().is_empty());
}

#[test]
fn debug_output_hides_passwords() {
    let n = notifier(&[notif("ops", SmtpScheme::Smtps, 465, Some(USER), PASSWORD)]);
    let shown = format!("{n:?}");
    assert!(shown.contains("ops") && !shown.contains(PASSWORD), "{shown}");
}

#[test]
fn run_ended_outside_a_runtime_drops_instead_of_panicking() {
    let n = notifier(&[notif("ops", SmtpScheme::Plain, 25, None, "")]);
    n.run_ended(
        &names(&["ops", "nosuch"]),
        JobKind::Job,
        &JobId::from_name("j"),
        1,
        JobStatus::Failed,
        PathBuf::from("/nonexistent"),
    );
    assert_eq!((n.stats().pending, n.stats().dropped), (0, 2));
}
