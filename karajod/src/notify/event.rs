//! What a notification is about: one [`Alert`] (an event of a job run or a
//! check) as every kind of notification reads it, and the [`Event`] names
//! of SPEC 18.
//!
//! Pure data; no I/O. The log tail is read later, by the delivery, from
//! `log_path`, so raising an alert never touches the disk.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

/// The events a job or a check can notify about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    Success,
    Failed,
    /// The first success after a failure.
    Recovered,
    /// A timer slot that was not run (SPEC 17).
    Missed,
    /// A timer run started later than `late_after` after its slot.
    Late,
    /// A run still going after `max_duration`.
    LongRunning,
    /// A check past its period and grace.
    Down,
    /// A check pinged again after being down.
    Up,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Success => "success",
            Event::Failed => "failed",
            Event::Recovered => "recovered",
            Event::Missed => "missed",
            Event::Late => "late",
            Event::LongRunning => "long_running",
            Event::Down => "down",
            Event::Up => "up",
        }
    }

    /// Bad news, for the formats that mark it (ntfy's priority).
    pub fn is_bad(self) -> bool {
        matches!(self, Event::Failed | Event::Missed | Event::Late | Event::LongRunning | Event::Down)
    }
}

/// One event of one job run (or check), as deliveries describe it. The
/// fields are the keys of the `json` webhook format (SPEC 18).
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub event: Event,
    /// `job`, `job_http` or `check`.
    pub kind: &'static str,
    pub job_id: String,
    pub job_name: String,
    /// The run (or ping) counter; 0 for a missed slot that has no run.
    pub counter: u64,
    /// The run's status now (`running` for late and long_running).
    pub status: String,
    pub trigger: String,
    pub attempts: u32,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    /// Where the run's log can be read through the API; empty when none.
    pub log_url: String,
    /// The log file the tail is read from; `None` when there is no log.
    pub log_path: Option<PathBuf>,
}

impl Alert {
    /// `job: ID: #COUNTER: EVENT`: the email subject (SPEC 10's form, with
    /// the event where the status was, so existing filters keep working).
    pub fn subject(&self) -> String {
        format!("{}: {}: #{}: {}", self.kind, self.job_id, self.counter, self.event.as_str())
    }
}
