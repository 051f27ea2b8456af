//! The human views: `job show` / `http show` details, `env` and `status`
//! (the `list` table is in [`super::table`]). Pure: data and a [`Style`]
//! in, text out.
//!
//! Invariant: the same data always renders the same text.

use proto::{Environment, Job, JobBase, JobHttp, JobLog, JobStatus};

use super::Style;
use super::schedule::trigger;
use super::time::{duration, span, when};

/// How many recent runs `show` lists.
const RECENT_RUNS: usize = 5;

/// `karajoctl job show ID`.
pub fn job(j: &Job, style: &Style) -> String {
    let b = &j.base;
    let mut kv = Fields::default();
    head(&mut kv, "job", b, style);
    kv.add("runs", &trigger(&b.schedule_text, &b.schedule, b.interval, &j.path));
    kv.add_nonempty("webhook", &j.path);
    if !j.path.is_empty() {
        kv.add("auth", &format!("{} (header {})", j.auth_kind, b.header_sign));
    }
    times(&mut kv, b, style);
    kv.add("commands", &j.commands.join("\n"));
    kv.add_nonempty("env", &j.env_names.join(", "));
    kv.add_nonempty("env file", &j.env_file);
    kv.add_nonempty("dir", &j.dir);
    if !j.user.is_empty() {
        kv.add("runs as", &format!("{}:{}", j.user, j.group));
    }
    tail(&mut kv, b, style);
    kv.render()
}

/// `karajoctl http show ID`.
pub fn job_http(h: &JobHttp, style: &Style) -> String {
    let b = &h.base;
    let mut kv = Fields::default();
    head(&mut kv, "http job", b, style);
    kv.add("runs", &trigger(&b.schedule_text, &b.schedule, b.interval, ""));
    let kind = if h.http_request_type.is_empty() { "query" } else { &h.http_request_type };
    kv.add("request", &format!("{} {} ({kind}, signature in {})", h.http_method, h.http_url, b.header_sign));
    kv.add_nonempty("headers", &h.http_headers.join("\n"));
    let timeout = if h.http_timeout < 0 { "none".to_string() } else { duration(h.http_timeout) };
    kv.add("timeout", &timeout);
    if h.http_insecure {
        kv.add("tls", "insecure (unknown CAs accepted)");
    }
    times(&mut kv, b, style);
    tail(&mut kv, b, style);
    kv.render()
}

/// The first lines of both kinds: identity and status.
fn head(kv: &mut Fields, label: &str, b: &JobBase, style: &Style) {
    kv.add(label, b.id.as_str());
    kv.add("name", &b.name);
    kv.add("status", &style.status(b.status));
    kv.add_nonempty("description", &plain_text(&b.description));
}

/// Last and next run; for a schedule its zone, and the jitter (SPEC 16;
/// older daemons send neither).
fn times(kv: &mut Fields, b: &JobBase, style: &Style) {
    if !b.schedule.is_empty() {
        kv.add_nonempty("timezone", &b.timezone);
    }
    if b.jitter > 0 {
        kv.add("jitter", &format!("up to {} after each slot", duration(b.jitter)));
    }
    kv.add("last run", &when(b.last_run, style.now, "never"));
    kv.add("next run", &when(b.next_run, style.now, "-"));
    recovery(kv, b);
}

/// Overlap, retries and catch-up (SPEC 17), each only when it is not the
/// default (older daemons send none of them).
fn recovery(kv: &mut Fields, b: &JobBase) {
    if b.overlap != "queue" || b.queue_size != 1 {
        let size = if b.overlap == "queue" { format!(" (up to {} waiting)", b.queue_size) } else { String::new() };
        kv.add("while running", &format!("{}{size}", b.overlap));
    }
    if b.retry > 0 {
        let on = if b.retry_on.is_empty() { "any failure" } else { &b.retry_on };
        let waits = format!("{} x{} up to {}", duration(b.retry_delay), b.retry_backoff, duration(b.retry_max_delay));
        kv.add("retry", &format!("{} times, waiting {waits}, on {on}", b.retry));
    }
    let default = if b.interval > 0 { "latest" } else { "none" };
    let timed = b.interval > 0 || !b.schedule.is_empty();
    if timed && !b.catch_up.is_empty() && b.catch_up != default {
        kv.add("catch up", &format!("{} within {}", b.catch_up, duration(b.catch_up_window)));
    }
}

/// The last lines of both kinds: retention, notifications, recent runs.
fn tail(kv: &mut Fields, b: &JobBase, style: &Style) {
    kv.add("log retention", &format!("{} runs", b.log_retention));
    kv.add_nonempty("notify success", &b.notif_on_success.join(", "));
    kv.add_nonempty("notify failure", &b.notif_on_failed.join(", "));
    let mut recent: Vec<&JobLog> = b.logs.iter().collect();
    recent.sort_by_key(|l| std::cmp::Reverse(l.counter));
    let runs: Vec<String> =
        recent.iter().take(RECENT_RUNS).map(|l| format!("#{} {}", l.counter, style.status(l.status))).collect();
    let runs = if runs.is_empty() { "none".to_string() } else { runs.join(", ") };
    kv.add("recent runs", &runs);
}

/// `karajoctl env`.
pub fn env(e: &Environment) -> String {
    let mut kv = Fields::default();
    kv.add("name", &e.name);
    kv.add("version", &e.version);
    kv.add("listen address", &e.listen_address);
    kv.add("dir_base", &e.dir_base);
    kv.add_nonempty("dir_public", &e.dir_public);
    kv.add("http timeout", &duration(e.http_timeout));
    kv.add("max job running", &e.max_job_running.to_string());
    kv.add("development", if e.is_development { "yes" } else { "no" });
    let count = |s: JobStatus| {
        e.jobs.values().filter(|j| j.base.status == s).count()
            + e.http_jobs.values().filter(|j| j.base.status == s).count()
    };
    kv.add("jobs", &e.jobs.len().to_string());
    kv.add("http jobs", &e.http_jobs.len().to_string());
    kv.add("running", &count(JobStatus::Running).to_string());
    kv.add("paused", &count(JobStatus::Paused).to_string());
    kv.render()
}

/// `karajoctl status`.
pub fn status(s: &proto::Status) -> String {
    let mut kv = Fields::default();
    kv.add("name", &s.name);
    kv.add("version", &s.version);
    kv.add("up", &format!("{} (since {} UTC)", span(s.uptime_seconds), super::time::exact(s.started_at)));
    let config = if s.config_file.is_empty() { "none (configured by code)" } else { &s.config_file };
    kv.add("config file", config);
    kv.add("jobs", &by_status(&s.jobs));
    kv.add("http jobs", &by_status(&s.http_jobs));
    let r = &s.runs;
    kv.add("runs", &format!("{} running, {} waiting for a slot, {} queued", r.active, r.waiting, r.queued));
    kv.add("cluster", &s.cluster);
    kv.render()
}

/// `5: 3 success, 1 failed, 1 never run`, statuses in a fixed order.
fn by_status(counts: &std::collections::BTreeMap<String, u64>) -> String {
    let total: u64 = counts.values().sum();
    let order = [
        JobStatus::Running,
        JobStatus::Success,
        JobStatus::Failed,
        JobStatus::Canceled,
        JobStatus::Paused,
        JobStatus::Started,
    ];
    let mut parts: Vec<String> = order
        .iter()
        .filter_map(|st| counts.get(st.as_str()).map(|n| format!("{n} {}", Style::status_word(*st))))
        .collect();
    // A status this karajoctl does not know yet still counts.
    parts.extend(counts.iter().filter(|(k, _)| JobStatus::parse(k).is_none()).map(|(k, n)| format!("{n} {k}")));
    if parts.is_empty() { total.to_string() } else { format!("{total}: {}", parts.join(", ")) }
}

/// Descriptions may hold simple HTML for the dashboard; a terminal shows
/// the text without tags.
fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&")
}

/// Aligned `key  value` lines; multi-line values stay under their column.
#[derive(Default)]
struct Fields(Vec<(String, String)>);

impl Fields {
    fn add(&mut self, key: &str, value: &str) {
        self.0.push((key.to_string(), value.to_string()));
    }

    fn add_nonempty(&mut self, key: &str, value: &str) {
        if !value.is_empty() {
            self.add(key, value);
        }
    }

    fn render(&self) -> String {
        let width = self.0.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 2;
        let mut out = String::new();
        for (k, v) in &self.0 {
            for (i, line) in v.split('\n').enumerate() {
                let key = if i == 0 { k.as_str() } else { "" };
                out.push_str(format!("{key:width$}{line}").trim_end());
                out.push('\n');
            }
        }
        out
    }
}
