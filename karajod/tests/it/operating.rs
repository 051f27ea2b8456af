//! Operating karajod (SPEC 22) against the real daemon: `/status` counts,
//! `schedule_text`, metrics labels, the daemon's own log on a pipe and in
//! a real journald, and the exit code of a refused config.

use std::time::Duration;

use serde_json::Value;

use crate::api::{get, post};
use crate::harness::{Daemon, Launch, Tree, run_karajod, signed_form, wait_for};

const CONF: &str = "[karajo]\nsecret = s3cret\nmetrics_token = mtok\nmax_job_running = 1\n\
[job \"alpha\"]\npath = /alpha\ncommand = echo hello\n\
[job \"slow\"]\ncommand = sleep 30\n\
[job \"nightly\"]\nschedule = daily@06:00,18:00\ncommand = true\n\
[job.http \"ping\"]\ninterval = 5m\nhttp_url = /karajo/health\n";

pub fn run_now(d: &Daemon, id: &str) -> u16 {
    let (body, sig) = signed_form("s3cret", id);
    let form = [("Content-Type", "application/x-www-form-urlencoded"), ("X-Karajo-Sign", sig.as_str())];
    post(d, "/karajo/api/job_exec/run", &form, body.into_bytes()).0
}

fn status(d: &Daemon) -> Value {
    let (code, v) = get(d, "/karajo/api/status");
    assert_eq!(code, 200, "{v}");
    v["data"].clone()
}

#[test]
fn status_counts_jobs_and_the_runs_of_the_moment() {
    // Without the interval job, which would run at once (it never ran).
    let tree = Tree::new(CONF.split("[job.http").next().unwrap());
    let d = Daemon::start(&tree);
    let s = status(&d);
    assert_eq!(s["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(s["config_file"], tree.config().display().to_string());
    assert_eq!(s["cluster"], "none");
    assert!(s["uptime_seconds"].as_u64().is_some() && s["started_at"].as_str().is_some(), "{s}");
    assert_eq!(s["jobs"]["started"], 3, "{s}");
    assert_eq!(s["runs"], serde_json::json!({"active": 0, "waiting": 0, "queued": 0}));
    // One slot: slow runs, a second trigger of it queues, alpha waits for the slot.
    assert_eq!(run_now(&d, "slow"), 200);
    wait_for(Duration::from_secs(10), "slow to run", || status(&d)["runs"]["active"] == 1);
    assert_eq!(run_now(&d, "slow"), 200);
    assert_eq!(run_now(&d, "alpha"), 200);
    let s = status(&d);
    assert_eq!(s["runs"], serde_json::json!({"active": 1, "waiting": 1, "queued": 1}), "{s}");
    assert!(s["http_jobs"].as_object().is_some_and(|m| m.is_empty()), "{s}");
    assert_eq!(s["jobs"]["running"], 1, "{s}");
}

#[test]
fn job_json_says_when_it_runs_in_words() {
    let tree = Tree::new(CONF);
    let d = Daemon::start(&tree);
    let text = |path: &str| get(&d, path).1["data"]["schedule_text"].clone();
    assert_eq!(text("/karajo/api/job_exec?id=nightly"), "every day at 06:00, 18:00");
    assert_eq!(text("/karajo/api/job_exec?id=alpha"), "on webhook");
    assert_eq!(text("/karajo/api/job_exec?id=slow"), "by hand only");
    assert_eq!(text("/karajo/api/job_http?id=ping"), "every 5 minutes");
    // The old keys stay as they were.
    let job = get(&d, "/karajo/api/job_exec?id=nightly").1;
    assert_eq!(job["data"]["schedule"], "daily@06:00,18:00");
}

#[test]
fn metrics_label_jobs_by_job_id_with_last_success_build_and_process() {
    let tree = Tree::new(CONF);
    let d = Daemon::start(&tree);
    assert_eq!(run_now(&d, "alpha"), 200);
    let metrics = || {
        let r = crate::harness::client().get(format!("{}/karajo/metrics", d.url)).bearer_auth("mtok").send().unwrap();
        assert_eq!(r.status(), 200);
        r.text().unwrap()
    };
    let mut text = String::new();
    wait_for(Duration::from_secs(10), "alpha's run in the metrics", || {
        text = metrics();
        text.contains("karajo_runs_total{job_id=\"alpha\",kind=\"job\",status=\"success\"} 1")
    });
    assert!(text.contains("karajo_job_last_success_timestamp_seconds{job_id=\"alpha\",kind=\"job\"} "), "{text}");
    assert!(text.contains(&format!("karajo_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"))));
    assert!(text.contains("process_resident_memory_bytes "), "{text}");
    assert!(!text.contains(",job=\"") && !text.contains("{job=\""), "no `job` label: {text}");
}

#[test]
fn the_log_on_a_pipe_has_no_colour_codes() {
    let tree = Tree::new("[karajo]\nsecret = x\n[job \"broken\"]\ninterval = 1m\ncommand = false\n");
    let (_d, stderr) = Daemon::launch(&tree, &Launch::default());
    wait_for(Duration::from_secs(15), "the failed run in the log", || stderr.text().contains("run ended"));
    let text = stderr.text();
    assert!(!text.contains('\x1b'), "ANSI codes on a pipe: {text:?}");
    assert!(text.contains("WARN"), "a failed run is a warning: {text}");
}

#[test]
fn a_refused_config_stops_the_daemon_with_the_config_exit_code() {
    let tree = Tree::new("[karajo]\nsecret = x\n[job \"a\"]\nschedule = hourly@61\ncommand = true\n");
    let out = run_karajod(&["--config", tree.config().to_str().unwrap()], tree.base());
    assert_eq!(out.status.code(), Some(78), "{}", String::from_utf8_lossy(&out.stderr));
    let check = run_karajod(&["check", "--config", tree.config().to_str().unwrap()], tree.base());
    assert_eq!(check.status.code(), Some(1));
}

/// Runs karajod under a real systemd-journald in a private mount
/// namespace (tmpfs over /run and the journal's directory, so nothing of
/// the host's is touched), with stderr a file that `JOURNAL_STREAM` names, as
/// systemd does. Returns the journal's entries of karajod as JSON.
fn journal_of_a_failing_run(tree: &Tree) -> Option<Vec<Value>> {
    let journald = ["/lib/systemd/systemd-journald", "/usr/lib/systemd/systemd-journald"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())?;
    let tools = ["unshare", "journalctl", "stat"].iter().all(|t| {
        std::process::Command::new("sh")
            .args(["-c", &format!("command -v {t}")])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !tools || !nix::unistd::Uid::effective().is_root() {
        return None;
    }
    let script = r#"
set -e
# A fresh /run: journald makes its sockets and /run/log/journal in it.
mount -t tmpfs tmpfs /run
if [ -d /var/log/journal ]; then mount -t tmpfs tmpfs /var/log/journal; fi
mkdir -p /run/systemd/journal
"$JOURNALD" & jpid=$!
trap 'kill $kpid $jpid 2>/dev/null || true' EXIT
for i in $(seq 200); do [ -S /run/systemd/journal/socket ] && break; sleep 0.05; done
: > "$ERR"
JOURNAL_STREAM="$(stat -c '%d:%i' "$ERR")" "$KARAJOD" --config "$CONF" 2>>"$ERR" >/dev/null & kpid=$!
for i in $(seq 400); do
  if journalctl --no-pager -o json SYSLOG_IDENTIFIER=karajod JOB_ID=broken 2>/dev/null | grep -q 'run ended'; then
    journalctl --no-pager -o json SYSLOG_IDENTIFIER=karajod
    exit 0
  fi
  sleep 0.05
done
echo "no run in the journal" >&2
exit 1
"#;
    let err = tree.path("stderr.txt");
    let out = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", script])
        .env("JOURNALD", journald)
        .env("KARAJOD", crate::harness::BIN)
        .env("CONF", tree.config())
        .env("ERR", &err)
        .output()
        .expect("unshare");
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    assert!(out.status.success(), "{}\nkarajod's stderr: {stderr}", String::from_utf8_lossy(&out.stderr));
    assert!(!stderr.contains("run ended"), "the run went to stderr, not the journal: {stderr}");
    let text = String::from_utf8_lossy(&out.stdout);
    Some(text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect())
}

#[test]
fn under_systemd_the_log_goes_to_journald_with_priorities_and_job_fields() {
    let tree = Tree::new("[karajo]\nsecret = x\n[job \"broken\"]\ninterval = 1m\ncommand = false\n");
    let Some(entries) = journal_of_a_failing_run(&tree) else {
        assert!(std::env::var_os("CI").is_none(), "journald test needs root, unshare and systemd-journald");
        println!("SKIPPED: journald test needs root, unshare and systemd-journald");
        return;
    };
    let ended = entries
        .iter()
        .find(|e| e["MESSAGE"] == "run ended" && e["JOB_ID"] == "broken")
        .unwrap_or_else(|| panic!("no run in {entries:?}"));
    assert_eq!(ended["RUN_COUNTER"], "1", "{ended}");
    assert_eq!(ended["PRIORITY"], "4", "a failed run is a warning: {ended}");
    assert_eq!(ended["STATUS"], "failed", "{ended}");
    let info = entries.iter().find(|e| e["PRIORITY"] == "5");
    assert!(info.is_some(), "info lines are notices: {entries:?}");
}

#[test]
fn the_man_page_lists_every_config_key() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let man = std::fs::read_to_string(root.join("../packaging/karajo.conf.5")).unwrap();
    let listed: std::collections::HashSet<&str> = man.lines().filter_map(|l| l.strip_prefix(".B ")).collect();
    // Every key the loader reads is a literal in a `Fields` call.
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(root.join("src/config")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for call in [".string(\"", ".list(\"", ".bool(\"", ".duration(\"", ".int(\"", ".last(\""] {
            for rest in text.split(call).skip(1) {
                let key = rest.split('"').next().unwrap();
                if !listed.contains(key) {
                    missing.push(key.to_string());
                }
            }
        }
    }
    for key in ["notif_on_success", "notif_on_failed"] {
        if !listed.contains(key) {
            missing.push(key.into());
        }
    }
    assert!(missing.is_empty(), "keys missing from packaging/karajo.conf.5: {missing:?}");
}
