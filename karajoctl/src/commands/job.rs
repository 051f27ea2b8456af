//! `karajoctl job|http show|run|pause|resume|cancel ID`: one request each,
//! answered by a short confirmation line (`paused job backup`), or the
//! job as it is now with `--json`. ID may also be the job's name.
//! `run --wait` follows the run it queued to its end and exits by its status.

use proto::JobKind;
use serde_json::Value;

use super::logs::{Lines, latest, stream_run, wait_for_run_after};
use super::{about, lookup_id, noun};
use crate::client::{Client, decode, encode, segment};
use crate::error::ClientError;
use crate::output::{self, Style, view};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Run,
    Pause,
    Resume,
    Cancel,
}

impl Action {
    /// The API's path segment.
    fn verb(self) -> &'static str {
        match self {
            Action::Run => "run",
            Action::Pause => "pause",
            Action::Resume => "resume",
            Action::Cancel => "cancel",
        }
    }
}

/// `show`: the job's configuration, status and recent runs.
pub async fn show(client: &Client, kind: JobKind, given: &str, json: bool, style: &Style) -> anyhow::Result<()> {
    let path = format!("/{}?id={}", segment(kind), encode(lookup_id(given).as_str()));
    let data = about(client.get(&path).await, noun(kind), given, || format!("showing {} {given}", noun(kind)))?;
    if json {
        return Ok(output::print_json(&data)?);
    }
    let text = match kind {
        JobKind::Job => view::job(&decode(client, data)?, style),
        JobKind::JobHttp => view::job_http(&decode(client, data)?, style),
    };
    Ok(output::print(&text)?)
}

/// run, pause, resume, cancel.
pub async fn act(client: &Client, kind: JobKind, action: Action, given: &str, json: bool) -> anyhow::Result<()> {
    let id = lookup_id(given);
    let resp = about(client.act(kind, action.verb(), id.as_str()).await, noun(kind), given, || {
        format!("{} {} {given}", action.verb(), noun(kind))
    })?;
    let data = resp.data.unwrap_or(Value::Null);
    if json {
        return Ok(output::print_json(&data)?);
    }
    // Name the job by its ID, as the daemon does.
    let id = data.get("id").and_then(Value::as_str).unwrap_or(id.as_str());
    Ok(output::print(&confirmation(kind, action, id, &resp.message))?)
}

/// `run --wait`: queues a run, prints its log as it is written (nothing
/// with `--json`, then `{"counter", "status"}`), and fails unless it
/// ended `success`. The run followed is the first one after those the job
/// had when asked: the one queued here, unless another trigger came first.
pub async fn run_and_wait(client: &Client, kind: JobKind, given: &str, json: bool) -> anyhow::Result<()> {
    let path = format!("/{}?id={}", segment(kind), encode(lookup_id(given).as_str()));
    let what = || format!("run {} {given}", noun(kind));
    let job = about(client.get(&path).await, noun(kind), given, what)?;
    let id = job.get("id").and_then(Value::as_str).unwrap_or(given).to_string();
    let before = latest(&job).unwrap_or(0);
    about(client.act(kind, Action::Run.verb(), &id).await, noun(kind), given, what)?;
    let counter = wait_for_run_after(client, kind, &id, before).await?;
    let end = stream_run(client, kind, &id, counter, &Lines { quiet: json, ..Lines::default() }).await?;
    if json {
        output::print_json(&serde_json::json!({"counter": end.counter, "status": end.status}))?;
    }
    if end.status == proto::JobStatus::Success.as_str() {
        return Ok(());
    }
    Err(ClientError::RunFailed { what: format!("{} {id} run #{}", noun(kind), end.counter), status: end.status }.into())
}

/// The one line that says what happened.
pub fn confirmation(kind: JobKind, action: Action, id: &str, message: &str) -> String {
    let noun = noun(kind);
    match action {
        Action::Run => format!("queued a run of {noun} {id}\n"),
        Action::Pause => format!("paused {noun} {id}\n"),
        Action::Resume => format!("resumed {noun} {id}\n"),
        Action::Cancel if message == proto::response::CANCEL_NOT_RUNNING => {
            format!("{noun} {id} is not running: nothing to cancel\n")
        }
        Action::Cancel if message == proto::response::CANCEL_QUEUED_DROPPED => {
            format!("canceled the run of {noun} {id} and dropped the run queued behind it\n")
        }
        Action::Cancel => format!("canceled the run of {noun} {id}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirmations_are_one_short_line() {
        assert_eq!(confirmation(JobKind::Job, Action::Pause, "backup", "OK"), "paused job backup\n");
        assert_eq!(confirmation(JobKind::JobHttp, Action::Resume, "ping", "OK"), "resumed http job ping\n");
        assert_eq!(confirmation(JobKind::Job, Action::Run, "x", "OK"), "queued a run of job x\n");
        assert_eq!(confirmation(JobKind::Job, Action::Cancel, "x", "OK"), "canceled the run of job x\n");
        assert_eq!(
            confirmation(JobKind::Job, Action::Cancel, "x", proto::response::CANCEL_NOT_RUNNING),
            "job x is not running: nothing to cancel\n"
        );
        assert_eq!(
            confirmation(JobKind::Job, Action::Cancel, "x", proto::response::CANCEL_QUEUED_DROPPED),
            "canceled the run of job x and dropped the run queued behind it\n"
        );
    }
}
