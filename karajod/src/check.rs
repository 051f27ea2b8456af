//! `karajod check`: a summary of a loaded configuration, with each timed
//! job's next run, zone and jitter, and the DST changes of the next 366
//! days that move a scheduled run, for people to read before they
//! (re)start the daemon; `--next N` lists each job's next N runs.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::{DateTime, TimeDelta, Utc};
use proto::{JobId, JobKind};

use crate::config::{Config, Diagnostic, JobCommon, Timer, duration};
use crate::schedule::Change;
use crate::store::history::{History, HistoryError, Location, RunQuery};

/// How far ahead DST changes are looked for.
const DST_HORIZON: TimeDelta = TimeDelta::days(366);

/// The start of each job's last run, from the history (SPEC 15).
pub type LastRuns = BTreeMap<(JobKind, JobId), DateTime<Utc>>;

/// The next run of a timer, as the daemon computes it: an interval job
/// runs `interval` after its last run's start (at once when it never ran
/// or is overdue), a schedule at its first slot after `now`.
pub fn next_run(timer: Option<&Timer>, now: DateTime<Utc>, last_run: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    Some(crate::engine::next_due(timer?, now, last_run, None))
}

/// Every job's last run start, read from the history without locking it
/// (the daemon may be running); empty when the database does not exist yet.
pub async fn last_runs(config: &Config, loc: &Location) -> Result<LastRuns, HistoryError> {
    let mut out = LastRuns::new();
    let Some(h) = History::open_read_only(loc).await? else { return Ok(out) };
    let jobs = config.jobs.iter().map(|j| (JobKind::Job, &j.common.id));
    for (kind, id) in jobs.chain(config.http_jobs.iter().map(|j| (JobKind::JobHttp, &j.common.id))) {
        let runs = h.runs(&RunQuery { kind, job_id: id, limit: 1, before: None, status: None }).await?;
        if let Some(t) = runs.first().and_then(|r| r.started_at) {
            out.insert((kind, id.clone()), t);
        }
    }
    h.close().await;
    Ok(out)
}

/// The zone is said apart, by [`zone_and_jitter`].
fn timer_words(timer: Option<&Timer>) -> String {
    match timer {
        Some(Timer::Schedule(s)) => s.calendar().to_string(),
        Some(Timer::Interval(d)) => format!("every {}", duration::format(d.as_nanos() as i64)),
        None => "on demand only".into(),
    }
}

/// "; timezone Europe/Berlin; jitter 30s" for a timed job (no zone for
/// an interval: it does not read a clock face).
fn zone_and_jitter(c: &JobCommon) -> String {
    let mut out = match &c.timer {
        None => return String::new(),
        Some(Timer::Schedule(s)) => format!("; timezone {}", s.zone().name()),
        Some(Timer::Interval(_)) => String::new(),
    };
    if !c.jitter.is_zero() {
        let _ = write!(out, "; jitter {}", duration::format(c.jitter.as_nanos() as i64));
    }
    out
}

/// "; retry 3 (10s x2 up to 10m0s, on 1,75); catch_up all within 24h0m0s" when
/// either differs from SPEC 4's behaviour.
fn recovery_words(c: &JobCommon) -> String {
    let mut out = String::new();
    let r = &c.retry;
    if r.times > 0 {
        let d = |d: std::time::Duration| duration::format(d.as_nanos() as i64);
        let on = if r.on.is_empty() { "any failure".to_string() } else { r.on_text() };
        let _ = write!(out, "; retry {} ({} x{} up to {}, on {on})", r.times, d(r.delay), r.backoff, d(r.max_delay));
    }
    if c.catch_up.explicit {
        let w = duration::format(c.catch_up.window.as_nanos() as i64);
        let _ = write!(out, "; catch_up {} within {w}", c.catch_up.mode.as_str());
    }
    out
}

/// [`next_run`] with the job's jitter.
fn next_due(c: &JobCommon, now: DateTime<Utc>, last_run: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    next_run(c.timer.as_ref(), now, last_run)
        .map(|slot| crate::schedule::jitter::delayed(c.id.as_str(), slot, c.jitter))
}

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string()).unwrap_or_else(|| "-".into())
}

/// The summary `karajod check` prints for a valid configuration.
pub fn summary(config: &Config, warnings: &[Diagnostic], now: DateTime<Utc>, last: &LastRuns) -> String {
    let mut out = String::new();
    let s = &config.server;
    let _ = writeln!(out, "server {:?}: listen {}, dir_base {}", s.name, s.listen_address, s.dir_base.display());
    let classic = if s.classic_signatures { "accepted" } else { "refused" };
    let _ = writeln!(out, "classic signatures (X-Karajo-Sign): {classic}");
    if let Some(t) = &s.tls {
        let _ = writeln!(out, "TLS: certificate {}, key {}", t.cert.display(), t.key.display());
    }
    let _ = writeln!(out, "jobs: {}", config.jobs.len());
    for j in &config.jobs {
        let hook = j.path.as_deref().map(|p| format!(", webhook {p} ({})", j.auth_kind.as_str())).unwrap_or_default();
        let leave = if j.leave_processes { "; leaves its processes running" } else { "" };
        let exec = format!("{}{}{}", overlap_words(j.common.overlap), recovery_words(&j.common), exec_words(&j.exec));
        let _ = writeln!(
            out,
            "  {:<24} {}{}{}; {} command(s){leave}{exec}; history_retention {}{}; next run {}",
            j.common.id.as_str(),
            timer_words(j.common.timer.as_ref()),
            zone_and_jitter(&j.common),
            hook,
            j.commands.len(),
            j.common.history_retention,
            alert_words(&j.common),
            when(next_due(&j.common, now, last.get(&(JobKind::Job, j.common.id.clone())).copied()))
        );
    }
    let _ = writeln!(out, "HTTP jobs: {}", config.http_jobs.len());
    for j in &config.http_jobs {
        let _ = writeln!(
            out,
            "  {:<24} {} {} {}{}{}{}; history_retention {}{}; next run {}",
            j.common.id.as_str(),
            j.http_method.as_str(),
            proto::redact::url(&j.http_url),
            timer_words(j.common.timer.as_ref()),
            zone_and_jitter(&j.common),
            overlap_words(j.common.overlap),
            recovery_words(&j.common),
            j.common.history_retention,
            alert_words(&j.common),
            when(next_due(&j.common, now, last.get(&(JobKind::JobHttp, j.common.id.clone())).copied()))
        );
    }
    let users: Vec<&str> = config.users.iter().map(|u| u.name.as_str()).collect();
    let _ = writeln!(out, "users: {}{}", users.len(), list_suffix(&users));
    for u in &config.users {
        let _ = writeln!(out, "  {:<24} role {}", u.name, u.role);
    }
    let _ = writeln!(out, "tokens: {}", config.tokens.len());
    for t in &config.tokens {
        let jobs = if t.jobs.is_empty() { "all jobs".to_string() } else { format!("jobs {}", t.jobs.join(",")) };
        let _ = writeln!(out, "  {:<24} role {}, {}; hash {}", t.name, t.role, jobs, t.hash_prefix());
    }
    out.push_str(&notif_lines(config));
    let _ = writeln!(out, "checks: {}", config.checks.len());
    for c in &config.checks {
        let expects = match &c.timer {
            crate::config::CheckTimer::Period(_) => format!("period {}", c.timer_text),
            crate::config::CheckTimer::Schedule(_) => format!("schedule {} ({})", c.timer_text, c.timezone.name()),
        };
        let grace = duration::format(c.grace.as_nanos() as i64);
        let names =
            |key: &str, n: &[String]| if n.is_empty() { String::new() } else { format!("; {key} {}", n.join(",")) };
        let (down, up) = (names("notif_on_down", &c.notif_on_down), names("notif_on_up", &c.notif_on_up));
        let _ = writeln!(out, "  {:<24} {expects}, grace {grace}{down}{up}; pinged at /karajo/ping/KEY", c.id.as_str());
    }
    let _ = writeln!(out, "warnings: {}", warnings.len());
    let dst = dst_warnings(config, now);
    let _ = writeln!(out, "DST changes that move a scheduled run in the next 366 days: {}", dst.len());
    for line in dst {
        let _ = writeln!(out, "  warning: {line}");
    }
    out
}

/// "notifications: N (names)" and one line per notification: its kind and
/// where it goes (never a password or secret, only whether one is set).
fn notif_lines(config: &Config) -> String {
    let mut out = String::new();
    let names: Vec<&str> = config.notifs.keys().chain(config.webhooks.keys()).map(String::as_str).collect();
    let _ = writeln!(out, "notifications: {}{}", names.len(), list_suffix(&names));
    for (name, n) in &config.notifs {
        let auth = if n.smtp_user.is_some() { ", with AUTH" } else { "" };
        let _ =
            writeln!(out, "  {name:<24} email via {:?}://{}:{}{auth} to {}", n.scheme, n.host, n.port, n.to.join(", "));
    }
    for (name, w) in &config.webhooks {
        let signed = if w.secret.is_some() { ", signed" } else { "" };
        let _ = writeln!(
            out,
            "  {name:<24} webhook {} {} format {}, timeout {}{signed}",
            w.method.as_str(),
            proto::redact::url(&w.url),
            w.format.as_str(),
            duration::format(w.timeout.as_nanos() as i64)
        );
    }
    out
}

/// "; notif_on_failed ops; late_after 1m; ping_url https://..." for the
/// alert keys a job sets (SPEC 10 and 18); empty when it sets none.
fn alert_words(c: &JobCommon) -> String {
    let a = &c.alerts;
    let mut out = String::new();
    let events = [
        ("success", &c.notif_on_success),
        ("failed", &c.notif_on_failed),
        ("recovered", &a.notif_on_recovered),
        ("missed", &a.notif_on_missed),
        ("late", &a.notif_on_late),
        ("long_running", &a.notif_on_long_running),
    ];
    for (event, names) in events.iter().filter(|(_, n)| !n.is_empty()) {
        let _ = write!(out, "; notif_on_{event} {}", names.join(","));
    }
    if !a.notif_on_late.is_empty() {
        let _ = write!(out, "; late_after {}", duration::format(a.late_after.as_nanos() as i64));
    }
    if let Some(max) = a.max_duration {
        let _ = write!(out, "; max_duration {}", duration::format(max.as_nanos() as i64));
    }
    if let Some(url) = &a.ping_url {
        let _ = write!(out, "; ping_url {}", proto::redact::url(url));
    }
    out
}

/// Every job of both kinds, with its kind's word.
fn all_jobs(config: &Config) -> impl Iterator<Item = (&'static str, &JobCommon)> {
    let jobs = config.jobs.iter().map(|j| ("job", &j.common));
    jobs.chain(config.http_jobs.iter().map(|j| ("job.http", &j.common)))
}

/// One line per (schedule, DST change) that moves one of its runs.
pub fn dst_warnings(config: &Config, now: DateTime<Utc>) -> Vec<String> {
    let mut out = Vec::new();
    for (kind, c) in all_jobs(config) {
        let Some(Timer::Schedule(s)) = &c.timer else { continue };
        for change in s.dst_changes(now, now + DST_HORIZON) {
            out.push(format!("[{kind} \"{}\"] schedule {s}: {}", c.name, dst_words(&change, c)));
        }
    }
    out
}

fn dst_words(change: &Change, c: &JobCommon) -> String {
    let (start, end) = change.range();
    let (day, from, to) = (start.format("%Y-%m-%d"), start.format("%H:%M"), end.format("%H:%M"));
    let zone = c.timezone.name();
    if change.is_gap() {
        format!("on {day} {zone} skips {from}-{to}; runs due then start once, at {to}")
    } else {
        format!("on {day} {zone} shows {from}-{to} twice; runs due then start once, at the first")
    }
}

/// `karajod check --next N`: each timed job's next `n` runs, in its zone
/// and in UTC (with jitter), from the same slots the daemon and
/// `/upcoming` use.
pub fn next_runs(config: &Config, now: DateTime<Utc>, n: usize, last: &LastRuns) -> String {
    let mut out = String::new();
    for (kind, c) in all_jobs(config) {
        let Some(timer) = &c.timer else { continue };
        let _ = writeln!(out, "[{kind} \"{}\"] {}{}", c.name, timer_words(Some(timer)), zone_and_jitter(c));
        let key = (if kind == "job" { JobKind::Job } else { JobKind::JobHttp }, c.id.clone());
        for slot in crate::engine::slots(timer, now, last.get(&key).copied()).take(n) {
            let at = crate::schedule::jitter::delayed(c.id.as_str(), slot, c.jitter);
            let local = at.with_timezone(&c.timezone).format("%Y-%m-%d %H:%M:%S %Z");
            let _ = writeln!(out, "  {local}  ({})", at.format("%Y-%m-%d %H:%M:%S UTC"));
        }
    }
    out
}

/// `; overlap skip` when not SPEC 4's one-queued default.
fn overlap_words(o: crate::config::Overlap) -> String {
    match o {
        crate::config::Overlap::Queue(1) => String::new(),
        crate::config::Overlap::Queue(n) => format!("; overlap queue of {n}"),
        other => format!("; overlap {}", other.as_str()),
    }
}

/// `; as nobody:nogroup in /srv/x; env A, B` (names only, never values).
fn exec_words(e: &crate::config::Exec) -> String {
    let mut out = String::new();
    if let Some(r) = &e.run_as {
        let _ = write!(out, "; as {}:{}", r.user, r.group);
    }
    if let Some(d) = &e.dir {
        let _ = write!(out, "; in {}", d.display());
    }
    let names = e.env_names();
    if !names.is_empty() {
        let _ = write!(out, "; env {}", names.join(", "));
    }
    out
}

fn list_suffix(names: &[&str]) -> String {
    if names.is_empty() { String::new() } else { format!(" ({})", names.join(", ")) }
}
