//! `/environment` piece by piece, for a transport that keeps each job's
//! encoded JSON until that job changes: every entry with its version, and
//! its view only where the caller's kept piece is stale.
//!
//! Invariant: an entry's version is read under its lock, with the view it
//! stands for, so a piece kept under a version always shows that state.
//! The reload count is read before and after the entries: a reload in
//! between makes the walk start again, so no part is paired with the
//! wrong set of jobs.

use std::sync::atomic::Ordering;

use proto::{AnyJob, Environment, JobId, JobKind};

use super::{Engine, StateVersion};

/// One job or HTTP job of [`Engine::environment_parts`].
#[derive(Debug)]
pub struct EnvPart {
    pub kind: JobKind,
    /// The entry's version under the lock the view (if any) was built in.
    pub version: u64,
    /// `None` when the caller said its kept piece is of this version.
    pub view: Option<AnyJob>,
}

/// What [`Engine::environment_parts`] answers: the reload count, the
/// entries in the order [`Engine::environment`] inserts them, and the
/// version of the whole (equal to [`Engine::state_version`] if nothing
/// changed meanwhile).
#[derive(Debug)]
pub struct EnvParts {
    /// The settings: [`Engine::environment`] with both maps empty.
    pub head: Environment,
    pub reloads: u64,
    pub version: StateVersion,
    pub parts: Vec<EnvPart>,
}

impl Engine {
    /// The settings part of `/environment`: every field but the two maps,
    /// which are empty.
    pub fn environment_head(&self) -> Environment {
        let config = self.config();
        let s = &config.server;
        Environment {
            name: s.name.clone(),
            listen_address: s.listen_address.clone(),
            dir_base: s.dir_base.display().to_string(),
            dir_public: s.dir_public.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
            http_timeout: s.http_timeout.as_nanos() as i64,
            max_job_running: s.max_job_running,
            is_development: s.is_development,
            version: env!("CARGO_PKG_VERSION").to_string(),
            jobs: Default::default(),
            http_jobs: Default::default(),
            checks: self.checks().map(|c| c.all()).unwrap_or_default(),
        }
    }

    /// Every entry with its version; `kept(position, kind, id, version)`
    /// says the caller holds that entry's piece at that version, so no
    /// view is built. Entries come in the same order while the
    /// configuration stays (the position is the entry's in that order).
    pub fn environment_parts(&self, kept: &dyn Fn(usize, JobKind, &JobId, u64) -> bool) -> EnvParts {
        loop {
            // Read before the walk and the head: a change meanwhile makes
            // the version of the state after the walk differ, so this
            // answer is made again then.
            let version = self.state_version();
            let reloads = version.reloads;
            let head = self.environment_head();
            let parts: Vec<EnvPart> = self
                .entries()
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let st = e.lock();
                    let version = e.version();
                    let view = (!kept(i, e.kind, &e.id, version)).then(|| st.any_view());
                    EnvPart { kind: e.kind, version, view }
                })
                .collect();
            if self.inner.reloads.load(Ordering::SeqCst) == reloads {
                return EnvParts { head, reloads, version, parts };
            }
        }
    }
}
