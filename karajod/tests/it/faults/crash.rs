//! `kill -9` of the daemon at random moments of runs, 50 times on one
//! dir_base, restarting it each time. Runs are started over the webhook
//! and the signed API in a tight loop, so at the kill something is almost
//! always running, starting, ending or being pruned by retention.
//!
//! One job (`kids`) leaves children that escape its process group and
//! session; the daemon alternates between a cgroup per run and the child
//! subreaper (when cgroups can be made here). No process of any run may
//! survive a restart: the new daemon ends them before it listens.
//!
//! After every restart, every log must hold what it held before the kill
//! (the content seen then is a prefix of the content now), every line must
//! carry its prefix, no `.running` may be left (it is `.failed`, ending with
//! the "daemon stopped" note), a counter's file keeps its identity, new runs
//! take higher counters, and the API agrees with the disk; so do the
//! history rows (SPEC 15): 0 disagreements over the 50 rounds.
//!
//! `KARAJO_FAULT_SEED=N` replays a failing sequence of delays.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};

use super::{SECRET, api_log, api_runs, assert_lines_prefixed, logs_on_disk, signed_action, tail};
use crate::harness::{Daemon, Tree, client, kill_processes_under, processes_under};
use crate::process::{kill_marked, marked, marker, modes};

const ROUNDS: usize = 50;
/// Jobs and their `log_retention`.
const JOBS: [(&str, usize); 4] = [("stream", 4), ("multi", 6), ("quick", 3), ("kids", 4)];
/// `kids` exports `KT_MARK=` followed by the test's marker.
const KIDS: &str = "[job \"kids\"]\nlog_retention = 4\n\
command = \"export KT_MARK=@MARKER@; trap '' TERM; setsid sleep 30 & (sleep 30 &); echo pid $$; sleep 0.2\"\n";
const CONF: &str = "[karajo]\nsecret = s3cret\nmax_job_running = 4\n\
[job \"stream\"]\npath = /stream\nlog_retention = 4\n\
command = echo pid $$\ncommand = seq -f 'streamed line %g' 1 5000\n\
[job \"multi\"]\nlog_retention = 6\ncommand = echo pid $$\n\
command = \"for i in $(seq 1 30); do echo multi $i; sleep 0.005; done\"\n\
command = \"printf 'a partial line'; sleep 0.02; echo ' ends here'\"\n\
command = printf 'no newline at the end'\n\
[job \"quick\"]\nlog_retention = 3\ncommand = echo pid $$\n";
/// Hundreds of runs: only warnings and errors on the test's stderr.
const QUIET: &[(&str, &str)] = &[("KARAJO_LOG", "warn"), ("KARAJOD_KILL_GRACE", "200ms")];
/// The note recovery appends (store::log::STOPPED_NOTE).
const STOPPED: &str = "!!! the daemon stopped during the run; marked failed at start-up";

/// What the test has seen of one job across rounds.
#[derive(Default)]
struct Book {
    /// The longest content seen of each counter's log.
    seen: BTreeMap<u64, String>,
    /// The highest counter seen by the end of the previous look.
    max_before: u64,
}

#[test]
fn kill_9_at_random_moments_loses_and_corrupts_nothing() {
    let seed: u64 = std::env::var("KARAJO_FAULT_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    });
    println!("fault seed: {seed} (KARAJO_FAULT_SEED={seed} replays it)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let started = Instant::now();
    let mark = marker("crash-kids");
    let tree = Tree::new(&format!("{CONF}{}", KIDS.replace("@MARKER@", &mark)));
    let modes = modes();
    let env = |round: usize| {
        let mut env = QUIET.to_vec();
        env.push(("KARAJOD_PROCESS_TRACKING", modes[round % modes.len()]));
        env
    };
    let mut books: HashMap<&str, Book> = JOBS.iter().map(|(id, _)| (*id, Book::default())).collect();
    let (mut running_at_kill, mut interrupted, mut orphans_at_kill) = (0, BTreeSet::new(), 0);
    for round in 0..ROUNDS {
        let mut d = Daemon::start_with(&tree, &env(round));
        assert_no_survivor(&tree, &mark, round);
        check_after_restart(&tree, &d, &mut books, round, &mut interrupted);
        let stop = Arc::new(AtomicBool::new(false));
        let firing = fire_runs(d.url.clone(), stop.clone());
        std::thread::sleep(Duration::from_millis(rng.random_range(0..400)));
        let before: Vec<_> = JOBS.iter().map(|(id, _)| (*id, logs_on_disk(&tree, id))).collect();
        nix::sys::signal::kill(d.pid(), nix::sys::signal::Signal::SIGKILL).unwrap();
        d.child.wait().unwrap();
        stop.store(true, Ordering::SeqCst);
        firing.join().expect("the trigger thread");
        orphans_at_kill += marked(&mark).len();
        for (id, logs) in before {
            running_at_kill += logs.values().filter(|(s, _)| s == "running").count();
            look(books.get_mut(id).unwrap(), id, &logs, round, "just before the kill");
        }
    }
    let d = Daemon::start_with(&tree, &env(ROUNDS));
    assert_no_survivor(&tree, &mark, ROUNDS);
    check_after_restart(&tree, &d, &mut books, ROUNDS, &mut interrupted);
    // The daemon goes on with the next counter.
    let c = client();
    let next = books["quick"].max_before + 1;
    assert_eq!(signed_action(&c, &d, "run", "quick").0, 200);
    let (status, text) = crate::harness::wait_run_end(&tree, "job", "quick", next, Duration::from_secs(20));
    assert_eq!(status, "success", "{text}");
    println!(
        "{ROUNDS} kills in {:?}: {running_at_kill} logs were running at a kill, {orphans_at_kill} escaped children alive \
         after a kill (0 survived a restart), {} marked failed at restart, counters reached {:?}",
        started.elapsed(),
        interrupted.len(),
        books.iter().map(|(id, b)| (*id, b.max_before)).collect::<BTreeMap<_, _>>()
    );
    assert!(
        running_at_kill >= ROUNDS / 2,
        "too few kills hit a running run ({running_at_kill}): the test lost its bite"
    );
    assert!(orphans_at_kill > 0, "no escaped child was alive at any kill: the survivor check lost its bite");
}

/// Right after a start, before any run: no process of an old run is left,
/// neither an escaped child of `kids` nor any command still in a job's
/// working directory.
fn assert_no_survivor(tree: &Tree, mark: &str, round: usize) {
    let left = marked(mark);
    let workdirs = tree.path("var/lib/karajo/job");
    let in_workdirs = processes_under(&workdirs);
    if !left.is_empty() || !in_workdirs.is_empty() {
        kill_marked(mark);
        kill_processes_under(&workdirs);
        panic!(
            "round {round}: processes of old runs survived the restart: marked {left:?}, in job folders {in_workdirs:?}"
        );
    }
}

/// Starts runs of every job over the webhook and the signed API until `stop`.
fn fire_runs(url: String, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let c = reqwest::blocking::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
        let mut n = 0u64;
        while !stop.load(Ordering::SeqCst) {
            n += 1;
            // Refusals (429 while one run is queued) and connection errors
            // (the daemon was just killed) are part of the game.
            let _ = match n % 4 {
                3 => {
                    let (body, sig) = crate::harness::signed_form(SECRET, "kids");
                    c.post(format!("{url}/karajo/api/job_exec/run"))
                        .header("X-Karajo-Sign", sig)
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .body(body)
                        .send()
                }
                0 => {
                    let body = format!("{{\"n\":{n}}}");
                    let sig = proto::sign::hmac_sha256_hex(SECRET.as_bytes(), body.as_bytes());
                    c.post(format!("{url}/karajo/api/job_exec/run/stream"))
                        .header("X-Karajo-Sign", sig)
                        .body(body)
                        .send()
                }
                k => {
                    let (body, sig) = crate::harness::signed_form(SECRET, if k == 1 { "multi" } else { "quick" });
                    c.post(format!("{url}/karajo/api/job_exec/run"))
                        .header("X-Karajo-Sign", sig)
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .body(body)
                        .send()
                }
            };
            std::thread::sleep(Duration::from_millis(3));
        }
    })
}

/// Checks a look at a job's logs against what was seen before: nothing
/// seen is lost or changed, and counters first seen now are new ones.
fn look(book: &mut Book, id: &str, logs: &BTreeMap<u64, (String, String)>, round: usize, when: &str) {
    let retention = JOBS.iter().find(|(j, _)| *j == id).unwrap().1;
    for (&counter, seen) in &book.seen {
        match logs.get(&counter) {
            Some((_, now)) => assert!(
                now.starts_with(seen.as_str()),
                "round {round}, {when}: {id}.{counter} lost or changed what it held:\nbefore: ...{}\nnow: ...{}",
                tail(seen),
                tail(now)
            ),
            None => {
                let newer = logs.keys().filter(|&&c| c > counter).count();
                assert!(
                    newer >= retention,
                    "round {round}, {when}: {id}.{counter} is gone with only {newer} newer logs (retention {retention})"
                );
            }
        }
    }
    for (&counter, (_, text)) in logs {
        if !book.seen.contains_key(&counter) {
            assert!(
                counter > book.max_before,
                "round {round}, {when}: {id}.{counter} appeared after counter {} was seen: a counter was reused",
                book.max_before
            );
        }
        // A run killed between creating its log and writing the first line
        // has only the restart note.
        let first = text.lines().next().unwrap_or("");
        assert!(
            text.is_empty()
                || first.ends_with(&format!("=== BEGIN #{counter} (trigger: manual)"))
                || first.ends_with(&format!("=== BEGIN #{counter} (trigger: http)"))
                || (first.ends_with(STOPPED) && text.lines().count() == 1),
            "round {round}, {when}: {id}.{counter} starts with {first:?}"
        );
        let e = book.seen.entry(counter).or_default();
        if text.len() > e.len() {
            *e = text.clone();
        }
    }
    book.max_before = book.max_before.max(logs.keys().copied().max().unwrap_or(0));
}

/// The history rows (SPEC 15) agree with the logs on disk: a row with
/// `log: true` for every log, of its status, and none for a log that is
/// gone; no row is left `running`; no log has a counter above the rows'.
fn assert_rows_agree(d: &Daemon, id: &str, disk: &[(u64, String)], round: usize) {
    let (code, body) = {
        let r = d.get(&format!("/karajo/api/job_exec/runs?id={id}&limit=1000"));
        (r.status().as_u16(), r.json::<serde_json::Value>().unwrap_or_default())
    };
    assert_eq!(code, 200, "round {round}: runs of {id}: {body}");
    let rows = body["data"].as_array().cloned().unwrap_or_default();
    let with_log: Vec<(u64, String)> = rows
        .iter()
        .filter(|r| r["log"] == true)
        .map(|r| (r["counter"].as_u64().unwrap(), r["status"].as_str().unwrap().to_string()))
        .rev()
        .collect();
    assert_eq!(with_log, disk, "round {round}: the history rows of {id} disagree with its logs");
    let running: Vec<&serde_json::Value> = rows.iter().filter(|r| r["status"] == "running").collect();
    assert!(running.is_empty(), "round {round}: rows of {id} left running: {running:?}");
    let top = rows.first().and_then(|r| r["counter"].as_u64()).unwrap_or(0);
    assert!(disk.last().is_none_or(|(c, _)| *c <= top), "round {round}: a log of {id} above the rows' counters");
}

/// After a restart: the logs against the book, no `.running` left, every
/// line prefixed, recovered runs ending with the note, the API agreeing
/// with the disk. Adds the runs that carry the "daemon stopped" note to `interrupted`.
fn check_after_restart(
    tree: &Tree,
    d: &Daemon,
    books: &mut HashMap<&str, Book>,
    round: usize,
    interrupted: &mut BTreeSet<(&'static str, u64)>,
) {
    for (id, _) in JOBS {
        let logs = logs_on_disk(tree, id);
        look(books.get_mut(id).unwrap(), id, &logs, round, "after the restart");
        for (counter, (status, text)) in &logs {
            let what = format!("round {round}: {id}.{counter}.{status}");
            assert_ne!(status, "running", "{what}: left running after the restart");
            assert_lines_prefixed(text, "job", id, true, &what);
            let last = text.lines().last().unwrap_or("");
            if last.ends_with(STOPPED) {
                interrupted.insert((id, *counter));
                assert_eq!(status, "failed", "{what}: interrupted but not failed");
                assert_eq!(text.matches(STOPPED).count(), 1, "{what}: the note twice");
            } else {
                // Every command here succeeds: a run that was not cut short is done.
                assert!(
                    last.ends_with("=== DONE"),
                    "{what}: ends with neither DONE nor the restart note:\n{}",
                    tail(text)
                );
                assert_eq!(status, "success", "{what}");
            }
        }
        // Nothing runs right after a restart (no timers here), so the API
        // must list exactly what is on disk.
        let (status, runs) = api_runs(d, id);
        let disk: Vec<(u64, String)> = logs.iter().map(|(c, (s, _))| (*c, s.clone())).collect();
        assert_eq!(runs, disk, "round {round}: the API's runs of {id} differ from the disk");
        let want = disk.last().map_or("started", |(_, s)| s.as_str());
        assert_eq!(status, want, "round {round}: the API's status of {id}");
        assert_rows_agree(d, id, &disk, round);
        if let Some((&counter, (status, text))) = logs.last_key_value() {
            let (api_status, content) = api_log(d, id, counter);
            assert_eq!(
                (&api_status, content.as_slice()),
                (status, text.as_bytes()),
                "round {round}: {id}.{counter} over the API"
            );
        }
    }
}
