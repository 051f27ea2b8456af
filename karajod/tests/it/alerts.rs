//! Webhook notifications, the events of SPEC 18 and `ping_url`, against
//! the real daemon and a real HTTP receiver on loopback (`receiver`).
//! Waits poll the receiver or the log directory with a deadline.

pub mod receiver;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::harness::{Daemon, Tree, client, signed_action, wait_for, wait_run_end};
use receiver::{Received, Receiver};

const SECRET: &str = "s3cret";
const HOOK_SECRET: &str = "hook-secret";
const WAIT: Duration = Duration::from_secs(20);

/// A webhook notification section named `name` sending to `url`.
fn hook(name: &str, url: &str, extra: &str) -> String {
    format!("[notif \"{name}\"]\nkind = webhook\nurl = {url}\nsecret = {HOOK_SECRET}\n{extra}\n")
}

fn run(d: &Daemon, id: &str) {
    let (status, body) = signed_action(&client(), d, SECRET, "run", id);
    assert_eq!(status, 200, "{body}");
}

fn events(got: &[Received]) -> Vec<String> {
    got.iter().map(|r| r.json()["event"].as_str().unwrap_or_default().to_string()).collect()
}

#[test]
fn json_delivery_has_exactly_the_spec_keys_and_a_valid_signature() {
    let r = Receiver::start();
    let conf = format!(
        "[karajo]\nsecret = {SECRET}\n{}\n[job \"build\"]\ncommand = echo building\ncommand = exit 3\nnotif_on_failed = ops\n",
        hook("ops", &format!("{}/hook", r.url), "http_header = X-Team: ops")
    );
    let tree = Tree::new(&conf);
    let d = Daemon::start(&tree);
    run(&d, "build");
    let got = r.wait_for(1, WAIT);
    let req = &got[0];
    assert_eq!((req.method.as_str(), req.path.as_str()), ("POST", "/hook"));
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(req.header("x-team"), Some("ops"));
    let sig = proto::sign::hmac_sha256_hex(HOOK_SECRET.as_bytes(), &req.body);
    assert_eq!(req.header("x-karajo-sign"), Some(sig.as_str()));
    let v = req.json();
    let keys: BTreeSet<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let want: BTreeSet<&str> = [
        "event",
        "kind",
        "job_id",
        "job_name",
        "counter",
        "status",
        "trigger",
        "attempts",
        "started_at",
        "ended_at",
        "duration_ms",
        "log_url",
        "log_tail",
    ]
    .into();
    assert_eq!(keys, want);
    assert_eq!(
        (v["event"].as_str(), v["status"].as_str(), v["kind"].as_str()),
        (Some("failed"), Some("failed"), Some("job"))
    );
    assert_eq!(
        (v["job_id"].as_str(), v["counter"].as_u64(), v["trigger"].as_str()),
        (Some("build"), Some(1), Some("manual"))
    );
    assert_eq!(v["attempts"].as_u64(), Some(1));
    assert!(v["duration_ms"].is_i64() && v["started_at"].is_string() && v["ended_at"].is_string(), "{v}");
    assert!(v["log_tail"].as_str().unwrap().contains("building"), "{v}");
    let log_url = v["log_url"].as_str().unwrap();
    assert!(log_url.ends_with("/karajo/api/job_exec/log?id=build&counter=1"), "{log_url}");
    assert_eq!(client().get(log_url).send().unwrap().status().as_u16(), 200, "the log_url serves the log");
    wait_for(WAIT, "the delivered count in the metrics", || {
        d.get("/karajo/metrics")
            .text()
            .unwrap()
            .contains("karajo_notifications_total{notif=\"ops\",result=\"delivered\"} 1")
    });
}

#[test]
fn chat_formats_have_their_shapes() {
    let r = Receiver::start();
    let mut conf = format!("[karajo]\nsecret = {SECRET}\n");
    for f in ["slack", "discord", "ntfy", "matrix"] {
        let method = if f == "matrix" { "method = PUT\n" } else { "" };
        conf.push_str(&hook(f, &format!("{}/{f}", r.url), &format!("format = {f}\n{method}")));
    }
    conf.push_str("[job \"build\"]\ncommand = echo hello\nnotif_on_success = slack\nnotif_on_success = discord\nnotif_on_success = ntfy\nnotif_on_success = matrix\n");
    let tree = Tree::new(&conf);
    let d = Daemon::start(&tree);
    run(&d, "build");
    let got = r.wait_for(4, WAIT);
    let by =
        |prefix: &str| got.iter().find(|q| q.path.starts_with(prefix)).unwrap_or_else(|| panic!("{prefix}: {got:?}"));
    let slack = by("/slack").json();
    assert!(slack["text"].as_str().unwrap().starts_with("job build #1: success"), "{slack}");
    assert!(slack["text"].as_str().unwrap().contains("hello"), "{slack}");
    let discord = by("/discord").json();
    assert!(discord["content"].as_str().unwrap().starts_with("job build #1: success"), "{discord}");
    let ntfy = by("/ntfy");
    assert_eq!(ntfy.header("title"), Some("job build #1: success"));
    assert_eq!(ntfy.header("priority"), Some("default"));
    assert!(ntfy.text().contains("hello"));
    let matrix = by("/matrix/karajo-");
    assert_eq!(matrix.method, "PUT");
    assert_eq!(matrix.json()["msgtype"], "m.text");
    for q in &got {
        let sig = proto::sign::hmac_sha256_hex(HOOK_SECRET.as_bytes(), &q.body);
        assert_eq!(q.header("x-karajo-sign"), Some(sig.as_str()), "{}", q.path);
    }
}

#[test]
fn a_delivery_is_retried_after_500s_and_then_delivered() {
    let r = Receiver::start();
    r.answer(&[500, 503]);
    let conf = format!(
        "[karajo]\nsecret = {SECRET}\n{}\n[job \"j\"]\ncommand = true\nnotif_on_success = ops\n",
        hook("ops", &r.url, "")
    );
    let tree = Tree::new(&conf);
    let d = Daemon::start(&tree);
    run(&d, "j");
    let got = r.wait_for(3, WAIT);
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|q| q.body == got[0].body), "each retry sends the same body");
    wait_for(WAIT, "delivered=1 in the metrics", || {
        d.get("/karajo/metrics")
            .text()
            .unwrap()
            .contains("karajo_notifications_total{notif=\"ops\",result=\"delivered\"} 1")
    });
    assert!(!d.get("/karajo/metrics").text().unwrap().contains("result=\"failed\""));
}

/// A receiver that never answers holds up neither the run (its end time)
/// nor another notification of the same run.
#[test]
fn a_hung_receiver_delays_neither_the_run_nor_other_notifications() {
    let (hung, good) = (Receiver::start(), Receiver::start());
    hung.hang();
    let conf = format!(
        "[karajo]\nsecret = {SECRET}\n{}{}\n[job \"j\"]\ncommand = echo x\nnotif_on_success = stuck\nnotif_on_success = ok\n",
        hook("stuck", &hung.url, "timeout = 30s"),
        hook("ok", &good.url, "")
    );
    let tree = Tree::new(&conf);
    let d = Daemon::start(&tree);
    let t0 = Instant::now();
    run(&d, "j");
    hung.wait_for(1, WAIT);
    good.wait_for(1, WAIT);
    assert!(t0.elapsed() < Duration::from_secs(10), "the good receiver waited on the hung one: {:?}", t0.elapsed());
    let (status, _) = wait_run_end(&tree, "job", "j", 1, WAIT);
    assert_eq!(status, "success");
    run(&d, "j");
    let (status, _) = wait_run_end(&tree, "job", "j", 2, WAIT);
    assert_eq!(status, "success", "a second run goes while the first delivery hangs");
    let rows: serde_json::Value = d.get("/karajo/api/job_exec/runs?id=j").json().unwrap();
    let first = &rows["data"][1];
    assert!(first["duration_ms"].as_i64().unwrap() < 2000, "the run's end moved: {first}");
}

#[test]
fn recovered_fires_only_on_the_first_success_after_a_failure() {
    let r = Receiver::start();
    let tree_conf = |flag: &str| {
        format!(
            "[karajo]\nsecret = {SECRET}\n{}\n[job \"flaky\"]\ncommand = test -f {flag}\nnotif_on_recovered = ops\nnotif_on_failed = ops\n",
            hook("ops", &r.url, "")
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let flag = dir.path().join("ok");
    let tree = Tree::new(&tree_conf(flag.to_str().unwrap()));
    let d = Daemon::start(&tree);
    std::fs::write(&flag, "").unwrap();
    run(&d, "flaky"); // 1: success, nothing before it
    wait_run_end(&tree, "job", "flaky", 1, WAIT);
    std::fs::remove_file(&flag).unwrap();
    run(&d, "flaky"); // 2: failed
    wait_run_end(&tree, "job", "flaky", 2, WAIT);
    r.wait_for(1, WAIT);
    std::fs::write(&flag, "").unwrap();
    run(&d, "flaky"); // 3: recovered
    wait_run_end(&tree, "job", "flaky", 3, WAIT);
    r.wait_for(2, WAIT);
    run(&d, "flaky"); // 4: success again, no event
    wait_run_end(&tree, "job", "flaky", 4, WAIT);
    std::fs::remove_file(&flag).unwrap();
    run(&d, "flaky"); // 5: failed: the marker that 4 sent nothing
    wait_run_end(&tree, "job", "flaky", 5, WAIT);
    let got = r.wait_for(3, WAIT);
    assert_eq!(events(&got), ["failed", "recovered", "failed"]);
    let counters: Vec<u64> = got.iter().map(|q| q.json()["counter"].as_u64().unwrap()).collect();
    assert_eq!(counters, [2, 3, 5]);
}

#[test]
fn long_running_fires_while_the_run_goes_on() {
    let r = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let gate = dir.path().join("gate");
    let conf = format!(
        "[karajo]\nsecret = {SECRET}\n{}\n[job \"slow\"]\ncommand = \"while [ ! -f {} ]; do sleep 0.05; done\"\nmax_duration = 1s\nnotif_on_long_running = ops\n",
        hook("ops", &r.url, ""),
        gate.display()
    );
    let tree = Tree::new(&conf);
    let d = Daemon::start(&tree);
    let job: serde_json::Value = d.get("/karajo/api/job_exec?id=slow").json().unwrap();
    assert_eq!(job["data"]["max_duration"], 1_000_000_000i64, "{job}");
    assert_eq!(job["data"]["notif_on_long_running"], serde_json::json!(["ops"]));
    assert_eq!(job["data"]["late_after"], 60_000_000_000i64);
    run(&d, "slow");
    let got = r.wait_for(1, WAIT);
    let v = got[0].json();
    assert_eq!((v["event"].as_str(), v["status"].as_str()), (Some("long_running"), Some("running")));
    assert!(crate::harness::find_log(&tree, "job", "slow", 1).is_some_and(|(_, s)| s == "running"), "the run goes on");
    std::fs::write(&gate, "").unwrap();
    let (status, _) = wait_run_end(&tree, "job", "slow", 1, WAIT);
    assert_eq!(status, "success");
    assert_eq!(r.requests().len(), 1, "fired once");
}

/// With one global slot, two every-second jobs that each hold it for 1.5 s
/// make each other's timer runs start more than `late_after` after their slot.
#[test]
fn late_fires_for_a_timer_run_that_started_after_late_after() {
    let r = Receiver::start();
    let mut conf = format!("[karajo]\nsecret = {SECRET}\nmax_job_running = 1\n{}", hook("ops", &r.url, ""));
    for name in ["a", "b"] {
        conf.push_str(&format!(
            "[job \"{name}\"]\nschedule = * * * * * *\ncommand = sleep 1.5\nlate_after = 500ms\nnotif_on_late = ops\n"
        ));
    }
    let tree = Tree::new(&conf);
    let _d = Daemon::start(&tree);
    let got = r.wait_for(1, WAIT);
    let v = got[0].json();
    assert_eq!(
        (v["event"].as_str(), v["trigger"].as_str(), v["status"].as_str()),
        (Some("late"), Some("timer"), Some("running"))
    );
}

#[test]
fn ping_url_gets_start_then_success_or_fail_with_the_log() {
    let r = Receiver::start();
    let conf = format!(
        "[karajo]\nsecret = {SECRET}\n[job \"ok\"]\ncommand = echo done-ok\nping_url = {0}/p/ok\n[job \"bad\"]\ncommand = echo done-bad\ncommand = false\nping_url = {0}/p/bad/\n",
        r.url
    );
    let tree = Tree::new(&conf);
    let d = Daemon::start(&tree);
    run(&d, "ok");
    let got = r.wait_for(2, WAIT);
    assert_eq!((got[0].method.as_str(), got[0].path.as_str()), ("GET", "/p/ok/start"));
    assert_eq!((got[1].method.as_str(), got[1].path.as_str()), ("POST", "/p/ok"));
    assert!(got[1].text().contains("done-ok"), "{}", got[1].text());
    run(&d, "bad");
    let got = r.wait_for(4, WAIT);
    assert_eq!(got[2].path, "/p/bad/start");
    assert_eq!((got[3].method.as_str(), got[3].path.as_str()), ("POST", "/p/bad/fail"));
    assert!(got[3].text().contains("done-bad"));
}

#[test]
fn a_ping_url_that_is_down_does_not_fail_the_run() {
    // A port nothing listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let conf =
        format!("[karajo]\nsecret = {SECRET}\n[job \"j\"]\ncommand = true\nping_url = http://127.0.0.1:{port}/x\n");
    let tree = Tree::new(&conf);
    let d = Daemon::start(&tree);
    run(&d, "j");
    assert_eq!(wait_run_end(&tree, "job", "j", 1, WAIT).0, "success");
}

#[test]
fn check_lists_webhooks_and_the_alert_keys_of_a_job() {
    let conf = format!(
        "[karajo]\nsecret = x\n{}\n[job \"j\"]\ncommand = true\nnotif_on_late = ops\nlate_after = 2m\nmax_duration = 1h\nnotif_on_long_running = ops\nping_url = https://hc.example.com/abc\n",
        hook("ops", "https://hooks.example.com/x", "format = slack")
    );
    let tree = Tree::new(&conf);
    let out = crate::harness::run_karajod(&["check", "--config", tree.config().to_str().unwrap()], tree.base());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("notifications: 1 (ops)"), "{stdout}");
    assert!(stdout.contains("webhook POST https://hooks.example.com/x format slack, timeout 10s, signed"), "{stdout}");
    let want = "notif_on_late ops; notif_on_long_running ops; late_after 2m0s; max_duration 1h0m0s; ping_url https://hc.example.com/abc";
    assert!(stdout.contains(want), "{stdout}");
    assert!(!stdout.contains(HOOK_SECRET), "the secret is never shown");
}

fn webhook_cfg(name: &str, url: &str) -> karajod::config::WebhookConfig {
    karajod::config::WebhookConfig {
        name: name.into(),
        url: url.into(),
        method: karajod::config::HttpMethod::Post,
        headers: vec![],
        secret: None,
        timeout: Duration::from_secs(30),
        format: karajod::config::WebhookFormat::Json,
        origin: Default::default(),
    }
}

/// `notif_on_missed` as catch-up will raise it (`Notifier::missed`).
#[tokio::test]
async fn missed_is_delivered_with_the_slot() {
    let r = Receiver::start();
    let hooks = [("ops".to_string(), webhook_cfg("ops", &r.url))].into_iter().collect();
    let n = karajod::notify::Notifier::with(&Default::default(), &hooks, Default::default());
    let mut job = karajod::config::JobCommon::named("Nightly backup");
    job.alerts.notif_on_missed = vec!["ops".into()];
    let slot = chrono::DateTime::parse_from_rfc3339("2026-12-01T02:00:00Z").unwrap().to_utc();
    n.missed(proto::JobKind::Job, &job, slot);
    n.flush(WAIT).await;
    let v = r.requests()[0].json();
    assert_eq!(
        (v["event"].as_str(), v["job_id"].as_str(), v["job_name"].as_str()),
        (Some("missed"), Some("nightly_backup"), Some("Nightly backup"))
    );
    assert_eq!(v["started_at"], "2026-12-01T02:00:00Z");
    assert!(v["ended_at"].is_null() && v["duration_ms"].is_null());
}

/// A hung receiver: its queue keeps the newest 64 deliveries and counts the
/// ones it pushed out; `notify` never waits. (Two workers: the test
/// itself waits on the receiver without yielding.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_drops_its_oldest_deliveries_and_counts_them() {
    let r = Receiver::start();
    r.hang();
    let counts = std::sync::Arc::new(karajod::notify::Counts::default());
    let hooks = [("stuck".to_string(), webhook_cfg("stuck", &r.url))].into_iter().collect();
    let n = karajod::notify::Notifier::with(&Default::default(), &hooks, counts.clone());
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    std::fs::write(&log, "x").unwrap();
    let t0 = Instant::now();
    let total = karajod::notify::HOOK_QUEUE_CAPACITY as u64 + 10;
    n.run_ended(
        &["stuck".into()],
        proto::JobKind::Job,
        &proto::JobId::from_name("j"),
        0,
        proto::JobStatus::Success,
        log.clone(),
    );
    r.wait_for(1, WAIT); // the first is in flight, hanging
    for counter in 1..total {
        n.run_ended(
            &["stuck".into()],
            proto::JobKind::Job,
            &proto::JobId::from_name("j"),
            counter,
            proto::JobStatus::Success,
            log.clone(),
        );
    }
    assert!(t0.elapsed() < Duration::from_secs(5), "notify waited: {:?}", t0.elapsed());
    // One in flight, 64 waiting, the rest dropped.
    assert_eq!(counts.get("stuck", "dropped"), total - 1 - karajod::notify::HOOK_QUEUE_CAPACITY as u64);
    assert_eq!(n.stats().pending as u64, 1 + karajod::notify::HOOK_QUEUE_CAPACITY as u64);
}

/// Bad webhook and event keys are located errors that say what was
/// expected, and the daemon refuses to start on them.
#[test]
fn bad_formats_events_urls_and_unset_secrets_are_located_errors() {
    let conf = "[karajo]\nsecret = s\n\n[notif \"chat\"]\nkind = webhook\nurl = https://hooks.example.com/x\nformat = teams\n\n\
                [notif \"signed\"]\nkind = webhook\nurl = /relative\nsecret = $KARAJO_SURELY_UNSET_SECRET\n\n\
                [job \"j\"]\ncommand = true\nnotif_on_sometimes = chat\nnotif_on_missed = nobody\n";
    let tree = Tree::new(conf);
    let file = tree.config().display().to_string();
    let text = std::fs::read_to_string(tree.config()).unwrap();
    let at = |key: &str| format!("{file}:{}", text.lines().position(|l| l.starts_with(key)).unwrap() + 1);
    let out = crate::harness::run_karajod(&["check", "--config", &file], tree.base());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for want in [
        format!(
            "{}: [notif \"chat\"] format: unknown format \"teams\": expected json, slack, discord, ntfy, matrix",
            at("format")
        ),
        format!("{}: [notif \"signed\"] url: invalid URL \"/relative\"", at("url = /")),
        format!("{}: [notif \"signed\"] secret: environment variable KARAJO_SURELY_UNSET_SECRET", at("secret = $")),
        format!(
            "{}: [job \"j\"] notif_on_sometimes: unknown event \"sometimes\": expected notif_on_ one of",
            at("notif_on_s")
        ),
        format!("{}: [job \"j\"] notif_on_missed: unknown notification \"nobody\"", at("notif_on_m")),
    ] {
        assert!(stderr.contains(&want), "{want}\nin\n{stderr}");
    }
    let run = crate::harness::run_karajod(&["--config", &file], tree.base());
    // EX_CONFIG, which the systemd unit does not restart on.
    assert_eq!(run.status.code(), Some(78), "the daemon does not start: {}", String::from_utf8_lossy(&run.stderr));
}
