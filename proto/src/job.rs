//! Job identity and the JSON views of jobs, HTTP jobs, run logs and the
//! environment, with the keys the original karajo 0.9 clients read.
//!
//! Invariant: a [`JobId`] is always normalised (see [`JobId::from_name`]),
//! so comparing two IDs is a plain string comparison.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A job's ID: its name normalised so it is safe as a file name and URL part.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(String);

impl JobId {
    /// Normalises a job name: ASCII letters lowered; letters, digits, `-`
    /// and `_` kept; every other byte becomes `_`; a first character that is
    /// not a letter or `_` gets a `_` in front.
    ///
    /// ```
    /// use proto::JobId;
    /// assert_eq!(JobId::from_name("Test job success").as_str(), "test_job_success");
    /// assert_eq!(JobId::from_name("hello-world").as_str(), "hello-world");
    /// assert_eq!(JobId::from_name("1st").as_str(), "_1st");
    /// ```
    pub fn from_name(name: &str) -> JobId {
        let mut id = String::with_capacity(name.len() + 1);
        for b in name.bytes() {
            match b {
                b'A'..=b'Z' => id.push(b.to_ascii_lowercase() as char),
                b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => id.push(b as char),
                _ => id.push('_'),
            }
        }
        if !id.starts_with(|c: char| c.is_ascii_lowercase() || c == '_') {
            id.insert(0, '_');
        }
        JobId(id)
    }

    /// Reads an ID given by a client: IDs match case-insensitively, and an
    /// input that is not already a normalised ID matches nothing.
    pub fn parse_lookup(s: &str) -> Option<JobId> {
        let lowered = s.to_ascii_lowercase();
        let id = JobId::from_name(&lowered);
        (id.0 == lowered && !lowered.is_empty()).then_some(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The two kinds of jobs; they have separate ID spaces and log folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// `[job]`: commands or a closure.
    Job,
    /// `[job.http]`: a signed request to a URL.
    JobHttp,
}

impl JobKind {
    /// The word used in log prefixes, mail subjects and folders: `job` or `job_http`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Job => "job",
            JobKind::JobHttp => "job_http",
        }
    }
}

/// A job's status as clients see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Loaded, never run.
    Started,
    Running,
    Success,
    Failed,
    Canceled,
    Paused,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Started => "started",
            JobStatus::Running => "running",
            JobStatus::Success => "success",
            JobStatus::Failed => "failed",
            JobStatus::Canceled => "canceled",
            JobStatus::Paused => "paused",
        }
    }

    /// Reads a status word, e.g. the suffix of a log file name.
    pub fn parse(s: &str) -> Option<JobStatus> {
        Some(match s {
            "started" => JobStatus::Started,
            "running" => JobStatus::Running,
            "success" => JobStatus::Success,
            "failed" => JobStatus::Failed,
            "canceled" => JobStatus::Canceled,
            "paused" => JobStatus::Paused,
            _ => return None,
        })
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `name` of a run's log, as the original shows it: the log's file
/// name `ID.COUNTER.STATUS` once the run ended, `ID.COUNTER` while it runs.
pub fn log_name(id: &JobId, counter: u64, status: JobStatus) -> String {
    match status {
        JobStatus::Running => format!("{id}.{counter}"),
        s => format!("{id}.{counter}.{}", s.as_str()),
    }
}

/// One run's entry in a job's `logs` list; `name` is [`log_name`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobLog {
    pub job_id: JobId,
    pub name: String,
    pub status: JobStatus,
    pub counter: u64,
    /// From the run's history row (SPEC 15); `null` when unknown, absent
    /// from older daemons.
    #[serde(default)]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub duration_ms: Option<i64>,
    #[serde(default)]
    pub trigger: Option<String>,
    #[serde(default)]
    pub attempts: Option<u32>,
}

/// One run's log with its content (base64 on the wire, as Go writes `[]byte`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobLogContent {
    pub job_id: JobId,
    pub name: String,
    pub status: JobStatus,
    pub counter: u64,
    #[serde(with = "base64_bytes")]
    pub content: Vec<u8>,
}

/// What the views of both kinds share (the original's `JobBase`, whose
/// fields Go inlines into `Job` and `JobHttp`, as `flatten` does here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobBase {
    pub id: JobId,
    pub name: String,
    pub description: String,
    /// `description` as HTML the daemon sanitised once per config load
    /// (an allow-list of text tags, http(s) links only); ours, added so the
    /// dashboard never sanitises. Absent from older daemons: empty.
    #[serde(default)]
    pub description_html: String,
    pub status: JobStatus,
    /// A trigger waits: behind the active run, or for a free global slot
    /// (`max_job_running`); ours, added. Absent from older daemons: false.
    #[serde(default)]
    pub queued: bool,
    pub schedule: String,
    pub interval: i64,
    /// When it runs, in words ([`crate::words::When`]); ours, added for
    /// the dashboard and karajoctl. Absent from older daemons: empty.
    #[serde(default)]
    pub schedule_text: String,
    /// The IANA zone its schedule is read in (SPEC 16); ours. Absent from
    /// older daemons: empty.
    #[serde(default)]
    pub timezone: String,
    /// Timer runs start up to this long after their slot, in nanoseconds
    /// (SPEC 16); ours. Absent from older daemons: 0.
    #[serde(default)]
    pub jitter: i64,
    #[serde(with = "crate::time::opt")]
    pub last_run: Option<DateTime<Utc>>,
    #[serde(with = "crate::time::opt")]
    pub next_run: Option<DateTime<Utc>>,
    pub header_sign: String,
    pub log_retention: u32,
    /// Run rows kept in the history database (SPEC 15); absent from older daemons: 0.
    #[serde(default)]
    pub history_retention: u32,
    pub notif_on_success: Vec<String>,
    pub notif_on_failed: Vec<String>,
    /// The keys of SPEC 18 beside `notif_on_success` and `notif_on_failed`.
    #[serde(flatten)]
    pub alerts: JobAlerts,
    /// Duration of the last ended run (SPEC 15); `null` when none.
    #[serde(default)]
    pub last_duration_ms: Option<i64>,
    /// Share of `success` among the last 20 ended runs, 0 to 1; `null` when none.
    #[serde(default)]
    pub success_rate: Option<f64>,
    pub logs: Vec<JobLog>,
    /// What a trigger does while the job runs: `queue`, `skip`, `replace`
    /// or `latest` (SPEC 17); absent from older daemons: `queue`.
    #[serde(default = "default_overlap")]
    pub overlap: String,
    /// How many triggers may wait behind a run (`queue`: `queue_size`).
    #[serde(default = "default_queue_size")]
    pub queue_size: u32,
    /// Attempts after a failed one (`retry`, SPEC 17); absent from older daemons: 0.
    #[serde(default)]
    pub retry: u32,
    /// Wait before the first retry, in nanoseconds.
    #[serde(default)]
    pub retry_delay: i64,
    /// Each wait is the previous one times this.
    #[serde(default = "one")]
    pub retry_backoff: f64,
    /// The longest wait between attempts, in nanoseconds.
    #[serde(default)]
    pub retry_max_delay: i64,
    /// The failures retried, as written (`1,75`, `5xx,timeout`); empty = any.
    #[serde(default)]
    pub retry_on: String,
    /// `none`, `latest` or `all`: missed timer slots after a start (SPEC 17).
    #[serde(default)]
    pub catch_up: String,
    /// Missed slots older than this (nanoseconds) are not run.
    #[serde(default)]
    pub catch_up_window: i64,
}

fn one() -> f64 {
    1.0
}

/// A job's alert keys (SPEC 18), flattened into the Job and JobHttp JSON.
/// Absent from older daemons: empty lists, zero durations, empty URL.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct JobAlerts {
    #[serde(default)]
    pub notif_on_recovered: Vec<String>,
    #[serde(default)]
    pub notif_on_missed: Vec<String>,
    #[serde(default)]
    pub notif_on_late: Vec<String>,
    #[serde(default)]
    pub notif_on_long_running: Vec<String>,
    /// Nanoseconds after its slot a timer run counts as late.
    #[serde(default)]
    pub late_after: i64,
    /// Nanoseconds a run may go before `notif_on_long_running`; 0 = never.
    #[serde(default)]
    pub max_duration: i64,
    /// With any `user:password@` shown as `***@`.
    #[serde(default)]
    pub ping_url: String,
}

fn default_overlap() -> String {
    "queue".into()
}

fn default_queue_size() -> u32 {
    1
}

/// A `[job]` as the API shows it. Durations are integer nanoseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    #[serde(flatten)]
    pub base: JobBase,
    pub path: String,
    pub auth_kind: String,
    pub commands: Vec<String>,
    /// Processes a run leaves behind at its normal end are not ended.
    #[serde(default)]
    pub leave_processes: bool,
    /// The names `env` and `env_file` set; values are never shown.
    #[serde(default)]
    pub env_names: Vec<String>,
    /// The file `env_file` names, as resolved; empty when unset.
    #[serde(default)]
    pub env_file: String,
    /// The working directory when `dir` sets one; empty = the job's own.
    #[serde(default)]
    pub dir: String,
    /// The user and group the commands run as; empty = karajod's own.
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub group: String,
}

/// A `[job.http]` as the API shows it. Durations are integer nanoseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobHttp {
    #[serde(flatten)]
    pub base: JobBase,
    pub http_method: String,
    /// With any `user:password@` shown as `***@` ([`crate::redact::url`]).
    pub http_url: String,
    pub http_request_type: String,
    /// `Name: value`, credential values as `***`, `$VAR` values as `$VAR`.
    pub http_headers: Vec<String>,
    pub http_timeout: i64,
    pub http_insecure: bool,
}

/// A job of either kind as the API shows it: the `data` of pause, resume
/// and cancel, which serve both kinds. Encodes as the `Job` or `JobHttp`
/// it holds (no tag), so the JSON is exactly that view's.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AnyJob {
    Job(Job),
    Http(JobHttp),
}

/// `GET /karajo/api/environment`: the server and every job, keyed by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    pub name: String,
    pub listen_address: String,
    pub dir_base: String,
    pub dir_public: String,
    pub http_timeout: i64,
    pub max_job_running: u32,
    pub is_development: bool,
    pub version: String,
    pub jobs: BTreeMap<String, Job>,
    pub http_jobs: BTreeMap<String, JobHttp>,
    /// Passive checks by name (SPEC 18); absent from older daemons: none.
    #[serde(default)]
    pub checks: BTreeMap<String, crate::check::Check>,
}

mod base64_bytes {
    use base64::Engine as _;
    use base64::alphabet::STANDARD;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    use serde::{Deserialize, Deserializer, Serializer};

    /// Go's `StdEncoding` on the way out (padded); on the way in, padding
    /// is optional and stray low bits are ignored, as the hand-written
    /// decoder this replaced accepted, so no answer that parsed before fails.
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&LENIENT.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        LENIENT.decode(s).map_err(|e| serde::de::Error::custom(format!("invalid base64: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_normalised_like_the_original() {
        for (name, id) in [
            ("Test job success", "test_job_success"),
            ("hello-world", "hello-world"),
            ("1st", "_1st"),
            ("Über", "__ber"),
            ("_x", "_x"),
            ("-x", "_-x"),
        ] {
            assert_eq!(JobId::from_name(name).as_str(), id, "{name}");
        }
    }

    #[test]
    fn lookups_are_case_insensitive_and_reject_non_ids() {
        assert_eq!(JobId::parse_lookup("Hello-World").unwrap().as_str(), "hello-world");
        assert!(JobId::parse_lookup("../etc").is_none());
        assert!(JobId::parse_lookup("").is_none());
        assert!(JobId::parse_lookup("a b").is_none());
    }

    #[test]
    fn log_names_are_file_names_once_the_run_ended() {
        let id = JobId::from_name("Backup");
        assert_eq!(log_name(&id, 3, JobStatus::Success), "backup.3.success");
        assert_eq!(log_name(&id, 4, JobStatus::Failed), "backup.4.failed");
        assert_eq!(log_name(&id, 5, JobStatus::Running), "backup.5");
    }

    #[test]
    fn log_content_is_base64_on_the_wire() {
        for content in [&b""[..], b"a", b"ab", b"abc", b"hello\nworld\xff"] {
            let log = JobLogContent {
                job_id: JobId::from_name("x"),
                name: "x.1".into(),
                status: JobStatus::Success,
                counter: 1,
                content: content.to_vec(),
            };
            let json = serde_json::to_value(&log).unwrap();
            let back: JobLogContent = serde_json::from_value(json.clone()).unwrap();
            assert_eq!(back, log);
            if content == b"abc" {
                assert_eq!(json["content"], "YWJj");
            }
        }
    }

    fn decode(content: &str) -> Result<Vec<u8>, serde_json::Error> {
        let json =
            serde_json::json!({"job_id": "x", "name": "x.1", "status": "success", "counter": 1, "content": content});
        serde_json::from_value::<JobLogContent>(json).map(|l| l.content)
    }

    #[test]
    fn log_content_is_padded_out_and_lenient_in() {
        let log = |content: &[u8]| JobLogContent {
            job_id: JobId::from_name("x"),
            name: "x.1".into(),
            status: JobStatus::Success,
            counter: 1,
            content: content.to_vec(),
        };
        assert_eq!(serde_json::to_value(log(b"a")).unwrap()["content"], "YQ==");
        assert_eq!(serde_json::to_value(log(b"ab")).unwrap()["content"], "YWI=");
        assert_eq!(serde_json::to_value(log(b"\xff\xfe\xfd")).unwrap()["content"], "//79");
        assert_eq!(decode("YQ==").unwrap(), b"a");
        assert_eq!(decode("YQ").unwrap(), b"a", "padding is optional");
        assert_eq!(decode("YR==").unwrap(), b"a", "stray low bits are ignored");
        assert_eq!(decode("").unwrap(), b"");
        for bad in ["Y", "YQ=!", "-_-_", "YQ==YQ=="] {
            assert!(decode(bad).is_err(), "{bad:?} decoded");
        }
    }
}
