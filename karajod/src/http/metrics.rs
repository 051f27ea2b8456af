//! `GET /karajo/metrics`: Prometheus text of finished runs by job and
//! status, run durations and queue waits (histograms), and the running
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

/// Histogram bucket bounds in seconds.
const BUCKETS_SECONDS: [f64; 10] = [0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0];

#[derive(Debug, Clone, Default)]
struct Histogram {
    buckets: [u64; BUCKETS_SECONDS.len()],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (b, le) in self.buckets.iter_mut().zip(BUCKETS_SECONDS) {
            if seconds <= le {
                *b += 1;
            }
        }
        self.sum += seconds;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        for (n, le) in self.buckets.iter().zip(BUCKETS_SECONDS) {
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {n}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

type JobKey = (JobKind, String);

#[derive(Debug, Default)]
struct Inner {
    runs: BTreeMap<(JobKind, String, &'static str), u64>,
    durations: BTreeMap<JobKey, Histogram>,
    queue_waits: BTreeMap<JobKey, Histogram>,
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
    fn bearer_tokens_compare_exactly() {
        let t = Secret::new("tok");
        assert!(bearer_ok(Some(&t), Some("Bearer tok")));
        assert!(!bearer_ok(Some(&t), Some("Bearer tok2")));
        assert!(!bearer_ok(Some(&t), Some("tok")));
        assert!(!bearer_ok(None, Some("Bearer tok")));
        assert!(!bearer_ok(Some(&Secret::new("")), Some("Bearer ")));
    }
}
