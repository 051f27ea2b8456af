//! `GET /karajo/metrics`: Prometheus text of finished runs by job and
//! status, run durations and queue waits (histograms), how late timer runs
//! started after their scheduled instant (one histogram for all jobs, the
//! figure SPEC 14's timer-precision target is about), and the running
//! count. Fed by the engine's run-ended broadcast, kept apart from the API.
//!
//! Invariants: counters only grow; label values are escaped; the table
//! holds one entry per (kind, job, status), so its size is bounded by the
//! configuration, not by traffic.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use proto::{JobKind, JobStatus};
use subtle::ConstantTimeEq;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::engine::RunEnded;

/// Bucket bounds in seconds of run durations and queue waits.
const BUCKETS_SECONDS: [f64; 10] = [0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0];
/// Bucket bounds in seconds of timer lateness: fine around the 10 ms target.
const LATENESS_BUCKETS_SECONDS: [f64; 12] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Debug, Clone)]
struct Histogram {
    bounds: &'static [f64],
    buckets: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram::new(&BUCKETS_SECONDS)
    }
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram { bounds, buckets: vec![0; bounds.len()], sum: 0.0, count: 0 }
    }

    fn observe(&mut self, seconds: f64) {
        for (b, &le) in self.buckets.iter_mut().zip(self.bounds) {
            if seconds <= le {
                *b += 1;
            }
        }
        self.sum += seconds;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        // `labels` may be empty: then `{le="…"}` and no braces on sum/count.
        let (sep, set) = if labels.is_empty() { ("", String::new()) } else { (",", format!("{{{labels}}}")) };
        for (n, le) in self.buckets.iter().zip(self.bounds) {
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {n}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum{set} {}", self.sum);
        let _ = writeln!(out, "{name}_count{set} {}", self.count);
    }
}

type JobKey = (JobKind, String);

#[derive(Debug)]
struct Inner {
    runs: BTreeMap<(JobKind, String, &'static str), u64>,
    durations: BTreeMap<JobKey, Histogram>,
    queue_waits: BTreeMap<JobKey, Histogram>,
    timer_lateness: Histogram,
}

impl Default for Inner {
    fn default() -> Inner {
        Inner {
            runs: BTreeMap::new(),
            durations: BTreeMap::new(),
            queue_waits: BTreeMap::new(),
            timer_lateness: Histogram::new(&LATENESS_BUCKETS_SECONDS),
        }
    }
}

/// The run counters.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    /// Counts one finished run.
    pub fn record(&self, ended: &RunEnded) {
        let mut inner = self.inner.lock().expect("metrics lock");
        let id = ended.id.to_string();
        *inner.runs.entry((ended.kind, id.clone(), status_word(ended.status))).or_default() += 1;
        inner.durations.entry((ended.kind, id.clone())).or_default().observe(ended.duration.as_secs_f64());
        inner.queue_waits.entry((ended.kind, id)).or_default().observe(ended.queue_wait.as_secs_f64());
        if let Some(late) = ended.timer_lateness {
            inner.timer_lateness.observe(late.as_secs_f64());
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self, running: usize) -> String {
        let inner = self.inner.lock().expect("metrics lock");
        let mut out = String::new();
        out.push_str("# HELP karajo_runs_total Finished runs by job and status.\n# TYPE karajo_runs_total counter\n");
        for ((kind, id, status), n) in &inner.runs {
            let _ = writeln!(out, "karajo_runs_total{{{},status=\"{status}\"}} {n}", labels(*kind, id));
        }
        out.push_str("# HELP karajo_run_duration_seconds Run durations.\n");
        out.push_str("# TYPE karajo_run_duration_seconds histogram\n");
        for ((kind, id), h) in &inner.durations {
            h.render(&mut out, "karajo_run_duration_seconds", &labels(*kind, id));
        }
        out.push_str("# HELP karajo_queue_wait_seconds Time runs waited for a slot.\n");
        out.push_str("# TYPE karajo_queue_wait_seconds histogram\n");
        for ((kind, id), h) in &inner.queue_waits {
            h.render(&mut out, "karajo_queue_wait_seconds", &labels(*kind, id));
        }
        out.push_str(
            "# HELP karajo_timer_lateness_seconds How long after its scheduled instant a timer run started.\n",
        );
        out.push_str("# TYPE karajo_timer_lateness_seconds histogram\n");
        inner.timer_lateness.render(&mut out, "karajo_timer_lateness_seconds", "");
        out.push_str("# HELP karajo_running Runs in progress.\n# TYPE karajo_running gauge\n");
        let _ = writeln!(out, "karajo_running {running}");
        out
    }
}

fn status_word(s: JobStatus) -> &'static str {
    s.as_str()
}

fn labels(kind: JobKind, id: &str) -> String {
    format!("kind=\"{}\",job=\"{}\"", kind.as_str(), escape(id))
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Feeds `metrics` from the engine's broadcast until it closes or the
/// daemon stops. A lagging receiver skips what it missed.
pub async fn collect(metrics: Arc<Metrics>, mut rx: broadcast::Receiver<RunEnded>, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            r = rx.recv() => match r {
                Ok(ended) => metrics.record(&ended),
                Err(broadcast::error::RecvError::Lagged(n)) => tracing::warn!("metrics missed {n} run ends"),
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = shutdown.cancelled() => return,
        }
    }
}

/// True when `authorization` is `Bearer <token>` for the configured token.
pub fn bearer_ok(token: Option<&crate::config::Secret>, authorization: Option<&str>) -> bool {
    let (Some(token), Some(given)) = (token, authorization.and_then(|a| a.strip_prefix("Bearer "))) else {
        return false;
    };
    let want = token.expose().as_bytes();
    !want.is_empty() && given.len() == want.len() && bool::from(given.as_bytes().ct_eq(want))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use std::time::Duration;

    fn ended(status: JobStatus, secs: u64) -> RunEnded {
        RunEnded {
            kind: JobKind::Job,
            id: proto::JobId::from_name("build"),
            counter: 1,
            status,
            log_path: "/x".into(),
            started: chrono::Utc::now(),
            duration: Duration::from_secs(secs),
            queue_wait: Duration::from_millis(50),
            timer_lateness: None,
        }
    }

    #[test]
    fn renders_counts_histograms_and_running() {
        let m = Metrics::default();
        m.record(&ended(JobStatus::Success, 2));
        m.record(&ended(JobStatus::Success, 20));
        m.record(&ended(JobStatus::Failed, 1));
        let text = m.render(3);
        assert!(text.contains("karajo_runs_total{kind=\"job\",job=\"build\",status=\"success\"} 2"), "{text}");
        assert!(text.contains("karajo_runs_total{kind=\"job\",job=\"build\",status=\"failed\"} 1"));
        assert!(text.contains("karajo_run_duration_seconds_bucket{kind=\"job\",job=\"build\",le=\"5\"} 2"));
        assert!(text.contains("karajo_run_duration_seconds_count{kind=\"job\",job=\"build\"} 3"));
        assert!(text.contains("karajo_queue_wait_seconds_bucket{kind=\"job\",job=\"build\",le=\"0.1\"} 3"));
        assert!(text.contains("karajo_running 3"));
    }

    #[test]
    fn timer_lateness_is_one_histogram_of_timer_runs_only() {
        let m = Metrics::default();
        let text = m.render(0);
        assert!(text.contains("karajo_timer_lateness_seconds_count 0"), "{text}");
        for ms in [3, 7, 40] {
            m.record(&RunEnded { timer_lateness: Some(Duration::from_millis(ms)), ..ended(JobStatus::Success, 1) });
        }
        // A manual run has no schedule to be late for.
        m.record(&ended(JobStatus::Success, 1));
        let text = m.render(0);
        assert!(text.contains("karajo_timer_lateness_seconds_bucket{le=\"0.002\"} 0"), "{text}");
        assert!(text.contains("karajo_timer_lateness_seconds_bucket{le=\"0.005\"} 1"), "{text}");
        assert!(text.contains("karajo_timer_lateness_seconds_bucket{le=\"0.01\"} 2"), "{text}");
        assert!(text.contains("karajo_timer_lateness_seconds_bucket{le=\"0.05\"} 3"), "{text}");
        assert!(text.contains("karajo_timer_lateness_seconds_bucket{le=\"+Inf\"} 3"), "{text}");
        let sum: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix("karajo_timer_lateness_seconds_sum "))
            .and_then(|v| v.parse().ok())
            .expect("a sum line");
        assert!((sum - 0.050).abs() < 1e-9, "{text}");
        assert!(text.contains("karajo_timer_lateness_seconds_count 3"), "{text}");
    }

    #[test]
    fn bearer_tokens_compare_exactly() {
        let t = Secret::new("tok");
        assert!(bearer_ok(Some(&t), Some("Bearer tok")));
        assert!(!bearer_ok(Some(&t), Some("Bearer tok2")));
        assert!(!bearer_ok(Some(&t), Some("tok")));
        assert!(!bearer_ok(None, Some("Bearer tok")));
        assert!(!bearer_ok(Some(&Secret::new("")), Some("Bearer ")));
    }
}
