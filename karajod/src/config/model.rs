//! The validated configuration: plain values, independent of the files
//! they came from, so code can build or extend one (the library API) and
//! two can be merged.
//!
//! Invariants: every value here has passed validation (IDs normalised and
//! unique, notification names defined, schedules parsed, secrets resolved);
//! nothing downstream re-checks. Secrets print as `***` in `Debug`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use proto::JobId;

pub use super::access::TokenConfig;
pub use super::alert_model::*;
use crate::schedule::{Schedule, Tz};

/// The default `[karajo] listen_address`.
pub const DEFAULT_LISTEN_ADDRESS: &str = "127.0.0.1:31937";
/// The default `[karajo] http_timeout`: the timeout of HTTP jobs.
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// The default `log_retention` of jobs and HTTP jobs.
pub const DEFAULT_LOG_RETENTION: u32 = 5;
/// The default `history_retention`: run rows kept per job (SPEC 15).
pub const DEFAULT_HISTORY_RETENTION: u32 = 1000;
/// The default `header_sign`.
pub const DEFAULT_HEADER_SIGN: &str = "X-Karajo-Sign";
/// Shorter intervals are raised to this, as the original does.
pub const MIN_INTERVAL: Duration = Duration::from_secs(60);

/// A secret string: never shown by `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    /// The secret itself, for signing and comparing; never for printing.
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "***" })
    }
}

/// Where a section was defined, for error messages that name both places.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origin {
    pub file: PathBuf,
    pub line: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// The whole validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub server: ServerConfig,
    pub jobs: Vec<Arc<JobConfig>>,
    pub http_jobs: Vec<Arc<JobHttpConfig>>,
    pub notifs: BTreeMap<String, NotifConfig>,
    /// `[notif "NAME"] kind = webhook`; names are unique across both maps.
    pub webhooks: BTreeMap<String, WebhookConfig>,
    /// `[check "NAME"]`: passive checks pinged by jobs karajo does not run.
    pub checks: Vec<CheckConfig>,
    pub users: Vec<UserConfig>,
    /// `[token "NAME"]` of user.conf: API tokens for scripts.
    pub tokens: Vec<TokenConfig>,
}

/// `[karajo]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    pub name: String,
    /// As written (`:31937` allowed), shown by `/environment`.
    pub listen_address: String,
    /// `listen_address` resolved; `:PORT` means all interfaces.
    pub listen_addr: SocketAddr,
    pub http_timeout: Duration,
    pub dir_base: PathBuf,
    pub dir_public: Option<PathBuf>,
    pub secret: Secret,
    /// True when `secret` was empty and a random one was generated at load.
    pub secret_generated: bool,
    pub max_job_running: u32,
    /// The default of every job's `history_retention`.
    pub history_retention: u32,
    pub control_socket: PathBuf,
    pub replay_window: Option<Duration>,
    pub metrics_token: Option<Secret>,
    pub is_development: bool,
    /// The default zone of schedules (`timezone`; UTC).
    pub timezone: Tz,
    /// `classic_signatures` (default true): accept the `X-Karajo-Sign`
    /// form of SPEC 7 on API calls beside `X-Karajo-Signature`.
    pub classic_signatures: bool,
    /// `tls_cert` and `tls_key`: HTTPS on `listen_address` when set.
    pub tls: Option<TlsFiles>,
}

/// The PEM files of `[karajo] tls_cert` and `tls_key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// When a job runs by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Timer {
    /// Next run = last run + interval (at least [`MIN_INTERVAL`]).
    Interval(Duration),
    /// Next run = the first slot after now.
    Schedule(Schedule),
}

/// How a webhook request to a job's `path` is authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// `header_sign` holds hex HMAC-SHA256 of the body.
    HmacSha256,
    /// `X-Hub-Signature-256` (or legacy `X-Hub-Signature`).
    Github,
    /// `X-Payload-Signature`: Ed25519 by SourceHut's key over body + nonce.
    Sourcehut,
}

impl AuthKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthKind::HmacSha256 => "hmac-sha256",
            AuthKind::Github => "github",
            AuthKind::Sourcehut => "sourcehut",
        }
    }
}

/// `overlap`: what a trigger does while the job runs (SPEC 17).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlap {
    /// Up to this many triggers wait (`queue_size`, default 1); more are refused.
    Queue(u32),
    /// Every trigger is refused, a timer tick dropped.
    Skip,
    /// The running run is canceled and the new one starts.
    Replace,
    /// One trigger waits; a newer one takes its place.
    Latest,
}

impl Overlap {
    pub fn as_str(self) -> &'static str {
        match self {
            Overlap::Queue(_) => "queue",
            Overlap::Skip => "skip",
            Overlap::Replace => "replace",
            Overlap::Latest => "latest",
        }
    }

    /// How many triggers may wait behind a run.
    pub fn queue_size(self) -> u32 {
        match self {
            Overlap::Queue(n) => n,
            Overlap::Skip => 0,
            Overlap::Replace | Overlap::Latest => 1,
        }
    }
}

impl Default for Overlap {
    /// SPEC 4's behaviour: one queued, more answer 429.
    fn default() -> Overlap {
        Overlap::Queue(1)
    }
}

/// What `[job]` and `[job.http]` share: identity, timer, the secret and
/// signature header, log retention, notifications, and where it was defined.
#[derive(Debug, Clone, PartialEq)]
pub struct JobCommon {
    pub id: JobId,
    pub name: String,
    pub description: String,
    /// `description` sanitised for the dashboard; derived by `validate`
    /// (once per load), never read from a file.
    pub description_html: String,
    pub timer: Option<Timer>,
    /// The schedule or interval as written, for display.
    pub timer_text: String,
    /// A job verifies webhooks with it; an HTTP job signs its requests.
    pub secret: Secret,
    pub header_sign: String,
    pub log_retention: u32,
    /// Run rows kept in the history database (the logs follow `log_retention`).
    pub history_retention: u32,
    pub notif_on_success: Vec<String>,
    pub notif_on_failed: Vec<String>,
    /// The events of SPEC 18 beyond success and failed, and `ping_url`.
    pub alerts: Alerts,
    pub overlap: Overlap,
    /// The zone its schedule is read in (`timezone`, else `[karajo]`'s).
    /// A schedule carries it too ([`Schedule::in_zone`]); this is what the
    /// views show, also for an interval.
    pub timezone: Tz,
    /// Timer runs start this much after their slot at most (`jitter`; zero
    /// for none): see [`crate::engine`]'s `jitter`.
    pub jitter: Duration,
    /// `retry*`: attempts after a failure (none by default).
    pub retry: super::Retry,
    /// `catch_up*`: what the timer does with slots missed while down.
    pub catch_up: super::CatchUp,
    pub origin: Origin,
}

impl JobCommon {
    /// A job called `name` with every shared key at its default; the secret
    /// empty (the global one, filled in by validation).
    pub fn named(name: &str) -> JobCommon {
        JobCommon {
            id: JobId::from_name(name),
            name: name.to_string(),
            description: String::new(),
            description_html: String::new(),
            timer: None,
            timer_text: String::new(),
            secret: Secret::default(),
            header_sign: DEFAULT_HEADER_SIGN.into(),
            log_retention: DEFAULT_LOG_RETENTION,
            history_retention: DEFAULT_HISTORY_RETENTION,
            notif_on_success: Vec::new(),
            notif_on_failed: Vec::new(),
            alerts: Alerts::default(),
            overlap: Overlap::default(),
            timezone: Tz::UTC,
            jitter: Duration::ZERO,
            retry: super::Retry::default(),
            catch_up: super::CatchUp::default_for(None),
            origin: Origin::default(),
        }
    }
}

/// `[job "NAME"]`.
#[derive(Debug, Clone, PartialEq)]
pub struct JobConfig {
    pub common: JobCommon,
    /// Webhook path under `/karajo/api/job_exec/run`, with a leading `/`.
    pub path: Option<String>,
    pub auth_kind: AuthKind,
    pub commands: Vec<String>,
    pub timeout: Option<Duration>,
    /// Processes a run left behind at its normal end keep running.
    pub leave_processes: bool,
    /// `env`, `env_file`, `dir`, `user`, `group`.
    pub exec: super::Exec,
}

/// `http_method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Delete,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Delete => "DELETE",
        }
    }
}

/// `http_request_type`: where `_karajo_epoch` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestType {
    Query,
    Form,
    Json,
}

impl RequestType {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestType::Query => "query",
            RequestType::Form => "form",
            RequestType::Json => "json",
        }
    }
}

/// `[job.http "NAME"]`.
#[derive(Debug, Clone, PartialEq)]
pub struct JobHttpConfig {
    pub common: JobCommon,
    pub http_method: HttpMethod,
    /// Absolute `http(s)://` URL, or a path starting with `/` on this daemon.
    pub http_url: String,
    pub http_request_type: RequestType,
    /// From repeated `http_header = Name: value`.
    pub http_headers: Vec<HttpHeader>,
    /// `None` = no timeout (a negative `http_timeout`); 0 was resolved to the global value.
    pub http_timeout: Option<Duration>,
    pub http_insecure: bool,
}

/// One `http_header = Name: value`. A value `$VAR` was read from the
/// daemon's environment at load; it is then shown as `$VAR`, and the value
/// of a credential header (`Authorization`, `Cookie`, ...) as `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpHeader {
    pub name: String,
    /// What is sent.
    pub value: String,
    /// The environment variable the value came from.
    pub var: Option<String>,
}

impl HttpHeader {
    /// A header written literally in the config.
    pub fn literal(name: impl Into<String>, value: impl Into<String>) -> HttpHeader {
        HttpHeader { name: name.into(), value: value.into(), var: None }
    }

    /// `Name: value` as views and logs show it: never a credential.
    pub fn shown(&self) -> String {
        let value = match &self.var {
            _ if proto::redact::is_credential_header(&self.name) => proto::redact::HIDDEN.to_string(),
            Some(var) => format!("${var}"),
            None => self.value.clone(),
        };
        format!("{}: {value}", self.name)
    }
}

impl std::fmt::Debug for HttpHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown())
    }
}

/// How to reach an SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpScheme {
    /// `smtps://`, implicit TLS, default port 465.
    Smtps,
    /// `smtp+starttls://`, default port 587.
    StartTls,
    /// `smtp://`, plain, for a local relay; default port 25.
    Plain,
}

/// `[notif "NAME"]` with `kind = email`.
#[derive(Debug, Clone, PartialEq)]
pub struct NotifConfig {
    pub name: String,
    pub scheme: SmtpScheme,
    pub host: String,
    pub port: u16,
    /// `None` = no AUTH (fine for a local relay).
    pub smtp_user: Option<String>,
    pub smtp_password: Secret,
    pub smtp_insecure: bool,
    pub from: String,
    pub to: Vec<String>,
    pub origin: Origin,
}

/// `[user "NAME"]` from user.conf: a dashboard login.
#[derive(Debug, Clone, PartialEq)]
pub struct UserConfig {
    pub name: String,
    /// bcrypt hash (`$2a$`, `$2b$`, `$2y$`).
    pub password_hash: Secret,
    pub role: proto::Role,
    pub origin: Origin,
}

impl UserConfig {
    /// What a session remembers of the password hash it was opened with:
    /// a digest, so the hash itself is not copied around.
    pub fn credential(password_hash: &str) -> [u8; 32] {
        use sha2::Digest;
        sha2::Sha256::digest(password_hash.as_bytes()).into()
    }

    /// The one rule for "this login still holds": `users` has `name` with
    /// the password whose [`UserConfig::credential`] is `credential`. A
    /// reload reports, and sessions end, by it.
    pub fn still_logs_in(users: &[UserConfig], name: &str, credential: &[u8; 32]) -> bool {
        users.iter().any(|u| u.name == name && &UserConfig::credential(u.password_hash.expose()) == credential)
    }
}

/// Either kind of job, for code that needs only what both share.
pub trait SharedKeys {
    fn common(&self) -> &JobCommon;
    fn common_mut(&mut self) -> &mut JobCommon;
}

impl SharedKeys for JobConfig {
    fn common(&self) -> &JobCommon {
        &self.common
    }
    fn common_mut(&mut self) -> &mut JobCommon {
        &mut self.common
    }
}

/// The config keeps each job behind an `Arc`, the engine's entries share it.
impl<T: SharedKeys + Clone> SharedKeys for Arc<T> {
    fn common(&self) -> &JobCommon {
        (**self).common()
    }
    fn common_mut(&mut self) -> &mut JobCommon {
        Arc::make_mut(self).common_mut()
    }
}

impl SharedKeys for JobHttpConfig {
    fn common(&self) -> &JobCommon {
        &self.common
    }
    fn common_mut(&mut self) -> &mut JobCommon {
        &mut self.common
    }
}

impl Config {
    /// A job by ID, as lookups from clients use.
    pub fn job(&self, id: &JobId) -> Option<&JobConfig> {
        self.jobs.iter().find(|j| &j.common.id == id).map(|j| &**j)
    }

    /// An HTTP job by ID.
    pub fn http_job(&self, id: &JobId) -> Option<&JobHttpConfig> {
        self.http_jobs.iter().find(|j| &j.common.id == id).map(|j| &**j)
    }
}
