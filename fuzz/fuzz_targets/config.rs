//! The config loader on one main file (written to a tmpfs dir per run):
//! never panics; every error and warning about the file names it and a line
//! inside it; an accepted config upholds the invariants the engine relies on.
#![no_main]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::OnceLock;

use karajod::config::{self, Config, Timer};
use libfuzzer_sys::fuzz_target;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let d = DIR.get_or_init(|| {
        let base = scratch_base();
        tempfile::Builder::new().prefix("karajo-fuzz-config").tempdir_in(base).expect("a temp dir for the config")
    });
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| d.path().join("karajo.conf"))
}

fuzz_target!(|data: &[u8]| {
    let path = dir();
    std::fs::write(path, data).expect("write the config file");
    let lines = data.split(|&b| b == b'\n').count();
    let env = |k: &str| (k == "KARAJO_FUZZ_PASSWORD").then(|| "pw".to_string());
    match config::load_with_env(path, &env) {
        Err(errs) => {
            assert!(!errs.errors.is_empty(), "a failed load without errors");
            for d in &errs.errors {
                check_located(d, path, lines, std::str::from_utf8(data).is_ok());
            }
        }
        Ok(loaded) => {
            assert_eq!(loaded.files.first(), Some(path), "the main file is read first");
            for d in &loaded.warnings {
                check_located(d, path, lines, true);
            }
            check_config(&loaded.config, path);
        }
    }
});

fn check_located(d: &config::Diagnostic, path: &PathBuf, lines: usize, utf8: bool) {
    let shown = d.to_string();
    assert!(!d.message.is_empty(), "empty message: {shown}");
    if &d.file != path {
        return; // job.d/ or user.conf under a dir_base the input named
    }
    assert!(shown.starts_with(&path.display().to_string()), "does not name the file: {shown}");
    match d.line {
        Some(l) => assert!(l >= 1 && l <= lines, "line {l} outside 1..={lines}: {shown}"),
        None => assert!(!utf8, "no line in: {shown}"),
    }
}

fn check_config(c: &Config, path: &PathBuf) {
    let mut ids = BTreeSet::new();
    let mut paths = BTreeSet::new();
    for j in &c.jobs {
        let cm = &j.common;
        assert!(ids.insert(cm.id.clone()), "duplicate job ID {}", cm.id);
        assert_eq!(cm.id, proto::JobId::from_name(&cm.name), "the ID of {:?}", cm.name);
        assert!(!cm.name.trim().is_empty(), "a job without a name");
        assert!(!j.commands.is_empty(), "job {} has no commands", cm.id);
        assert!(j.commands.iter().all(|c| !c.trim().is_empty()), "job {} has an empty command", cm.id);
        if let Some(p) = &j.path {
            assert!(p.starts_with('/') && !p.contains("//") && !p.ends_with('/'), "webhook path {p:?}");
            assert!(paths.insert(p.clone()), "duplicate webhook path {p:?}");
        }
        assert!(j.timeout.is_none_or(|t| !t.is_zero()), "job {} has a zero timeout", cm.id);
        assert!(j.exec.env.iter().all(|v| !v.name.is_empty() && !v.name.starts_with("KARAJO_")), "job {} env", cm.id);
        check_timer(cm.timer.as_ref(), &cm.id);
        for n in cm.notif_on_success.iter().chain(&cm.notif_on_failed) {
            // E-mail and webhook notifications (SPEC 18) share the names.
            let known = c.notifs.contains_key(n) || c.webhooks.contains_key(n);
            assert!(known, "job {} names unknown notification {n:?}", cm.id);
        }
        assert_eq!(&cm.origin.file, path);
    }
    let mut ids = BTreeSet::new();
    for j in &c.http_jobs {
        let cm = &j.common;
        assert!(ids.insert(cm.id.clone()), "duplicate HTTP job ID {}", cm.id);
        assert_eq!(cm.id, proto::JobId::from_name(&cm.name), "the ID of {:?}", cm.name);
        let url = &j.http_url;
        let ok = (url.starts_with('/') && !url.starts_with("//"))
            || url.starts_with("http://")
            || url.starts_with("https://");
        assert!(ok, "HTTP job {} has URL {url:?}", cm.id);
        check_timer(cm.timer.as_ref(), &cm.id);
        for h in &j.http_headers {
            assert!(!h.name.is_empty() && !h.value.contains(['\r', '\n']), "header {:?}: {:?}", h.name, h.value);
        }
    }
    let s = &c.server;
    assert!(!s.secret.is_empty(), "an empty global secret");
    assert!(s.max_job_running >= 1, "max_job_running {}", s.max_job_running);
    assert!(!s.http_timeout.is_zero(), "a zero http_timeout");
}

fn check_timer(t: Option<&Timer>, id: &proto::JobId) {
    if let Some(Timer::Interval(d)) = t {
        assert!(*d >= std::time::Duration::from_secs(60), "job {id} has interval {d:?}");
    }
}

/// `$KARAJO_FUZZ_DIR` (fuzz/run.sh points it at a dir it removes at the end:
/// statics are never dropped, so the temp dir outlives the process), else
/// /dev/shm (tmpfs), else the temp dir.
fn scratch_base() -> std::path::PathBuf {
    if let Some(d) = std::env::var_os("KARAJO_FUZZ_DIR") {
        return d.into();
    }
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() }
}
