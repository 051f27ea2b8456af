//! One run as the run-history API answers it (SPEC 15): every column of
//! the history row, `null` when unknown (a run imported from a log has no
//! queue time; a run still going has no end).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::job::{JobId, JobKind};

/// A row of `GET …/job_exec/runs` and `…/job_http/runs`, newest first.
/// `status` and `trigger` are words: `missed`, `retry` and `catch_up`
/// (SPEC 17) and check pings (SPEC 18) share this row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    pub kind: String,
    pub job_id: String,
    pub counter: u64,
    pub status: String,
    pub trigger: Option<String>,
    /// The nominal schedule time of a timer run.
    pub slot: Option<DateTime<Utc>>,
    pub queued_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub attempts: u32,
    pub exit_code: Option<i64>,
    /// The cluster node that ran it (SPEC 19).
    pub node: Option<String>,
    pub fence: Option<i64>,
    /// Who asked for it (SPEC 21).
    pub actor: Option<String>,
    /// False once retention deleted its log file (or it never had one).
    pub log: bool,
}

impl Run {
    /// A row for `counter` of a job with nothing known yet but its status.
    pub fn new(kind: JobKind, id: &JobId, counter: u64, status: &str) -> Run {
        Run {
            kind: kind.as_str().to_string(),
            job_id: id.to_string(),
            counter,
            status: status.to_string(),
            trigger: None,
            slot: None,
            queued_at: None,
            started_at: None,
            ended_at: None,
            duration_ms: None,
            attempts: 1,
            exit_code: None,
            node: None,
            fence: None,
            actor: None,
            log: true,
        }
    }
}
