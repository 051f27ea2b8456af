//! A fake engine: a few jobs in memory, recording triggers, so the routes
//! can be tested before (and apart from) the real engine.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proto::{AnyJob, Environment, Job, JobBase, JobHttp, JobId, JobKind, JobStatus};

use crate::config::{AuthKind, Config, Origin, Secret, ServerConfig, UserConfig};
use crate::engine::{Canceled, EngineError, LogFile, LogFollow, RunEnded, RunState, Trigger, WebhookAuth};
use crate::http::Backend;

pub const SECRET: &str = "s3cret";

pub fn config(users: Vec<(&str, &str)>, replay: Option<Duration>) -> Config {
    Config {
        server: ServerConfig {
            name: "karajo".into(),
            listen_address: "127.0.0.1:0".into(),
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            http_timeout: Duration::from_secs(300),
            dir_base: PathBuf::from("/nonexistent"),
            dir_public: None,
            secret: Secret::new(SECRET),
            secret_generated: false,
            max_job_running: 1,
            history_retention: 1000,
            control_socket: PathBuf::from("/nonexistent/k.sock"),
            replay_window: replay,
            metrics_token: Some(Secret::new("mtok")),
            is_development: false,
            timezone: crate::schedule::Tz::UTC,
            classic_signatures: true,
            tls: None,
        },
        jobs: vec![],
        http_jobs: vec![],
        notifs: BTreeMap::new(),
        webhooks: BTreeMap::new(),
        checks: vec![],
        users: users
            .into_iter()
            .map(|(n, h)| UserConfig {
                name: n.into(),
                password_hash: Secret::new(h),
                role: proto::Role::Admin,
                origin: Origin::default(),
            })
            .collect(),
        tokens: vec![],
    }
}

/// What both fakes share.
fn base(name: &str, schedule_text: &str) -> JobBase {
    JobBase {
        id: JobId::from_name(name),
        name: name.into(),
        description: String::new(),
        description_html: String::new(),
        queued: false,
        status: JobStatus::Started,
        schedule: String::new(),
        interval: 0,
        schedule_text: schedule_text.into(),
        timezone: "UTC".into(),
        jitter: 0,
        last_run: None,
        next_run: None,
        header_sign: "X-Karajo-Sign".into(),
        log_retention: 5,
        notif_on_success: vec![],
        notif_on_failed: vec![],
        alerts: Default::default(),
        logs: vec![],
        history_retention: 1000,
        last_duration_ms: None,
        success_rate: None,
        overlap: "queue".into(),
        queue_size: 1,
        retry: 0,
        retry_delay: 10_000_000_000,
        retry_backoff: 1.0,
        retry_max_delay: 600_000_000_000,
        retry_on: String::new(),
        catch_up: "none".into(),
        catch_up_window: 86_400_000_000_000,
    }
}

pub fn job(name: &str) -> Job {
    Job {
        base: base(name, "on webhook"),
        path: format!("/{name}"),
        auth_kind: "hmac-sha256".into(),
        commands: vec!["true".into()],
        leave_processes: false,
        env_names: vec![],
        env_file: String::new(),
        dir: String::new(),
        user: String::new(),
        group: String::new(),
    }
}

pub fn http_job(name: &str) -> JobHttp {
    JobHttp {
        base: base(name, "by hand only"),
        http_method: "GET".into(),
        http_url: "/x".into(),
        http_request_type: "query".into(),
        http_headers: vec![],
        http_timeout: 0,
        http_insecure: false,
    }
}

/// The file and progress channel `follow_log` hands out.
pub type LiveLog = (PathBuf, tokio::sync::watch::Receiver<(u64, RunState)>);

pub struct Fake {
    pub config: Arc<Config>,
    pub jobs: Mutex<BTreeMap<JobId, Job>>,
    pub http_jobs: Mutex<BTreeMap<JobId, JobHttp>>,
    pub paused: Mutex<BTreeSet<JobId>>,
    pub triggers: Mutex<Vec<(JobId, String)>>,
    pub live_log: Mutex<Option<LiveLog>>,
    pub ended: tokio::sync::broadcast::Sender<RunEnded>,
}

impl Fake {
    pub fn new(config: Config) -> Arc<Fake> {
        let jobs = ["alpha", "github", "srht"].map(|n| (JobId::from_name(n), job(n))).into_iter().collect();
        let http_jobs = [("ping", http_job("ping"))].map(|(n, j)| (JobId::from_name(n), j)).into_iter().collect();
        Arc::new(Fake {
            config: Arc::new(config),
            jobs: Mutex::new(jobs),
            http_jobs: Mutex::new(http_jobs),
            paused: Mutex::default(),
            triggers: Mutex::default(),
            live_log: Mutex::default(),
            ended: tokio::sync::broadcast::channel(16).0,
        })
    }

    fn find(&self, kind: JobKind, id: &JobId) -> Result<AnyJob, EngineError> {
        let v = match kind {
            JobKind::Job => self.jobs.lock().unwrap().get(id).cloned().map(AnyJob::Job),
            JobKind::JobHttp => self.http_jobs.lock().unwrap().get(id).cloned().map(AnyJob::Http),
        };
        v.ok_or_else(|| EngineError::JobNotFound(id.to_string()))
    }
}

impl Backend for Fake {
    fn config(&self) -> Arc<Config> {
        self.config.clone()
    }
    fn environment(&self) -> Environment {
        Environment {
            name: "karajo".into(),
            listen_address: "127.0.0.1:0".into(),
            dir_base: "/".into(),
            dir_public: String::new(),
            http_timeout: 0,
            max_job_running: 1,
            is_development: false,
            version: "test".into(),
            jobs: self.jobs.lock().unwrap().values().map(|j| (j.base.name.clone(), j.clone())).collect(),
            http_jobs: self.http_jobs.lock().unwrap().values().map(|j| (j.base.name.clone(), j.clone())).collect(),
            checks: Default::default(),
        }
    }
    fn job(&self, id: &JobId) -> Option<Job> {
        self.jobs.lock().unwrap().get(id).cloned()
    }
    fn http_job(&self, id: &JobId) -> Option<JobHttp> {
        self.http_jobs.lock().unwrap().get(id).cloned()
    }
    fn webhook(&self, path: &str) -> Option<WebhookAuth> {
        let (id, kind) = match path {
            "/alpha" => ("alpha", AuthKind::HmacSha256),
            "/github" => ("github", AuthKind::Github),
            "/srht" => ("srht", AuthKind::Sourcehut),
            _ => return None,
        };
        let secret = Secret::new(SECRET);
        Some(WebhookAuth { id: JobId::from_name(id), auth_kind: kind, header_sign: "X-Karajo-Sign".into(), secret })
    }
    fn trigger_job(&self, id: &JobId, trigger: Trigger, _actor: Option<String>) -> Result<Job, EngineError> {
        let job = self.job(id).ok_or_else(|| EngineError::JobNotFound(id.to_string()))?;
        if self.paused.lock().unwrap().contains(id) {
            return Err(EngineError::Paused);
        }
        let what = match trigger {
            Trigger::Http { body } => format!("http:{}", String::from_utf8_lossy(&body)),
            Trigger::Manual => "manual".into(),
            Trigger::Timer => "timer".into(),
            Trigger::CatchUp { .. } => "catch_up".into(),
        };
        self.triggers.lock().unwrap().push((id.clone(), what));
        Ok(job)
    }
    fn trigger_http_job(&self, id: &JobId, _actor: Option<String>) -> Result<JobHttp, EngineError> {
        let job = self.http_job(id).ok_or_else(|| EngineError::JobNotFound(id.to_string()))?;
        self.triggers.lock().unwrap().push((id.clone(), "manual".into()));
        Ok(job)
    }
    fn pause(&self, kind: JobKind, id: &JobId) -> Result<AnyJob, EngineError> {
        let mut v = self.find(kind, id)?;
        self.paused.lock().unwrap().insert(id.clone());
        match &mut v {
            AnyJob::Job(j) => j.base.status = proto::JobStatus::Paused,
            AnyJob::Http(j) => j.base.status = proto::JobStatus::Paused,
        }
        Ok(v)
    }
    fn resume(&self, kind: JobKind, id: &JobId) -> Result<AnyJob, EngineError> {
        let v = self.find(kind, id)?;
        self.paused.lock().unwrap().remove(id);
        Ok(v)
    }
    fn cancel(&self, kind: JobKind, id: &JobId) -> Result<(AnyJob, Canceled), EngineError> {
        Ok((self.find(kind, id)?, Canceled::NotRunning))
    }
    fn open_log(&self, kind: JobKind, id: &JobId, counter: u64) -> Result<LogFile, EngineError> {
        use std::io::{Seek, Write};
        self.find(kind, id)?;
        if counter != 1 {
            return Err(EngineError::LogNotFound(counter));
        }
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(b"hello\n").unwrap();
        file.rewind().unwrap();
        Ok(LogFile { job_id: id.clone(), counter, status: JobStatus::Success, len: 6, file, path: "hello.log".into() })
    }
    fn follow_log(&self, kind: JobKind, id: &JobId, counter: Option<u64>) -> Result<LogFollow, EngineError> {
        self.find(kind, id)?;
        let (path, progress) = self.live_log.lock().unwrap().clone().ok_or(EngineError::LogNotFound(0))?;
        let file = std::fs::File::open(&path).unwrap();
        Ok(LogFollow { job_id: id.clone(), counter: counter.unwrap_or(7), file, progress })
    }
    fn subscribe_ended(&self) -> tokio::sync::broadcast::Receiver<RunEnded> {
        self.ended.subscribe()
    }
    fn running_count(&self) -> usize {
        0
    }
    fn is_alive(&self) -> bool {
        true
    }
    /// One run per job, an hour apart in job order, so routes have a list
    /// to cut at `limit`.
    fn upcoming(&self, horizon: chrono::TimeDelta, limit: usize) -> Vec<proto::Upcoming> {
        let t0 = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
        let jobs = self.jobs.lock().unwrap();
        let runs = jobs.values().enumerate().map(|(i, j)| {
            let at = t0 + chrono::TimeDelta::hours(i as i64);
            proto::Upcoming { kind: JobKind::Job, id: j.base.id.clone(), name: j.base.name.clone(), at, slot: at }
        });
        runs.filter(|u| u.at - t0 <= horizon).take(limit).collect()
    }
}
