//! `karajoctl logs ID [COUNTER] [-n N] [-f]`: print one run's log (or its
//! last N lines), or follow it live over SSE and then every run after it,
//! until Ctrl-C. `logs --all -f` is in [`super::watch`].
//!
//! Invariants: an ID is looked up as a job first, then as an HTTP job
//! (`--http` skips the first); log lines go to stdout as they arrive, the
//! "run ended, waiting" notes to stderr; runs are followed in counter order
//! and none is skipped while it is still on disk.

use std::time::Duration;

use anyhow::Context;
use http_body_util::BodyExt;
use proto::{ErrorName, JobKind, JobLogContent};
use serde_json::Value;

use super::{about, lookup_id, noun};
use crate::cli::LogsArgs;
use crate::client::{Client, decode, encode, segment};
use crate::error::ClientError;
use crate::output;
use crate::sse::{End, Parser};

/// How often a follower asks whether the next run has started. Local and
/// cheap; short enough that a new run's first lines show at once.
const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// How a followed run's lines are printed.
#[derive(Debug, Default)]
pub struct Lines {
    /// Put before every line (`ID: ` for `--all`).
    pub prefix: String,
    /// Lines of the stream not to print: those already written when
    /// following began and not asked for with `-n`.
    pub skip: usize,
    /// Print nothing (`run --wait --json`).
    pub quiet: bool,
}

pub async fn run(client: &Client, args: LogsArgs, json: bool) -> anyhow::Result<()> {
    if args.all {
        return super::watch::run(client).await;
    }
    let asked = args.id.clone().unwrap_or_default();
    let (kind, job) = resolve(client, &asked, args.http).await?;
    let id = job.get("id").and_then(Value::as_str).unwrap_or(&asked).to_string();
    if args.follow {
        return follow(client, kind, &id, args.counter, args.lines, &job).await;
    }
    let counter = match args.counter.or_else(|| latest(&job)) {
        Some(c) => c,
        None => {
            anyhow::bail!("{} {id} has not run yet (follow its first run with: karajoctl logs {id} -f)", noun(kind))
        }
    };
    let path = format!("/{}/log?id={}&counter={counter}", segment(kind), encode(&id));
    let data = client.get(&path).await.with_context(|| format!("reading log #{counter} of {} {id}", noun(kind)))?;
    if json {
        return Ok(output::print_json(&data)?);
    }
    let log: JobLogContent = decode(client, data)?;
    Ok(output::print_bytes(last_lines(&log.content, args.lines))?)
}

/// The last `n` lines of `content` (all of it for `None`).
fn last_lines(content: &[u8], n: Option<usize>) -> &[u8] {
    let Some(n) = n else { return content };
    let body = content.strip_suffix(b"\n").unwrap_or(content);
    let start =
        body.iter().enumerate().rev().filter(|(_, b)| **b == b'\n').nth(n.saturating_sub(1)).map(|(i, _)| i + 1);
    match (n, start) {
        (0, _) => &[],
        (_, Some(i)) => &content[i..],
        (_, None) => content,
    }
}

/// How many lines run `counter` has now (for skipping them when following).
pub async fn line_count(client: &Client, kind: JobKind, id: &str, counter: u64) -> anyhow::Result<usize> {
    let path = format!("/{}/log?id={}&counter={counter}", segment(kind), encode(id));
    let log: JobLogContent = client.get_as(&path).await.with_context(|| format!("reading log #{counter} of {id}"))?;
    Ok(log.content.iter().filter(|&&b| b == b'\n').count())
}

/// Finds which kind of job `given` (an ID or a name) names; returns the
/// job's JSON view.
pub(super) async fn resolve(client: &Client, given: &str, force_http: bool) -> anyhow::Result<(JobKind, Value)> {
    let id = lookup_id(given);
    let id = encode(id.as_str());
    if !force_http {
        match client.get(&format!("/job_exec?id={id}")).await {
            Ok(v) => return Ok((JobKind::Job, v)),
            Err(e) if e.is_unknown_id() => {}
            Err(e) => return Err(e).context(format!("looking up job {given}")),
        }
    }
    let what = if force_http { noun(JobKind::JobHttp) } else { "job or http job" };
    let found = client.get(&format!("/job_http?id={id}")).await;
    let found = found.map_err(|e| match e.name() {
        // Neither kind has it: say so as a job lookup would.
        Some(ErrorName::InvalidJobId) if !force_http => {
            ClientError::Refused { code: 404, name: Some(ErrorName::JobNotFound), message: String::new(), hint: None }
        }
        _ => e,
    });
    Ok((JobKind::JobHttp, about(found, what, given, || format!("looking up http job {given}"))?))
}

/// The highest run counter in a job's `logs`.
pub fn latest(job: &Value) -> Option<u64> {
    counters(job).max()
}

fn counters(job: &Value) -> impl Iterator<Item = u64> + '_ {
    job.get("logs").and_then(Value::as_array).into_iter().flatten().filter_map(|l| l.get("counter")?.as_u64())
}

/// The first run after `after` still on disk, if one has started.
fn next_run(job: &Value, after: u64) -> Option<u64> {
    counters(job).filter(|&c| c > after).min()
}

async fn follow(
    client: &Client,
    kind: JobKind,
    id: &str,
    counter: Option<u64>,
    lines: Option<usize>,
    job: &Value,
) -> anyhow::Result<()> {
    let mut counter = match counter.or_else(|| latest(job)) {
        Some(c) => c,
        None => {
            output::note(&format!(
                "==> {} {id} has not run yet; waiting for its first run (Ctrl-C to stop)",
                noun(kind)
            ));
            wait_for_run_after(client, kind, id, 0).await?
        }
    };
    let mut view = Lines::default();
    if let Some(n) = lines {
        view.skip = line_count(client, kind, id, counter).await?.saturating_sub(n);
    }
    loop {
        let end = stream_run(client, kind, id, counter, &view).await?;
        view.skip = 0;
        output::note(&format!(
            "==> {id} #{} ended: {}; waiting for the next run (Ctrl-C to stop)",
            end.counter, end.status
        ));
        counter = wait_for_run_after(client, kind, id, end.counter).await?;
    }
}

/// Polls the job until a run newer than `after` exists.
pub async fn wait_for_run_after(client: &Client, kind: JobKind, id: &str, after: u64) -> anyhow::Result<u64> {
    let path = format!("/{}?id={}", segment(kind), encode(id));
    loop {
        let job = client.get(&path).await.with_context(|| format!("waiting for a run of {} {id}", noun(kind)))?;
        if let Some(c) = next_run(&job, after) {
            return Ok(c);
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Prints one run's lines as they come; returns how it ended.
pub async fn stream_run(client: &Client, kind: JobKind, id: &str, counter: u64, view: &Lines) -> anyhow::Result<End> {
    let path = format!("/{}/log/stream?id={}&counter={counter}", segment(kind), encode(id));
    let what = || format!("following log #{counter} of {} {id}", noun(kind));
    let mut body = client.stream(&path).await.with_context(what)?;
    let mut parser = Parser::default();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ClientError::Unreachable {
            target: client.target().describe(),
            reason: e.to_string(),
            hint: None,
        })?;
        let Ok(bytes) = frame.into_data() else {
            continue;
        };
        let mut out = Vec::new();
        let mut end = None;
        for ev in parser.push(&bytes) {
            match ev.event.as_str() {
                "end" => end = End::parse(&ev.data),
                _ => {
                    seen += 1;
                    if seen > view.skip && !view.quiet {
                        out.extend_from_slice(view.prefix.as_bytes());
                        out.extend_from_slice(ev.data.as_bytes());
                        out.push(b'\n');
                    }
                }
            }
        }
        output::print_bytes(&out)?;
        if let Some(end) = end {
            return Ok(end);
        }
    }
    Err(ClientError::Unreachable {
        target: client.target().describe(),
        reason: format!("the log stream closed before run #{counter} ended (did karajod stop?)"),
        hint: None,
    })
    .with_context(what)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn latest_and_next_runs_come_from_the_logs_list() {
        let job = json!({"id": "x", "logs": [
            {"counter": 7, "status": "success"}, {"counter": 9, "status": "running"}, {"counter": 8, "status": "failed"}
        ]});
        assert_eq!(latest(&job), Some(9));
        assert_eq!(next_run(&job, 7), Some(8));
        assert_eq!(next_run(&job, 9), None);
        assert_eq!(latest(&json!({"logs": []})), None);
        assert_eq!(latest(&json!({})), None);
    }

    #[test]
    fn last_lines_counts_from_the_end() {
        let log = b"a\nb\nc\n";
        assert_eq!(last_lines(log, Some(2)), b"b\nc\n");
        assert_eq!(last_lines(log, Some(3)), log);
        assert_eq!(last_lines(log, Some(10)), log);
        assert_eq!(last_lines(log, Some(0)), b"");
        assert_eq!(last_lines(log, None), log);
        assert_eq!(last_lines(b"a\nb", Some(1)), b"b");
    }
}
