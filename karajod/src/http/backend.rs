//! What the transports need from the engine, as a trait: the real
//! [`Engine`] implements it by delegation, and route tests use a fake.
//!
//! Invariant: these are exactly the engine calls a transport makes; the
//! HTTP layer never reaches around it into engine internals.

use std::sync::Arc;

use proto::{Environment, Job, JobHttp, JobId, JobKind, JobLogContent};

use crate::config::Config;
use crate::engine::{Census, Engine, EngineError, LogFollow, RunEnded, Trigger, WebhookAuth};

/// The engine as the HTTP API and the control socket see it.
pub trait Backend: Send + Sync + 'static {
    fn config(&self) -> Arc<Config>;
    fn environment(&self) -> Environment;
    /// [`Backend::environment`] as the API's encoded `200 OK` answer.
    fn environment_answer(&self) -> Result<bytes::Bytes, serde_json::Error> {
        serde_json::to_vec(&proto::Response::ok(self.environment())).map(bytes::Bytes::from)
    }
    /// The answer of [`Backend::environment_answer`] if it is at hand
    /// without encoding (nothing changed since the last one).
    fn environment_unchanged(&self) -> Option<bytes::Bytes> {
        None
    }
    fn job(&self, id: &JobId) -> Option<Job>;
    fn http_job(&self, id: &JobId) -> Option<JobHttp>;
    fn webhook(&self, path: &str) -> Option<WebhookAuth>;
    fn trigger_job(&self, id: &JobId, trigger: Trigger) -> Result<Job, EngineError>;
    fn trigger_http_job(&self, id: &JobId) -> Result<JobHttp, EngineError>;
    fn pause(&self, kind: JobKind, id: &JobId) -> Result<serde_json::Value, EngineError>;
    fn resume(&self, kind: JobKind, id: &JobId) -> Result<serde_json::Value, EngineError>;
    fn cancel(&self, kind: JobKind, id: &JobId) -> Result<(serde_json::Value, bool), EngineError>;
    fn log(&self, kind: JobKind, id: &JobId, counter: u64) -> Result<JobLogContent, EngineError>;
    fn follow_log(&self, kind: JobKind, id: &JobId, counter: Option<u64>) -> Result<LogFollow, EngineError>;
    fn subscribe_ended(&self) -> tokio::sync::broadcast::Receiver<RunEnded>;
    fn running_count(&self) -> usize;
    fn is_alive(&self) -> bool;
    /// Jobs by status and the runs now (`/status`). This default counts
    /// from [`Backend::environment`]; the engine counts without building views.
    fn census(&self) -> Census {
        let env = self.environment();
        let mut c = Census::default();
        for j in env.jobs.values() {
            *c.jobs.entry(j.status.as_str().to_string()).or_default() += 1;
        }
        for j in env.http_jobs.values() {
            *c.http_jobs.entry(j.status.as_str().to_string()).or_default() += 1;
        }
        c.runs.active = self.running_count() as u64;
        c
    }
}

impl Backend for Engine {
    fn config(&self) -> Arc<Config> {
        Engine::config(self)
    }
    fn environment(&self) -> Environment {
        Engine::environment(self)
    }
    fn environment_answer(&self) -> Result<bytes::Bytes, serde_json::Error> {
        Engine::environment_answer(self)
    }
    fn environment_unchanged(&self) -> Option<bytes::Bytes> {
        Engine::environment_unchanged(self)
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
    fn trigger_job(&self, id: &JobId, trigger: Trigger) -> Result<Job, EngineError> {
        Engine::trigger_job(self, id, trigger)
    }
    fn trigger_http_job(&self, id: &JobId) -> Result<JobHttp, EngineError> {
        Engine::trigger_http_job(self, id)
    }
    fn pause(&self, kind: JobKind, id: &JobId) -> Result<serde_json::Value, EngineError> {
        Engine::pause(self, kind, id)
    }
    fn resume(&self, kind: JobKind, id: &JobId) -> Result<serde_json::Value, EngineError> {
        Engine::resume(self, kind, id)
    }
    fn cancel(&self, kind: JobKind, id: &JobId) -> Result<(serde_json::Value, bool), EngineError> {
        Engine::cancel(self, kind, id)
    }
    fn log(&self, kind: JobKind, id: &JobId, counter: u64) -> Result<JobLogContent, EngineError> {
        Engine::log(self, kind, id, counter)
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
    fn is_alive(&self) -> bool {
        Engine::is_alive(self)
    }
    fn census(&self) -> Census {
        Engine::census(self)
    }
}
