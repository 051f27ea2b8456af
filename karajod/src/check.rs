//! `karajod check`: a summary of a loaded configuration, with each timed
//! job's next run, for people to read before they (re)start the daemon.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use crate::config::{Config, Diagnostic, Timer, duration};

/// The next run of a timer after `now`, if it has one. Interval jobs
/// without history would run at once; this shows `now + interval`.
pub fn next_run(timer: Option<&Timer>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match timer? {
        Timer::Schedule(s) => Some(s.next_after(now)),
        Timer::Interval(d) => Some(now + chrono::TimeDelta::from_std(*d).ok()?),
    }
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
pub fn summary(config: &Config, warnings: &[Diagnostic], now: DateTime<Utc>) -> String {
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
            when(next_run(j.common.timer.as_ref(), now))
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
            when(next_run(j.common.timer.as_ref(), now))
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
