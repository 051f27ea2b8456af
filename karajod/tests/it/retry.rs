//! `retry*` (SPEC 17) on the real daemon: the attempts of a run in one log
//! and one history row, `KARAJO_JOB_ATTEMPT`, `retry_on` matching and not
//! matching, backoff, the global slot given back while waiting, and
//! cancel and pause stopping further attempts; HTTP jobs against a real
//! local server that fails on demand.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::harness::{Daemon, Tree, client, find_log, signed_action, wait_for, wait_run_end};

const SECRET: &str = "s";
const LIMIT: Duration = Duration::from_secs(20);

fn tree(jobs: &str) -> Tree {
    Tree::new(&format!("[karajo]\nsecret = {SECRET}\nmax_job_running = 1\n{jobs}"))
}

fn run(d: &Daemon, id: &str) {
    let (code, v) = signed_action(&client(), d, SECRET, "run", id);
    assert_eq!(code, 200, "run {id}: {v}");
}

/// The newest history row of a job.
fn last_row(d: &Daemon, kind: &str, id: &str) -> serde_json::Value {
    let r = d.get(&format!("/karajo/api/{kind}/runs?id={id}&limit=1"));
    assert_eq!(r.status().as_u16(), 200);
    let v: serde_json::Value = r.json().unwrap();
    v["data"][0].clone()
}

#[test]
fn a_failing_run_is_tried_again_in_one_log_with_growing_waits() {
    let tree = tree(
        "[job \"flaky\"]\nretry = 3\nretry_delay = 200ms\nretry_backoff = 2\n\
         command = \"echo attempt=$KARAJO_JOB_ATTEMPT; [ $KARAJO_JOB_ATTEMPT -ge 3 ]\"\n",
    );
    let d = Daemon::start(&tree);
    run(&d, "flaky");
    let (status, text) = wait_run_end(&tree, "job", "flaky", 1, LIMIT);
    assert_eq!(status, "success", "the third attempt succeeds: {text}");
    for n in 1..=3 {
        assert!(text.contains(&format!("attempt={n}\n")), "attempt {n} ran: {text}");
    }
    let second = text.find("--- Attempt 2 of 4 after 200ms").expect(&text);
    let third = text.find("--- Attempt 3 of 4 after 400ms").expect(&text);
    assert!(text.find("attempt=1").unwrap() < second && second < third, "{text}");
    assert!(!text.contains("attempt=4"), "no attempt after the success: {text}");
    assert!(find_log(&tree, "job", "flaky", 2).is_none(), "all attempts share counter 1");
    let row = last_row(&d, "job_exec", "flaky");
    assert_eq!((row["counter"].as_u64(), row["attempts"].as_u64()), (Some(1), Some(3)), "{row}");
    assert_eq!(row["exit_code"].as_i64(), Some(0), "{row}");
    let job: serde_json::Value = d.get("/karajo/api/job_exec?id=flaky").json().unwrap();
    let j = &job["data"];
    assert_eq!((j["retry"].as_u64(), j["retry_delay"].as_i64()), (Some(3), Some(200_000_000)), "{j}");
    assert_eq!(j["retry_backoff"].as_f64(), Some(2.0), "{j}");
}

#[test]
fn retry_on_retries_only_the_exit_codes_it_names() {
    let tree = tree(
        "[job \"other\"]\nretry = 2\nretry_delay = 50ms\nretry_on = 75\ncommand = exit 3\n\
         [job \"tempfail\"]\nretry = 2\nretry_delay = 50ms\nretry_on = 1,75\ncommand = exit 75\n",
    );
    let d = Daemon::start(&tree);
    run(&d, "other");
    let (status, text) = wait_run_end(&tree, "job", "other", 1, LIMIT);
    assert_eq!(status, "failed");
    assert!(!text.contains("--- Attempt"), "exit 3 is not in retry_on: {text}");
    let row = last_row(&d, "job_exec", "other");
    assert_eq!((row["attempts"].as_u64(), row["exit_code"].as_i64()), (Some(1), Some(3)), "{row}");
    run(&d, "tempfail");
    let (status, text) = wait_run_end(&tree, "job", "tempfail", 1, LIMIT);
    assert_eq!(status, "failed", "every attempt exits 75");
    assert!(text.contains("--- Attempt 3 of 3 after 50ms"), "{text}");
    let row = last_row(&d, "job_exec", "tempfail");
    assert_eq!((row["attempts"].as_u64(), row["exit_code"].as_i64()), (Some(3), Some(75)), "{row}");
}

#[test]
fn the_global_slot_is_free_while_a_run_waits_for_its_next_attempt() {
    let tree = tree(
        "[job \"waits\"]\nretry = 1\nretry_delay = 1h\ncommand = exit 1\n\
         [job \"other\"]\ncommand = echo ran\n",
    );
    let d = Daemon::start(&tree);
    run(&d, "waits");
    let running = tree.path("var/log/karajo/job/waits/waits.1.running");
    wait_for(LIMIT, "the first attempt failed", || {
        std::fs::read_to_string(&running).is_ok_and(|t| t.contains("!!! command 0 failed"))
    });
    run(&d, "other");
    let (status, _) = wait_run_end(&tree, "job", "other", 1, LIMIT);
    assert_eq!(status, "success", "max_job_running = 1 and yet another job ran");
    assert!(running.exists(), "the waiting run is still going");
    let (code, v) = signed_action(&client(), &d, SECRET, "cancel", "waits");
    assert_eq!(code, 200, "{v}");
    let (status, text) = wait_run_end(&tree, "job", "waits", 1, LIMIT);
    assert_eq!(status, "canceled", "a cancel during the wait ends the run: {text}");
    assert!(!text.contains("--- Attempt 2"), "{text}");
}

#[test]
fn a_pause_during_the_wait_stops_further_attempts() {
    let tree = tree("[job \"p\"]\nretry = 5\nretry_delay = 1h\ncommand = exit 2\n");
    let d = Daemon::start(&tree);
    run(&d, "p");
    let running = tree.path("var/log/karajo/job/p/p.1.running");
    wait_for(LIMIT, "the first attempt failed", || {
        std::fs::read_to_string(&running).is_ok_and(|t| t.contains("!!! command 0 failed"))
    });
    let (code, v) = signed_action(&client(), &d, SECRET, "pause", "p");
    assert_eq!(code, 200, "{v}");
    let (status, text) = wait_run_end(&tree, "job", "p", 1, LIMIT);
    assert_eq!(status, "failed", "the last attempt's status: {text}");
    assert!(text.contains("--- no attempt 2 of 6: the job was paused"), "{text}");
    assert_eq!(last_row(&d, "job_exec", "p")["attempts"].as_u64(), Some(1));
}

/// A server answering `fails` times 503, then 200; counts the requests.
fn flaky_server(fails: usize) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let n = seen.fetch_add(1, Ordering::SeqCst);
            let status = if n < fails { "503 Service Unavailable" } else { "200 OK" };
            let _ = write!(s, "HTTP/1.1 {status}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    (url, hits)
}

#[test]
fn an_http_job_retries_5xx_and_connection_failures_as_retry_on_says() {
    let (url, hits) = flaky_server(2);
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let tree = tree(&format!(
        "[job.http \"call\"]\nhttp_url = {url}\nretry = 3\nretry_delay = 50ms\nretry_on = 5xx\n\
         [job.http \"down\"]\nhttp_url = http://{closed}/\nretry = 1\nretry_delay = 50ms\nretry_on = connect\n\
         [job.http \"notfound\"]\nhttp_url = {url}\nretry = 1\nretry_delay = 50ms\nretry_on = 404\n"
    ));
    let d = Daemon::start(&tree);
    let (code, v) = signed_action_http(&d, "call");
    assert_eq!(code, 200, "{v}");
    let (status, text) = wait_run_end(&tree, "job_http", "call", 1, LIMIT);
    assert_eq!(status, "success", "the third request is answered 200: {text}");
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    assert_eq!(last_row(&d, "job_http", "call")["attempts"].as_u64(), Some(3));
    let (code, v) = signed_action_http(&d, "down");
    assert_eq!(code, 200, "{v}");
    let (status, text) = wait_run_end(&tree, "job_http", "down", 1, LIMIT);
    assert_eq!(status, "failed");
    assert!(text.contains("--- Attempt 2 of 2 after 50ms"), "a refused connection is retried: {text}");
    // The server answers 200 now: a 404 rule has nothing to retry.
    let (code, _) = signed_action_http(&d, "notfound");
    assert_eq!(code, 200);
    let (status, text) = wait_run_end(&tree, "job_http", "notfound", 1, LIMIT);
    assert_eq!(status, "success", "{text}");
    assert!(!text.contains("--- Attempt"), "{text}");
}

/// POST `job_http/run`, signed as SPEC 7 wants it: the raw query string.
fn signed_action_http(d: &Daemon, id: &str) -> (u16, serde_json::Value) {
    let q = format!("id={id}&_karajo_epoch={}", chrono::Utc::now().timestamp());
    let sig = proto::sign::hmac_sha256_hex(SECRET.as_bytes(), q.as_bytes());
    let r =
        client().post(format!("{}/karajo/api/job_http/run?{q}", d.url)).header("X-Karajo-Sign", sig).send().unwrap();
    (r.status().as_u16(), r.json().unwrap_or(serde_json::Value::Null))
}

#[test]
fn bad_retry_keys_are_located_config_errors() {
    let tree = tree(
        "[job \"bad\"]\nretry = -1\nretry_delay = 0s\nretry_backoff = 0.5\nretry_on = 300,soon\n\
         catch_up = sometimes\ncatch_up_window = -1h\ncommand = true\n\
         [job.http \"badhttp\"]\nhttp_url = http://127.0.0.1:9/\nretry = 1\nretry_on = 5xx,700,exit\n",
    );
    let out = crate::harness::run_karajod(&["check", "-c", tree.config().to_str().unwrap()], tree.base());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    let conf = tree.config();
    let at = |line: usize, section: &str, key: &str| format!("{}:{line}: [{section}] {key}:", conf.display());
    for (line, key) in [(7, "retry"), (8, "retry_delay"), (9, "retry_backoff"), (10, "retry_on"), (11, "catch_up")] {
        assert!(err.contains(&at(line, "job \"bad\"", key)), "line {line} {key} located: {err}");
    }
    assert!(err.contains("unknown retry_on value \"300\""), "{err}");
    assert!(err.contains("unknown retry_on value \"soon\""), "{err}");
    assert!(err.contains(&at(12, "job \"bad\"", "catch_up_window")), "{err}");
    assert!(err.contains(&at(17, "job.http \"badhttp\"", "retry_on")), "{err}");
    assert!(err.contains("unknown retry_on value \"700\""), "{err}");
    assert!(err.contains("unknown retry_on value \"exit\""), "{err}");
}
