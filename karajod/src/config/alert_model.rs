//! The validated form of the alert keys of SPEC 18: a job's [`Alerts`]
//! (events beside success and failed, `ping_url`), webhook notifications
//! ([`WebhookConfig`]) and passive checks ([`CheckConfig`]). Plain values,
//! like the rest of [`super::model`], which re-exports them.

use std::time::Duration;

use proto::JobId;

use super::model::{HttpHeader, HttpMethod, Origin, Secret};
use crate::schedule::{Schedule, Tz};

/// The default `late_after`: a timer run starting later than this after
/// its slot fires `notif_on_late`.
pub const DEFAULT_LATE_AFTER: Duration = Duration::from_secs(60);

/// The job keys of SPEC 18: the notifications of the events beside
/// success and failed, their thresholds, and the healthchecks.io-style
/// `ping_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alerts {
    pub notif_on_recovered: Vec<String>,
    pub notif_on_missed: Vec<String>,
    pub notif_on_late: Vec<String>,
    pub notif_on_long_running: Vec<String>,
    pub late_after: Duration,
    /// `None`: no `notif_on_long_running` event.
    pub max_duration: Option<Duration>,
    pub ping_url: Option<String>,
}

impl Default for Alerts {
    fn default() -> Alerts {
        Alerts {
            notif_on_recovered: Vec::new(),
            notif_on_missed: Vec::new(),
            notif_on_late: Vec::new(),
            notif_on_long_running: Vec::new(),
            late_after: DEFAULT_LATE_AFTER,
            max_duration: None,
            ping_url: None,
        }
    }
}

impl Alerts {
    /// As the Job and JobHttp JSON show it.
    pub fn view(&self) -> proto::JobAlerts {
        let nanos = |d: Duration| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
        proto::JobAlerts {
            notif_on_recovered: self.notif_on_recovered.clone(),
            notif_on_missed: self.notif_on_missed.clone(),
            notif_on_late: self.notif_on_late.clone(),
            notif_on_long_running: self.notif_on_long_running.clone(),
            late_after: nanos(self.late_after),
            max_duration: self.max_duration.map_or(0, nanos),
            ping_url: self.ping_url.as_deref().map(|u| proto::redact::url(u).into_owned()).unwrap_or_default(),
        }
    }
}

/// The default `timeout` of a webhook notification.
pub const DEFAULT_WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// `format` of a webhook notification: the shape of the body sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    /// karajo's own JSON object (SPEC 18 lists its keys).
    Json,
    Slack,
    Discord,
    Ntfy,
    Matrix,
}

impl WebhookFormat {
    pub const ALL: [WebhookFormat; 5] =
        [WebhookFormat::Json, WebhookFormat::Slack, WebhookFormat::Discord, WebhookFormat::Ntfy, WebhookFormat::Matrix];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Json => "json",
            WebhookFormat::Slack => "slack",
            WebhookFormat::Discord => "discord",
            WebhookFormat::Ntfy => "ntfy",
            WebhookFormat::Matrix => "matrix",
        }
    }
}

/// `[notif "NAME"]` with `kind = webhook`.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookConfig {
    pub name: String,
    /// Absolute `http(s)://` URL.
    pub url: String,
    pub method: HttpMethod,
    pub headers: Vec<HttpHeader>,
    /// Signs the body into `X-Karajo-Sign` when set.
    pub secret: Option<Secret>,
    pub timeout: Duration,
    pub format: WebhookFormat,
    pub origin: Origin,
}

/// The default `grace` of a check.
pub const DEFAULT_CHECK_GRACE: Duration = Duration::from_secs(5 * 60);
/// The shortest `key` of a check: it is the only secret of its ping URL.
pub const MIN_CHECK_KEY_CHARS: usize = 16;

/// When a check expects its next ping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckTimer {
    /// `period`: a ping at most this long after the last one.
    Period(Duration),
    /// `schedule` (read in `timezone`): a ping by the first slot after the last one.
    Schedule(Schedule),
}

/// `[check "NAME"]` (SPEC 18).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckConfig {
    pub name: String,
    pub id: JobId,
    /// The secret path token of `/karajo/ping/KEY`.
    pub key: Secret,
    pub timer: CheckTimer,
    /// `period` or `schedule` as written.
    pub timer_text: String,
    pub timezone: Tz,
    pub grace: Duration,
    pub notif_on_down: Vec<String>,
    pub notif_on_up: Vec<String>,
    pub origin: Origin,
}
