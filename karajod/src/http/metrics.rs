//! `GET /karajo/metrics`: Prometheus text of finished runs by job and
//! status, run durations and queue waits (histograms), how late timer runs
//! started after their scheduled instant (one histogram for all jobs, the
//! figure SPEC 14's timer-precision target is about), the running count,
//! each job's last success, the build, and the standard `process_*`
//! metrics. Fed by the engine's run-ended broadcast, kept apart from the API.
//!
//! The `prometheus` crate keeps the series, escapes label values and
//! writes the text format; its process collector reads `/proc/self`.
//! Job labels are `kind` and `job_id` (SPEC 22): a label named `job` is
//! renamed `exported_job` by Prometheus, which sets `job` itself.
//!
//! Invariants: counters only grow; one series per (kind, job_id[, status]),
//! so the size is bounded by the configurations seen, not by traffic; each
//! [`Metrics`] has its own registry (several daemons may share a process).

use std::sync::Arc;

use prometheus::{
    Encoder, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};
use proto::JobStatus;
use subtle::ConstantTimeEq;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::engine::{DroppedCount, RunEnded};

/// Bucket bounds in seconds of run durations and queue waits.
const BUCKETS_SECONDS: [f64; 10] = [0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0];
/// Bucket bounds in seconds of timer lateness: fine around the 10 ms target.
const LATENESS_BUCKETS_SECONDS: [f64; 12] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];
/// The labels of a job's series.
const JOB_LABELS: [&str; 2] = ["kind", "job_id"];

/// The daemon's series, in their own registry.
pub struct Metrics {
    registry: Registry,
    runs: IntCounterVec,
    durations: HistogramVec,
    queue_waits: HistogramVec,
    timer_lateness: Histogram,
    last_success: GaugeVec,
    running: IntGauge,
    dropped: IntCounterVec,
    audit_lost: prometheus::IntCounter,
    audit_errors: IntCounterVec,
    notifications: IntCounterVec,
    checks: IntGaugeVec,
}

/// What [`Metrics::render`] reads from elsewhere: counts kept since start
/// by their owners, and gauges as they are now.
#[derive(Debug, Default)]
pub struct Counts<'a> {
    /// Runs running now.
    pub running: usize,
    /// The engine's counts of triggers `overlap` refused.
    pub dropped: &'a [DroppedCount],
    /// The audit trail's lost entries by sink.
    pub audit_lost: &'a [(&'a str, u64)],
    /// Notification deliveries by (notification, result).
    pub notifications: &'a [(String, &'static str, u64)],
    /// Passive checks by status, now.
    pub checks: &'a [(proto::CheckStatus, u64)],
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new().expect("the metric definitions are valid and registered once")
    }
}

impl Metrics {
    fn new() -> prometheus::Result<Metrics> {
        let registry = Registry::new();
        let histogram = |name: &str, help: &str, buckets: &[f64]| {
            HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets.to_vec()), &JOB_LABELS)
        };
        let m = Metrics {
            runs: IntCounterVec::new(
                Opts::new("karajo_runs_total", "Finished runs by job and status."),
                &["kind", "job_id", "status"],
            )?,
            durations: histogram("karajo_run_duration_seconds", "Run durations.", &BUCKETS_SECONDS)?,
            queue_waits: histogram("karajo_queue_wait_seconds", "Time runs waited for a slot.", &BUCKETS_SECONDS)?,
            timer_lateness: Histogram::with_opts(
                HistogramOpts::new(
                    "karajo_timer_lateness_seconds",
                    "How long after its scheduled instant a timer run started.",
                )
                .buckets(LATENESS_BUCKETS_SECONDS.to_vec()),
            )?,
            last_success: GaugeVec::new(
                Opts::new("karajo_job_last_success_timestamp_seconds", "Unix time the last successful run ended."),
                &JOB_LABELS,
            )?,
            running: IntGauge::new("karajo_running", "Runs in progress.")?,
            dropped: IntCounterVec::new(
                Opts::new("karajo_triggers_dropped_total", "Triggers refused or dropped by the job's overlap policy."),
                &["kind", "job_id", "reason"],
            )?,
            audit_lost: prometheus::IntCounter::new(
                "karajo_audit_entries_lost_total",
                "Audit entries a sink (the audit log file) failed to take.",
            )?,
            audit_errors: IntCounterVec::new(
                Opts::new("karajo_audit_write_errors_total", "Audit entries lost, by sink (file, database)."),
                &["sink"],
            )?,
            notifications: IntCounterVec::new(
                Opts::new("karajo_notifications_total", "Notification deliveries (email and webhook) by result."),
                &["notif", "result"],
            )?,
            checks: IntGaugeVec::new(Opts::new("karajo_checks", "Passive checks by status."), &["status"])?,
            registry,
        };
        let build = IntGaugeVec::new(Opts::new("karajo_build_info", "The running karajod's version."), &["version"])?;
        build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        let r = &m.registry;
        r.register(Box::new(m.runs.clone()))?;
        r.register(Box::new(m.durations.clone()))?;
        r.register(Box::new(m.queue_waits.clone()))?;
        r.register(Box::new(m.timer_lateness.clone()))?;
        r.register(Box::new(m.last_success.clone()))?;
        r.register(Box::new(m.running.clone()))?;
        r.register(Box::new(m.dropped.clone()))?;
        r.register(Box::new(m.audit_lost.clone()))?;
        r.register(Box::new(m.audit_errors.clone()))?;
        r.register(Box::new(m.notifications.clone()))?;
        r.register(Box::new(m.checks.clone()))?;
        r.register(Box::new(build))?;
        r.register(Box::new(prometheus::process_collector::ProcessCollector::for_self()))?;
        Ok(m)
    }

    /// Counts one finished run.
    pub fn record(&self, ended: &RunEnded) {
        let (kind, id) = (ended.kind.as_str(), ended.id.as_str());
        self.runs.with_label_values(&[kind, id, ended.status.as_str()]).inc();
        self.durations.with_label_values(&[kind, id]).observe(ended.duration.as_secs_f64());
        self.queue_waits.with_label_values(&[kind, id]).observe(ended.queue_wait.as_secs_f64());
        if let Some(late) = ended.timer_lateness {
            self.timer_lateness.observe(late.as_secs_f64());
        }
        if ended.status == JobStatus::Success {
            let end = ended.started + chrono::TimeDelta::from_std(ended.duration).unwrap_or_default();
            let secs = end.timestamp() as f64 + f64::from(end.timestamp_subsec_millis()) / 1000.0;
            self.last_success.with_label_values(&[kind, id]).set(secs);
        }
    }

    /// The Prometheus text exposition, with the counts kept elsewhere as
    /// they are now (see [`Counts`]).
    pub fn render(&self, now: &Counts<'_>) -> String {
        for (status, n) in now.checks {
            self.checks.with_label_values(&[status.as_str()]).set(i64::try_from(*n).unwrap_or(i64::MAX));
        }
        self.running.set(i64::try_from(now.running).unwrap_or(i64::MAX));
        // The engine counts; the counters catch up to its totals here.
        for d in now.dropped {
            let c = self.dropped.with_label_values(&[d.kind.as_str(), d.id.as_str(), d.reason]);
            c.inc_by(d.count.saturating_sub(c.get()));
        }
        for (sink, n) in now.audit_lost {
            let c = self.audit_errors.with_label_values(&[sink]);
            c.inc_by(n.saturating_sub(c.get()));
        }
        let total: u64 = now.audit_lost.iter().map(|(_, n)| n).sum();
        self.audit_lost.inc_by(total.saturating_sub(self.audit_lost.get()));
        for (notif, result, count) in now.notifications {
            let c = self.notifications.with_label_values(&[notif.as_str(), result]);
            c.inc_by(count.saturating_sub(c.get()));
        }
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!("encoding the metrics failed: {e}");
        }
        String::from_utf8(out).unwrap_or_default()
    }
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
    use proto::JobKind;
    use std::time::Duration;

    fn ended(status: JobStatus, secs: u64) -> RunEnded {
        RunEnded {
            kind: JobKind::Job,
            id: proto::JobId::from_name("build"),
            counter: 1,
            status,
            trigger: "manual",
            log_path: "/x".into(),
            started: chrono::Utc::now(),
            duration: Duration::from_secs(secs),
            queue_wait: Duration::from_millis(50),
            timer_lateness: None,
        }
    }

    #[test]
    fn renders_counts_histograms_and_running_by_job_id() {
        let m = Metrics::default();
        m.record(&ended(JobStatus::Success, 2));
        m.record(&ended(JobStatus::Success, 20));
        m.record(&ended(JobStatus::Failed, 1));
        let text = m.render(&Counts { running: 3, ..Counts::default() });
        assert!(text.contains("karajo_runs_total{job_id=\"build\",kind=\"job\",status=\"success\"} 2"), "{text}");
        assert!(text.contains("karajo_runs_total{job_id=\"build\",kind=\"job\",status=\"failed\"} 1"));
        assert!(text.contains("karajo_run_duration_seconds_bucket{job_id=\"build\",kind=\"job\",le=\"5\"} 2"));
        assert!(text.contains("karajo_run_duration_seconds_count{job_id=\"build\",kind=\"job\"} 3"));
        assert!(text.contains("karajo_queue_wait_seconds_bucket{job_id=\"build\",kind=\"job\",le=\"0.1\"} 3"));
        assert!(text.contains("karajo_running 3"));
        assert!(!text.contains("job=\""), "no label named job: {text}");
    }

    #[test]
    fn last_success_build_info_and_process_metrics() {
        let m = Metrics::default();
        assert!(!m.render(&Counts::default()).contains("karajo_job_last_success_timestamp_seconds{"));
        let run = ended(JobStatus::Success, 2);
        m.record(&run);
        m.record(&ended(JobStatus::Failed, 1));
        let text = m.render(&Counts::default());
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("karajo_job_last_success_timestamp_seconds{job_id=\"build\",kind=\"job\"} "))
            .unwrap_or_else(|| panic!("{text}"));
        let at: f64 = line.parse().unwrap();
        assert!((at - (run.started.timestamp() + 2) as f64).abs() < 1.5, "{text}");
        let build = format!("karajo_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"));
        assert!(text.contains(&build), "{text}");
        assert!(text.contains("process_resident_memory_bytes "), "{text}");
        assert!(text.contains("process_start_time_seconds "), "{text}");
    }

    #[test]
    fn every_sample_line_ends_in_a_number() {
        let m = Metrics::default();
        m.record(&ended(JobStatus::Success, 1));
        for l in m.render(&Counts::default()).lines().filter(|l| !l.starts_with('#')) {
            assert!(l.rsplit_once(' ').is_some_and(|(_, v)| v.parse::<f64>().is_ok()), "{l}");
        }
    }

    #[test]
    fn timer_lateness_is_one_histogram_of_timer_runs_only() {
        let m = Metrics::default();
        let text = m.render(&Counts::default());
        assert!(text.contains("karajo_timer_lateness_seconds_count 0"), "{text}");
        for ms in [3, 7, 40] {
            m.record(&RunEnded { timer_lateness: Some(Duration::from_millis(ms)), ..ended(JobStatus::Success, 1) });
        }
        // A manual run has no schedule to be late for.
        m.record(&ended(JobStatus::Success, 1));
        let text = m.render(&Counts::default());
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
