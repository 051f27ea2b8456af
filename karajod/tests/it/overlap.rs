//! `overlap` and `queue_size` (SPEC 17) on the real daemon: triggers sent
//! while a run holds the job, what answers they get, which runs follow,
//! and the dropped-trigger metric.

use std::time::Duration;

use crate::harness::{Daemon, Tree, client, find_log, signed_action, wait_for, wait_run_end};

const SECRET: &str = "s";
const LIMIT: Duration = Duration::from_secs(20);

/// A job that waits for `release` to appear, so a run stays active for as
/// long as the test needs; it prints its webhook body.
fn tree(overlap: &str) -> Tree {
    Tree::new(&format!(
        "[karajo]\nsecret = {SECRET}\n[job \"hold\"]\npath = /hold\n{overlap}\n\
         command = \"cat $KARAJO_REQUEST_BODY 2>/dev/null; echo; while [ ! -e release ]; do sleep 0.05; done\"\n"
    ))
}

fn hook(d: &Daemon, body: &str) -> u16 {
    let sig = proto::sign::hmac_sha256_hex(SECRET.as_bytes(), body.as_bytes());
    let r = client()
        .post(format!("{}/karajo/api/job_exec/run/hold", d.url))
        .header("X-Karajo-Sign", sig)
        .body(body.to_string())
        .send()
        .unwrap();
    r.status().as_u16()
}

fn running(tree: &Tree, counter: u64) {
    let p = tree.path(&format!("var/log/karajo/job/hold/hold.{counter}.running"));
    wait_for(LIMIT, &format!("run #{counter} running"), || p.exists());
}

fn release(tree: &Tree) {
    std::fs::create_dir_all(tree.path("var/lib/karajo/job/hold")).unwrap();
    std::fs::write(tree.path("var/lib/karajo/job/hold/release"), "").unwrap();
}

fn metric(d: &Daemon, reason: &str) -> u64 {
    let (code, text) = {
        let r = client().get(format!("{}/karajo/metrics", d.url)).send().unwrap();
        (r.status().as_u16(), r.text().unwrap())
    };
    assert_eq!(code, 200, "{text}");
    let series = format!("karajo_triggers_dropped_total{{job_id=\"hold\",kind=\"job\",reason=\"{reason}\"}} ");
    text.lines().find_map(|l| l.strip_prefix(&series)).map_or(0, |n| n.trim().parse().unwrap())
}

#[test]
fn queue_size_lets_that_many_wait_and_refuses_the_next_with_429() {
    let tree = tree("queue_size = 2");
    let d = Daemon::start(&tree);
    assert_eq!(hook(&d, "one"), 200);
    running(&tree, 1);
    assert_eq!((hook(&d, "two"), hook(&d, "three")), (200, 200), "two may wait");
    assert_eq!(hook(&d, "four"), 429, "the third waiting trigger is refused");
    assert_eq!(metric(&d, "queue_full"), 1);
    release(&tree);
    for (n, body) in [(1, "one"), (2, "two"), (3, "three")] {
        let (status, text) = wait_run_end(&tree, "job", "hold", n, LIMIT);
        assert_eq!(status, "success", "{text}");
        assert!(text.contains(&format!(": {body}\n")), "run #{n} got its own body: {text}");
    }
    assert!(find_log(&tree, "job", "hold", 4).is_none(), "the refused trigger never ran");
}

#[test]
fn skip_refuses_every_trigger_while_running() {
    let tree = tree("overlap = skip");
    let d = Daemon::start(&tree);
    assert_eq!(hook(&d, "one"), 200);
    running(&tree, 1);
    assert_eq!(hook(&d, "two"), 429);
    let (code, v) = signed_action(&client(), &d, SECRET, "run", "hold");
    assert_eq!((code, v["name"].as_str()), (429, Some("ERR_JOB_ALREADY_RUN")), "{v}");
    assert_eq!(metric(&d, "skip"), 2);
    release(&tree);
    assert_eq!(wait_run_end(&tree, "job", "hold", 1, LIMIT).0, "success");
    assert_eq!(hook(&d, "after"), 200, "an idle job takes the next trigger");
    assert_eq!(wait_run_end(&tree, "job", "hold", 2, LIMIT).0, "success");
}

#[test]
fn latest_keeps_only_the_newest_waiting_trigger_with_its_body() {
    let tree = tree("overlap = latest");
    let d = Daemon::start(&tree);
    assert_eq!(hook(&d, "one"), 200);
    running(&tree, 1);
    for body in ["two", "three", "four"] {
        assert_eq!(hook(&d, body), 200, "latest answers 200 to {body}");
    }
    assert_eq!(metric(&d, "superseded"), 2);
    release(&tree);
    let (status, text) = wait_run_end(&tree, "job", "hold", 2, LIMIT);
    assert_eq!(status, "success", "{text}");
    assert!(text.contains(": four\n") && !text.contains(": two\n"), "the newest body ran: {text}");
    assert!(find_log(&tree, "job", "hold", 3).is_none(), "only one waited");
}

#[test]
fn replace_cancels_the_running_run_and_starts_the_new_one() {
    let tree = tree("overlap = replace");
    let d = Daemon::start(&tree);
    assert_eq!(hook(&d, "one"), 200);
    running(&tree, 1);
    assert_eq!(hook(&d, "two"), 200);
    let (status, text) = wait_run_end(&tree, "job", "hold", 1, LIMIT);
    assert_eq!(status, "canceled", "{text}");
    assert!(text.contains("--- replaced by #2"), "{text}");
    running(&tree, 2);
    release(&tree);
    let (status, text) = wait_run_end(&tree, "job", "hold", 2, LIMIT);
    assert_eq!(status, "success", "{text}");
    assert!(text.contains(": two\n"), "{text}");
    let job = &d.get("/karajo/api/job_exec?id=hold").json::<serde_json::Value>().unwrap()["data"];
    assert_eq!((job["overlap"].as_str(), job["queue_size"].as_u64()), (Some("replace"), Some(1)), "{job}");
}

#[test]
fn bad_overlap_values_are_located_errors_and_a_stray_queue_size_a_warning() {
    let tree = Tree::new(
        "[karajo]\nsecret = s\n[job \"a\"]\ncommand = true\noverlap = sometimes\n\
         [job \"b\"]\ncommand = true\nqueue_size = 0\n[job \"c\"]\ncommand = true\noverlap = skip\nqueue_size = 3\n",
    );
    let out = crate::harness::run_karajod(&["check", "--config", tree.config().to_str().unwrap()], tree.base());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    for want in [
        ":7: [job \"a\"] overlap: unknown overlap \"sometimes\": expected queue, skip, replace or latest",
        ":10: [job \"b\"] queue_size: must be a whole number from 1 to 1000",
        ":14: [job \"c\"] queue_size: ignored: queue_size applies to overlap = queue, not skip",
    ] {
        assert!(stderr.contains(want), "missing {want:?} in:\n{stderr}");
    }
}

/// Sends 50 webhooks at once while run #1 holds the job; their statuses, sorted.
fn burst(d: &Daemon) -> Vec<u16> {
    let mut codes: Vec<u16> = std::thread::scope(|s| {
        let sent: Vec<_> = (0..50).map(|n| s.spawn(move || hook(d, &format!("burst{n}")))).collect();
        sent.into_iter().map(|h| h.join().unwrap()).collect()
    });
    codes.sort();
    codes
}

fn count(codes: &[u16], code: u16) -> usize {
    codes.iter().filter(|c| **c == code).count()
}

#[test]
fn under_50_concurrent_webhooks_each_policy_runs_exactly_what_it_promises() {
    for (policy, ok, refused, runs) in
        [("overlap = queue", 1, 49, 2), ("overlap = skip", 0, 50, 1), ("overlap = latest", 50, 0, 2)]
    {
        let tree = tree(policy);
        let d = Daemon::start(&tree);
        assert_eq!(hook(&d, "one"), 200);
        running(&tree, 1);
        let codes = burst(&d);
        assert_eq!((count(&codes, 200), count(&codes, 429)), (ok, refused), "{policy}: {codes:?}");
        release(&tree);
        for n in 1..=runs {
            let (status, text) = wait_run_end(&tree, "job", "hold", n, LIMIT);
            assert_eq!(status, "success", "{policy} #{n}: {text}");
            if n == 2 {
                assert!(text.contains(": burst"), "{policy}: #2 ran a burst trigger's body: {text}");
            }
        }
        std::thread::sleep(Duration::from_millis(300));
        assert!(find_log(&tree, "job", "hold", runs + 1).is_none(), "{policy}: no run past #{runs}");
        let dropped = metric(&d, "queue_full") + metric(&d, "skip") + metric(&d, "superseded");
        assert_eq!(dropped, if policy.ends_with("latest") { 49 } else { refused as u64 }, "{policy}");
    }
}

#[test]
fn under_50_concurrent_webhooks_replace_leaves_one_run_and_no_old_process() {
    // Every log kept: the retention of 5 would delete the replaced runs'
    // logs this test reads once more than 5 runs ended.
    let tree = tree("overlap = replace\nlog_retention = 100");
    let d = Daemon::start(&tree);
    assert_eq!(hook(&d, "one"), 200);
    running(&tree, 1);
    let codes = burst(&d);
    assert_eq!(count(&codes, 200), 50, "{codes:?}");
    // Every run but the newest was replaced; wait for the newest to hold the job.
    let mut newest = 0;
    wait_for(LIMIT, "the replacements to settle", || {
        let logs: Vec<u64> = (1..=51).filter(|n| find_log(&tree, "job", "hold", *n).is_some()).collect();
        newest = logs.last().copied().unwrap_or(0);
        let older_done =
            logs[..logs.len() - 1].iter().all(|n| find_log(&tree, "job", "hold", *n).unwrap().1 != "running");
        let job = &d.get("/karajo/api/job_exec?id=hold").json::<serde_json::Value>().unwrap()["data"];
        let nothing_waits = job["queued"] == false;
        older_done && nothing_waits && find_log(&tree, "job", "hold", newest).is_some_and(|(_, s)| s == "running")
    });
    let workdir = tree.path("var/lib/karajo/job/hold");
    let pids = crate::harness::processes_under(&workdir);
    assert!(pids.len() <= 2, "only the newest run's shell (and its sleep) is left: {pids:?}");
    release(&tree);
    let (status, text) = wait_run_end(&tree, "job", "hold", newest, LIMIT);
    assert_eq!(status, "success", "{text}");
    for n in 1..newest {
        let (status, text) = wait_run_end(&tree, "job", "hold", n, LIMIT);
        assert_eq!(status, "canceled", "#{n}: {text}");
        assert!(text.contains("--- replaced by #"), "#{n}: {text}");
    }
    wait_for(LIMIT, "no process of any run", || crate::harness::processes_under(&workdir).is_empty());
}
