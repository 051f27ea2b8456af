//! Schedules people already write (SPEC 16) against the real daemon: cron
//! expressions in zones, jitter in the Job JSON, `GET /upcoming` and its
//! access rule, and a seconds schedule that really fires every second.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;

use crate::api::get;
use crate::harness::{Daemon, Launch, Tree, client, find_log, signed_action, wait_for};

const CONF: &str = "[karajo]\nsecret = s3cret\ntimezone = Europe/Berlin\n\
[job \"minutely\"]\nschedule = * * * * *\ncommand = true\n\
[job \"nightly\"]\nschedule = 30 2 * * 1-5\njitter = 30s\ncommand = true\n\
[job \"kolkata\"]\nschedule = @hourly\ntimezone = Asia/Kolkata\ncommand = true\n\
[job \"manual\"]\ncommand = true\n\
[job.http \"ping\"]\nschedule = */30 * * * *\nhttp_url = /karajo/health\n";

fn upcoming(d: &Daemon, query: &str) -> (u16, Value) {
    get(d, &format!("/karajo/api/upcoming{query}"))
}

#[test]
fn upcoming_lists_the_timer_runs_of_the_next_hours_sorted_and_without_paused_jobs() {
    let tree = Tree::new(CONF);
    let d = Daemon::start(&tree);
    let (code, v) = upcoming(&d, "?hours=48");
    assert_eq!(code, 200, "{v}");
    let runs = v["data"].as_array().unwrap().clone();
    assert_eq!(runs.len(), 500, "the default limit cuts 48 h of a minutely job");
    let at: Vec<&str> = runs.iter().map(|r| r["at"].as_str().unwrap()).collect();
    assert!(at.windows(2).all(|w| w[0] <= w[1]), "sorted by at: {at:?}");
    for r in &runs {
        let keys: HashSet<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, HashSet::from(["kind", "id", "name", "at", "slot"]), "{r}");
        assert!(r["at"].as_str().unwrap().ends_with('Z') && r["slot"].as_str().unwrap().ends_with('Z'), "{r}");
    }
    // Paused jobs are left out. Four days hold a weekday 02:30 whatever day it is.
    assert_eq!(signed_action(&client(), &d, "s3cret", "pause", "minutely").0, 200);
    let (_, v) = upcoming(&d, "?hours=96&limit=5000");
    let runs = v["data"].as_array().unwrap().clone();
    let ids: HashSet<&str> = runs.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, HashSet::from(["nightly", "kolkata", "ping"]), "no paused job, no job without a timer");
    let ping = runs.iter().find(|r| r["id"] == "ping").unwrap();
    assert_eq!(ping["kind"], "job_http");
    // Jitter: the run starts after its slot, by less than 30 s; next_run is that start.
    let nightly: Vec<&Value> = runs.iter().filter(|r| r["id"] == "nightly").collect();
    assert!(!nightly.is_empty());
    for r in &nightly {
        let (at, slot) = (instant(&r["at"]), instant(&r["slot"]));
        assert!(at >= slot && at - slot < chrono::TimeDelta::seconds(30), "{r}");
        let local = slot.with_timezone(&chrono_tz::Europe::Berlin).format("%H:%M:%S").to_string();
        assert_eq!(local, "02:30:00", "the slot is 02:30 Berlin time: {r}");
    }
    let (_, job) = get(&d, "/karajo/api/job_exec?id=nightly");
    assert_eq!(job["data"]["next_run"], nightly[0]["at"], "{job}");
    // Bad parameters are a 400.
    for bad in ["?hours=0", "?hours=x", "?limit=0", "?limit=5001", "?hours=745"] {
        let (code, v) = upcoming(&d, bad);
        assert_eq!((code, v["name"].as_str()), (400, Some("ERR_BAD_REQUEST")), "{bad}: {v}");
    }
}

fn instant(v: &Value) -> chrono::DateTime<chrono::Utc> {
    v.as_str().unwrap().parse().unwrap()
}

#[test]
fn job_json_shows_timezone_jitter_and_cron_in_words() {
    let tree = Tree::new(CONF);
    let d = Daemon::start(&tree);
    let job = |id: &str| get(&d, &format!("/karajo/api/job_exec?id={id}")).1["data"].clone();
    let nightly = job("nightly");
    assert_eq!(nightly["timezone"], "Europe/Berlin", "[karajo] timezone is the default");
    assert_eq!(nightly["jitter"], 30_000_000_000i64, "durations are nanoseconds");
    assert_eq!(nightly["schedule"], "30 2 * * 1-5");
    assert_eq!(nightly["schedule_text"], "at 02:30 on Monday-Friday (Europe/Berlin)");
    assert!(nightly["next_run"].as_str().unwrap().ends_with('Z'), "next_run stays UTC: {nightly}");
    let kolkata = job("kolkata");
    assert_eq!((kolkata["timezone"].as_str(), kolkata["jitter"].as_i64()), (Some("Asia/Kolkata"), Some(0)));
    assert_eq!(kolkata["schedule_text"], "every hour at :00 (Asia/Kolkata)");
    let ping = get(&d, "/karajo/api/job_http?id=ping").1["data"].clone();
    assert_eq!((ping["timezone"].as_str(), ping["jitter"].as_i64()), (Some("Europe/Berlin"), Some(0)));
}

#[test]
fn upcoming_is_read_like_environment() {
    let tree = Tree::new(CONF);
    let hash = bcrypt::hash("pw", 4).unwrap();
    tree.write("etc/karajo/user.conf", &format!("[user \"alice\"]\npassword = {hash}\n"));
    let d = Daemon::start(&tree);
    let (env, _) = get(&d, "/karajo/api/environment");
    let (code, v) = upcoming(&d, "");
    assert_eq!((env, code), (401, 401), "{v}");
    let login = crate::auth::login(&d, "pw");
    let cookie = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let r = client().get(format!("{}/karajo/api/upcoming", d.url)).header("cookie", cookie).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[test]
fn a_seconds_schedule_runs_every_second() {
    let tree = Tree::new(
        "[karajo]\nsecret = s3cret\n[job \"tick\"]\nschedule = */1 * * * * *\ncommand = true\nlog_retention = 100\n",
    );
    let d = Daemon::start(&tree);
    wait_for(Duration::from_secs(15), "four runs of tick", || find_log(&tree, "job", "tick", 4).is_some());
    let (_, v) = get(&d, "/karajo/api/job_exec?id=tick");
    let next = instant(&v["data"]["next_run"]);
    assert_eq!(next.timestamp_subsec_nanos(), 0, "on a whole second: {v}");
    let from_now = next - chrono::Utc::now();
    assert!(from_now <= chrono::TimeDelta::milliseconds(1100), "at most a second ahead: {v}");
}

/// SPEC 23, timers that never wait: the timer worker runs at SCHED_FIFO 1
/// when the daemon may take it, and every job it starts is at the normal
/// policy. Where realtime is not allowed, the daemon says so and runs as before.
#[test]
fn the_timer_thread_is_realtime_and_the_jobs_it_starts_are_not() {
    // Can this machine give a thread realtime priority at all? (Root can.)
    let allowed = std::thread::spawn(karajod::priority::raise_this_thread).join().unwrap().is_ok();
    let tree = Tree::new(
        "[karajo]\nsecret = s3cret\n[job \"tick\"]\nschedule = */1 * * * * *\nlog_retention = 5\n\
         command = cut -d' ' -f40,41 /proc/$$/stat\n",
    );
    let (d, stderr) = Daemon::launch(&tree, &Launch::default());
    let (_, log) = crate::harness::wait_run_end(&tree, "job", "tick", 2, Duration::from_secs(10));
    let timers: Vec<(u32, u32)> = std::fs::read_dir(format!("/proc/{}/task", d.pid()))
        .unwrap()
        .map(|t| t.unwrap().path())
        .filter(|t| std::fs::read_to_string(t.join("comm")).unwrap_or_default().trim() == "karajod-timers")
        .map(|t| karajod::priority::thread_policy(&t).unwrap())
        .collect();
    let fifo = timers.iter().filter(|p| **p == (1, 1)).count();
    // The job's shell printed its own "rt_priority policy": 0 0 is SCHED_OTHER.
    assert!(log.lines().any(|l| l.ends_with(" 0 0")), "the job runs at the normal policy: {log}");
    if allowed {
        assert_eq!(fifo, 1, "one timer worker at SCHED_FIFO 1, its blocking threads normal: {timers:?}");
        assert!(stderr.text().contains("timers run at realtime priority"), "{}", stderr.text());
    } else {
        assert_eq!(fifo, 0, "{timers:?}");
        assert!(stderr.text().contains("timers run at normal priority"), "{}", stderr.text());
    }
}
