//! The daemon mails real runs: a job's `notif_on_success` and
//! `notif_on_failed` reach a real SMTP server when its runs end.

use std::time::Duration;

use super::support::SmtpServer;
use crate::harness::{Daemon, Tree, wait_for};

#[test]
fn the_daemon_mails_the_notifications_a_job_names_for_its_status() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(smtp) = SmtpServer::start(tmp.path(), "plain") else { return };
    let conf = format!(
        "[karajo]\nsecret = s\n\n[notif \"ops\"]\nkind = email\nsmtp_server = smtp://127.0.0.1:{}\nfrom = karajo@example.com\nto = Ops <ops@example.com>\n\n\
         [job \"good\"]\ninterval = 1h\ncommand = echo all well\nnotif_on_success = ops\nnotif_on_failed = ops\n\n\
         [job \"bad\"]\ninterval = 1h\ncommand = echo breaking\ncommand = false\nnotif_on_success = ops\nnotif_on_failed = ops\n\n\
         [job \"quiet\"]\ninterval = 1h\ncommand = true\n",
        smtp.port
    );
    let tree = Tree::new(&conf);
    let _d = Daemon::start(&tree);
    // Both jobs never ran, so their intervals are overdue: they run at once.
    wait_for(Duration::from_secs(30), "two mails", || smtp.messages().len() >= 2);
    let mails = smtp.messages();
    let subjects: Vec<&str> = mails.iter().map(|m| m["subject"].as_str().unwrap()).collect();
    assert!(subjects.contains(&"job: good: #1: success"), "{subjects:?}");
    assert!(subjects.contains(&"job: bad: #1: failed"), "{subjects:?}");
    let bad = mails.iter().find(|m| m["subject"] == "job: bad: #1: failed").unwrap();
    assert!(super::support::body(bad).contains("job: bad: breaking"), "the body is the run log");
    // A job without notifications sends nothing.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(smtp.messages().len(), 2, "{subjects:?}");
}

#[test]
fn a_run_with_retries_mails_once_for_its_final_status() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(smtp) = SmtpServer::start(tmp.path(), "plain") else { return };
    let conf = format!(
        "[karajo]\nsecret = s\n\n[notif \"ops\"]\nkind = email\nsmtp_server = smtp://127.0.0.1:{}\nfrom = karajo@example.com\nto = ops@example.com\n\n\
         [job \"never\"]\ninterval = 1h\nretry = 2\nretry_delay = 50ms\ncommand = false\nnotif_on_success = ops\nnotif_on_failed = ops\n\n\
         [job \"third\"]\ninterval = 1h\nretry = 2\nretry_delay = 50ms\ncommand = \"[ $KARAJO_JOB_ATTEMPT = 3 ]\"\nnotif_on_success = ops\nnotif_on_failed = ops\n",
        smtp.port
    );
    let tree = Tree::new(&conf);
    let _d = Daemon::start(&tree);
    for id in ["never", "third"] {
        crate::harness::wait_run_end(&tree, "job", id, 1, Duration::from_secs(30));
    }
    wait_for(Duration::from_secs(30), "two mails", || smtp.messages().len() >= 2);
    std::thread::sleep(Duration::from_millis(300));
    let mut subjects: Vec<String> =
        smtp.messages().iter().map(|m| m["subject"].as_str().unwrap().to_string()).collect();
    subjects.sort();
    assert_eq!(subjects, ["job: never: #1: failed", "job: third: #1: success"], "one mail per run, not per attempt");
}

/// E-mails serve the events of SPEC 18 too: the subject names the event.
#[test]
fn the_daemon_mails_long_running_and_recovered_events_with_the_event_in_the_subject() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(smtp) = SmtpServer::start(tmp.path(), "plain") else { return };
    let flag = tmp.path().join("ok");
    let conf = format!(
        "[karajo]\nsecret = s\n\n[notif \"ops\"]\nkind = email\nsmtp_server = smtp://127.0.0.1:{}\nfrom = karajo@example.com\nto = ops@example.com\n\n\
         [job \"flaky\"]\ncommand = \"test -f {} || (sleep 1.5; false)\"\nmax_duration = 500ms\nnotif_on_long_running = ops\nnotif_on_recovered = ops\n",
        smtp.port,
        flag.display()
    );
    let tree = Tree::new(&conf);
    let d = Daemon::start(&tree);
    let client = crate::harness::client();
    assert_eq!(crate::harness::signed_action(&client, &d, "s", "run", "flaky").0, 200);
    wait_for(Duration::from_secs(30), "the long_running mail", || !smtp.messages().is_empty());
    crate::harness::wait_run_end(&tree, "job", "flaky", 1, Duration::from_secs(30));
    std::fs::write(&flag, "").unwrap();
    assert_eq!(crate::harness::signed_action(&client, &d, "s", "run", "flaky").0, 200);
    wait_for(Duration::from_secs(30), "the recovered mail", || smtp.messages().len() >= 2);
    let subjects: Vec<String> = smtp.messages().iter().map(|m| m["subject"].as_str().unwrap().to_string()).collect();
    assert_eq!(subjects, ["job: flaky: #1: long_running", "job: flaky: #2: recovered"]);
}
