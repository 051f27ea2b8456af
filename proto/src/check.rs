//! A passive check (`[check "NAME"]`, SPEC 18) as the API shows it: the
//! `checks` of `/environment`, `GET /karajo/api/check` and karajoctl.
//! The key (the ping URL's secret) is never part of it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a check stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// Never pinged.
    New,
    /// The last ping succeeded and the next is not due yet.
    Up,
    /// The next ping is overdue, within the grace.
    Late,
    /// Overdue past the grace, or the last ping said fail.
    Down,
    Paused,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::New => "new",
            CheckStatus::Up => "up",
            CheckStatus::Late => "late",
            CheckStatus::Down => "down",
            CheckStatus::Paused => "paused",
        }
    }

    pub const ALL: [CheckStatus; 5] =
        [CheckStatus::New, CheckStatus::Up, CheckStatus::Late, CheckStatus::Down, CheckStatus::Paused];
}

/// One check. Durations are integer nanoseconds, times RFC 3339 UTC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub id: String,
    pub name: String,
    pub status: CheckStatus,
    /// `period` in nanoseconds; 0 when the check has a schedule.
    pub period: i64,
    pub schedule: String,
    /// The schedule in words (`proto::words`, as a job's `schedule_text`); empty with a period.
    #[serde(default)]
    pub schedule_text: String,
    pub timezone: String,
    pub grace: i64,
    /// The last ping of any kind (start, success, fail).
    #[serde(with = "crate::time::opt")]
    pub last_ping: Option<DateTime<Utc>>,
    /// What it said: `success`, `start`, `fail` or an exit code's `exit N`; empty when none.
    pub last_ping_kind: String,
    /// When the check turns late without a new ping; `null` when not up.
    #[serde(with = "crate::time::opt")]
    pub next_due: Option<DateTime<Utc>>,
    /// The counter of the check's newest history row (pings, pauses and resumes).
    pub pings: u64,
    pub notif_on_down: Vec<String>,
    pub notif_on_up: Vec<String>,
}
