//! `GET /karajo/api/status`: the daemon at a glance for `karajoctl status`
//! (SPEC 22): version, uptime, config file, jobs by status, runs now.
//!
//! Invariant: counts only, no job details, so the answer stays small and
//! cheap however many jobs there are.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The daemon's state in counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// `[karajo] name`.
    pub name: String,
    pub version: String,
    pub started_at: DateTime<Utc>,
    pub uptime_seconds: u64,
    /// The main config file; empty for a daemon configured by code.
    pub config_file: String,
    /// Jobs by status word (`success`, `paused`, ...); statuses no job has are left out.
    pub jobs: BTreeMap<String, u64>,
    /// HTTP jobs by status word.
    pub http_jobs: BTreeMap<String, u64>,
    pub runs: Runs,
    /// `none` until a `[cluster]` exists (SPEC 19).
    pub cluster: String,
}

/// Runs of both kinds right now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Runs {
    /// Running: a log is being written.
    pub active: u64,
    /// Started but waiting for a slot of `max_job_running`.
    pub waiting: u64,
    /// Triggers queued behind a job's run in progress.
    pub queued: u64,
}
