//! Counts for `GET /karajo/api/status`: jobs by status and the runs of
//! this moment (running, waiting for a slot, queued behind a run).
//!
//! Invariant: each entry's lock is taken once, briefly, one at a time; the
//! counts are a consistent picture of each job, not of all jobs at once.

use std::collections::BTreeMap;

use proto::JobKind;
use proto::status::Runs;

use super::Engine;

/// Jobs by status word and the runs now, of both kinds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Census {
    pub jobs: BTreeMap<String, u64>,
    pub http_jobs: BTreeMap<String, u64>,
    pub runs: Runs,
}

impl Engine {
    /// Counts every job's status and run state.
    pub fn census(&self) -> Census {
        let mut census = Census::default();
        for entry in self.entries() {
            let st = entry.lock();
            let by_status = match entry.kind {
                JobKind::Job => &mut census.jobs,
                JobKind::JobHttp => &mut census.http_jobs,
            };
            *by_status.entry(st.status().as_str().to_string()).or_default() += 1;
            match &st.active {
                Some(a) if a.running.is_some() => census.runs.active += 1,
                Some(_) => census.runs.waiting += 1,
                None => {}
            }
            census.runs.queued += st.queued.len() as u64;
        }
        census
    }
}
