//! What the transports need from the engine, as a trait: the real
//! [`Engine`] implements it by delegation, and route tests use a fake.
//!
//! Invariant: these are exactly the engine calls a transport makes; the
//! HTTP layer never reaches around it into engine internals.

use std::sync::Arc;

use proto::{AnyJob, Environment, Job, JobHttp, JobId, JobKind};

use crate::config::Config;
use crate::engine::{
    Canceled, Census, DroppedCount, Engine, EngineError, EnvParts, LogFile, LogFollow, RunEnded, StateVersion, Trigger,
    WebhookAuth,
};

/// The engine as the HTTP API and the control socket see it.
pub trait Backend: Send + Sync + 'static {
    fn config(&self) -> Arc<Config>;
    fn environment(&self) -> Environment;
    /// Where the state behind [`Backend::environment`] stands (see
    /// [`Engine::state_version`]); `None` = unknown, encode every time.
    fn state_version(&self) -> Option<StateVersion> {
        None
    }
    /// Every entry with its version, views only where `kept` says the
    /// caller's piece is stale (see [`Engine::environment_parts`]); `None`
    /// = no versions, encode the whole answer every time.
    fn environment_parts(&self, _kept: &dyn Fn(usize, JobKind, &JobId, u64) -> bool) -> Option<EnvParts> {
        None
    }
    fn job(&self, id: &JobId) -> Option<Job>;
    fn http_job(&self, id: &JobId) -> Option<JobHttp>;
    fn webhook(&self, path: &str) -> Option<WebhookAuth>;
    /// Starts or queues a run on behalf of `actor` (SPEC 21's form).
    fn trigger_job(&self, id: &JobId, trigger: Trigger, actor: Option<String>) -> Result<Job, EngineError>;
    fn trigger_http_job(&self, id: &JobId, actor: Option<String>) -> Result<JobHttp, EngineError>;
    fn pause(&self, kind: JobKind, id: &JobId) -> Result<AnyJob, EngineError>;
    fn resume(&self, kind: JobKind, id: &JobId) -> Result<AnyJob, EngineError>;
    fn cancel(&self, kind: JobKind, id: &JobId) -> Result<(AnyJob, Canceled), EngineError>;
    fn open_log(&self, kind: JobKind, id: &JobId, counter: u64) -> Result<LogFile, EngineError>;
    fn follow_log(&self, kind: JobKind, id: &JobId, counter: Option<u64>) -> Result<LogFollow, EngineError>;
    fn subscribe_ended(&self) -> tokio::sync::broadcast::Receiver<RunEnded>;
    fn running_count(&self) -> usize;
    /// Triggers refused or dropped by `overlap`.
    fn dropped_triggers(&self) -> Vec<DroppedCount> {
        Vec::new()
    }
    fn is_alive(&self) -> bool;
    /// The timer runs due within `horizon`, soonest first, at most `limit`.
    fn upcoming(&self, horizon: chrono::TimeDelta, limit: usize) -> Vec<proto::Upcoming>;
    /// The passive checks (SPEC 18); `None` where there are none.
    fn checks(&self) -> Option<Arc<crate::checks::Checks>> {
        None
    }
    /// The run-history database (SPEC 15); `None` where there is none.
    fn history(&self) -> Option<crate::store::history::History> {
        None
    }
    /// Jobs by status and the runs now (`/status`). This default counts
    /// from [`Backend::environment`]; the engine counts without building views.
    fn census(&self) -> Census {
        let env = self.environment();
        let mut c = Census::default();
        for j in env.jobs.values() {
            *c.jobs.entry(j.base.status.as_str().to_string()).or_default() += 1;
        }
        for j in env.http_jobs.values() {
            *c.http_jobs.entry(j.base.status.as_str().to_string()).or_default() += 1;
        }
        c.runs.active = self.running_count() as u64;
        c
    }
}

impl Backend for Engine {
    fn config(&self) -> Arc<Config> {
        Engine::config(self)
    }
    fn history(&self) -> Option<crate::store::history::History> {
        Engine::history(self).cloned()
    }
    fn environment(&self) -> Environment {
        Engine::environment(self)
    }
    fn state_version(&self) -> Option<StateVersion> {
        Some(Engine::state_version(self))
    }
    fn environment_parts(&self, kept: &dyn Fn(usize, JobKind, &JobId, u64) -> bool) -> Option<EnvParts> {
        Some(Engine::environment_parts(self, kept))
    }
    fn job(&self, id: &JobId) -> Option<Job> {
        Engine::job(self, id)
    }
    fn http_job(&self, id: &JobId) -> Option<JobHttp> {
        Engine::http_job(self, id)
    }
    fn webhook(&self, path: &str) -> Option<WebhookAuth> {
        Engine::webhook(self, path)
    }
    fn trigger_job(&self, id: &JobId, trigger: Trigger, actor: Option<String>) -> Result<Job, EngineError> {
        Engine::trigger_job_as(self, id, trigger, actor)
    }
    fn trigger_http_job(&self, id: &JobId, actor: Option<String>) -> Result<JobHttp, EngineError> {
        Engine::trigger_http_job_as(self, id, actor)
    }
    fn pause(&self, kind: JobKind, id: &JobId) -> Result<AnyJob, EngineError> {
        Engine::pause(self, kind, id)
    }
    fn resume(&self, kind: JobKind, id: &JobId) -> Result<AnyJob, EngineError> {
        Engine::resume(self, kind, id)
    }
    fn cancel(&self, kind: JobKind, id: &JobId) -> Result<(AnyJob, Canceled), EngineError> {
        Engine::cancel(self, kind, id)
    }
    fn open_log(&self, kind: JobKind, id: &JobId, counter: u64) -> Result<LogFile, EngineError> {
        Engine::open_log(self, kind, id, counter)
    }
    fn follow_log(&self, kind: JobKind, id: &JobId, counter: Option<u64>) -> Result<LogFollow, EngineError> {
        Engine::follow_log(self, kind, id, counter)
    }
    fn subscribe_ended(&self) -> tokio::sync::broadcast::Receiver<RunEnded> {
        Engine::subscribe_ended(self)
    }
    fn running_count(&self) -> usize {
        Engine::running_count(self)
    }
    fn dropped_triggers(&self) -> Vec<DroppedCount> {
        Engine::dropped_triggers(self)
    }
    fn upcoming(&self, horizon: chrono::TimeDelta, limit: usize) -> Vec<proto::Upcoming> {
        Engine::upcoming(self, horizon, limit)
    }
    fn is_alive(&self) -> bool {
        Engine::is_alive(self)
    }
    fn census(&self) -> Census {
        Engine::census(self)
    }
    fn checks(&self) -> Option<Arc<crate::checks::Checks>> {
        Engine::checks(self).cloned()
    }
}
