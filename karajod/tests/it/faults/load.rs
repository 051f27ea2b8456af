//! A flood of badly signed requests (webhooks and the signed pause/resume
//! API, several keep-alive clients at full rate) while scheduled jobs are
//! due: every request is refused with a 401/403 JSON error, none succeeds,
//! fails with 5xx or times out, and every `minutely` job fires once at
//! second 0, on time (SPEC 13, 14).
//!
//! Schedules are minute-based, so the daemon runs with the hidden
//! `KARAJOD_TEST_CLOCK_OFFSET_MS`, a whole number of seconds that puts the
//! next minute boundary of its clock a few real seconds ahead.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{SECRET, api_runs, logs_on_disk};
use crate::harness::{Daemon, Launch, Tree, wait_run_end};

const REQUESTS: usize = 10_000;
const CLIENTS: usize = 4;
const TIMED: [&str; 3] = ["m1", "m2", "m3"];
/// Real seconds from now to the skewed clock's next second 0: room for
/// the daemon to start.
const LEAD_SECS: u64 = 4;
/// How late a run's command may start after its second 0, measured by
/// the `date` it runs (so a fork, an exec of sh and one of date are in
/// it). SPEC 14 asks 10 ms (p99) of a release build, which the benches
/// measure; this debug build shares 2 cores with the other tests of this
/// binary and the flood, and took 37-55 ms in CI runs: the bound catches a
/// flood that holds timers back, not the machine's fork latency.
const MAX_DELAY_MS: f64 = 100.0;

#[test]
fn bad_signatures_at_full_rate_are_refused_and_timers_stay_on_time() {
    let mut conf = String::from("[karajo]\nsecret = s3cret\nmax_job_running = 4\n");
    conf.push_str("[job \"hook\"]\npath = /hook\ncommand = echo never\n");
    for id in TIMED {
        conf.push_str(&format!("[job \"{id}\"]\nschedule = minutely\ncommand = date +%s%N >> fired\n"));
    }
    let tree = Tree::new(&conf);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let t0 = now.as_secs() + 1 + LEAD_SECS;
    let offset_ms = ((60 - t0 % 60) % 60 * 1000).to_string();
    let env = [("KARAJOD_TEST_CLOCK_OFFSET_MS", offset_ms.as_str()), ("KARAJO_LOG", "warn")];
    let (d, _stderr) = Daemon::launch(&tree, &Launch { env: &env, ..Default::default() });
    let t0 = UNIX_EPOCH + Duration::from_secs(t0);
    assert!(SystemTime::now() + Duration::from_secs(1) < t0, "karajod took too long to start to test the timer");
    // The flood starts a second before second 0 and lasts past it.
    std::thread::sleep(t0.duration_since(SystemTime::now()).unwrap() - Duration::from_secs(1));
    let next = Arc::new(AtomicUsize::new(0));
    let wrong: Arc<Mutex<Vec<String>>> = Arc::default();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (url, next, wrong) = (d.url.clone(), next.clone(), wrong.clone());
            std::thread::spawn(move || flood(&url, &next, t0 + Duration::from_secs(1), &wrong))
        })
        .collect();
    let spans: Vec<(SystemTime, SystemTime)> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    // Each client took one number more than it sent, the one that stopped it.
    let sent = next.load(Ordering::SeqCst) - CLIENTS;
    assert!(sent >= REQUESTS, "{sent} requests sent");
    let wrong = wrong.lock().unwrap();
    assert!(
        wrong.is_empty(),
        "{} of {sent} requests were not refused as they should be: {:#?}",
        wrong.len(),
        &wrong[..wrong.len().min(10)]
    );
    let (first, last) = (spans.iter().map(|s| s.0).min().unwrap(), spans.iter().map(|s| s.1).max().unwrap());
    assert!(first < t0 && last > t0, "the flood did not span second 0");
    let mut delays = Vec::new();
    for id in TIMED {
        let (status, text) = wait_run_end(&tree, "job", id, 1, Duration::from_secs(20));
        assert_eq!(status, "success", "{text}");
        let fired = std::fs::read_to_string(tree.path(&format!("var/lib/karajo/job/{id}/fired"))).unwrap();
        let starts: Vec<u128> = fired.lines().map(|l| l.trim().parse().unwrap()).collect();
        assert_eq!(starts.len(), 1, "{id} fired {} times: {starts:?}", starts.len());
        let t0_ns = t0.duration_since(UNIX_EPOCH).unwrap().as_nanos();
        delays.push((id, (starts[0] as f64 - t0_ns as f64) / 1e6));
    }
    let rate = sent as f64 / last.duration_since(first).unwrap().as_secs_f64();
    println!("{sent} bad requests at {rate:.0} req/s; start after second 0 (ms): {delays:?}");
    for (id, ms) in &delays {
        assert!((0.0..MAX_DELAY_MS).contains(ms), "{id} started {ms:.2} ms after second 0 (bound {MAX_DELAY_MS} ms)");
    }
    // Nothing got through: the webhook job never ran, nothing was paused.
    assert!(logs_on_disk(&tree, "hook").is_empty(), "a badly signed webhook ran the job");
    for id in TIMED {
        assert_eq!(api_runs(&d, id).0, "success", "{id}");
    }
}

/// Sends badly signed requests until at least `REQUESTS` are sent in all
/// and `until` has passed; records every answer that is not the expected
/// refusal. Returns when this client sent its first and last request.
fn flood(url: &str, next: &AtomicUsize, until: SystemTime, wrong: &Mutex<Vec<String>>) -> (SystemTime, SystemTime) {
    let c = reqwest::blocking::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let first = SystemTime::now();
    let bad = proto::sign::hmac_sha256_hex(b"not the secret", b"x");
    loop {
        let n = next.fetch_add(1, Ordering::SeqCst);
        if n >= REQUESTS && SystemTime::now() > until {
            return (first, SystemTime::now());
        }
        let (req, want) = match n % 3 {
            0 => (c.post(format!("{url}/karajo/api/job_exec/run/hook")).body(format!("{{\"n\":{n}}}")), 403),
            k => {
                let (body, _) = crate::harness::signed_form(SECRET, TIMED[k]);
                let action = if k == 1 { "pause" } else { "resume" };
                let req = c.post(format!("{url}/karajo/api/job_exec/{action}")).body(body);
                (req.header("Content-Type", "application/x-www-form-urlencoded"), 401)
            }
        };
        let answer = req.header("X-Karajo-Sign", &bad).send();
        let got = match answer {
            Ok(r) => {
                let code = r.status().as_u16();
                match r.json::<serde_json::Value>() {
                    Ok(v) if code == want && v["code"] == want => continue,
                    Ok(v) => format!("request {n}: {code} {v}"),
                    Err(e) => format!("request {n}: {code} with no JSON body: {e}"),
                }
            }
            Err(e) => format!("request {n}: {e}"),
        };
        wrong.lock().unwrap().push(got);
    }
}
