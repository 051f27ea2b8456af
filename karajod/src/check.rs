//! `karajod check`: a summary of a loaded configuration, with each timed
//! job's next run, for people to read before they (re)start the daemon.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use std::collections::BTreeMap;

use proto::{JobId, JobKind};

use crate::config::{Config, Diagnostic, Timer, duration};
use crate::store::history::{History, HistoryError, Location, RunQuery};

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

fn timer_words(timer: Option<&Timer>) -> String {
    match timer {
        Some(Timer::Schedule(s)) => s.describe(),
        Some(Timer::Interval(d)) => format!("every {}", duration::format(d.as_nanos() as i64)),
        None => "on demand only".into(),
    }
}

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string()).unwrap_or_else(|| "-".into())
}

/// The summary `karajod check` prints for a valid configuration.
pub fn summary(config: &Config, warnings: &[Diagnostic], now: DateTime<Utc>, last: &LastRuns) -> String {
    let mut out = String::new();
    let s = &config.server;
    let _ = writeln!(out, "server {:?}: listen {}, dir_base {}", s.name, s.listen_address, s.dir_base.display());
    let _ = writeln!(out, "jobs: {}", config.jobs.len());
    for j in &config.jobs {
        let hook = j.path.as_deref().map(|p| format!(", webhook {p} ({})", j.auth_kind.as_str())).unwrap_or_default();
        let leave = if j.leave_processes { "; leaves its processes running" } else { "" };
        let _ = writeln!(
            out,
            "  {:<24} {}{}; {} command(s){leave}; history_retention {}; next run {}",
            j.common.id.as_str(),
            timer_words(j.common.timer.as_ref()),
            hook,
            j.commands.len(),
            j.common.history_retention,
            when(next_run(j.common.timer.as_ref(), now, last.get(&(JobKind::Job, j.common.id.clone())).copied()))
        );
    }
    let _ = writeln!(out, "HTTP jobs: {}", config.http_jobs.len());
    for j in &config.http_jobs {
        let _ = writeln!(
            out,
            "  {:<24} {} {} {}; history_retention {}; next run {}",
            j.common.id.as_str(),
            j.http_method.as_str(),
            proto::redact::url(&j.http_url),
            timer_words(j.common.timer.as_ref()),
            j.common.history_retention,
            when(next_run(j.common.timer.as_ref(), now, last.get(&(JobKind::JobHttp, j.common.id.clone())).copied()))
        );
    }
    let users: Vec<&str> = config.users.iter().map(|u| u.name.as_str()).collect();
    let _ = writeln!(out, "users: {}{}", users.len(), list_suffix(&users));
    let notifs: Vec<&str> = config.notifs.keys().map(String::as_str).collect();
    let _ = writeln!(out, "notifications: {}{}", notifs.len(), list_suffix(&notifs));
    let _ = writeln!(out, "warnings: {}", warnings.len());
    out
}

fn list_suffix(names: &[&str]) -> String {
    if names.is_empty() { String::new() } else { format!(" ({})", names.join(", ")) }
}
