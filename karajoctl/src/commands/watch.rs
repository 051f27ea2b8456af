//! `karajoctl logs --all -f`: the new lines of every job and HTTP job as
//! they are written, each prefixed by its ID, until Ctrl-C.
//!
//! One poll of `/environment` finds new runs (the daemon keeps that answer
//! encoded while nothing changes, so polling is cheap); each run is then
//! streamed on its own task. Invariants: a line written before the command
//! started is not printed; every run that starts afterwards is printed
//! whole, in the order its lines arrive; one run's failing stream is
//! reported on stderr and does not stop the others.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use proto::{Environment, JobKind, JobLog, JobStatus};
use tokio::task::JoinSet;

use super::logs::{Lines, line_count, stream_run};
use crate::client::Client;

/// How often the job list is asked for new runs.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

type Key = (JobKind, String);

pub async fn run(client: &Client) -> anyhow::Result<()> {
    let client = Arc::new(client.clone());
    // The highest run counter already handled, per job.
    let mut seen: HashMap<Key, u64> = HashMap::new();
    let mut streams = JoinSet::new();
    let mut first = true;
    loop {
        let env: Environment = client.get_as("/environment").await.context("listing jobs to follow")?;
        for (key, logs) in runs(&env) {
            let latest = logs.iter().map(|l| l.counter).max().unwrap_or(0);
            let Some(&before) = seen.get(&key) else {
                // First sight: only a run in progress has lines still to come.
                seen.insert(key.clone(), latest);
                if let Some(l) = logs.iter().find(|l| l.counter == latest && l.status == JobStatus::Running) {
                    let skip = line_count(&client, key.0, &key.1, l.counter).await.unwrap_or(0);
                    streams.spawn(follow(client.clone(), key.clone(), l.counter, skip));
                }
                continue;
            };
            let mut new: Vec<u64> = logs.iter().map(|l| l.counter).filter(|&c| c > before).collect();
            new.sort_unstable();
            for counter in new {
                streams.spawn(follow(client.clone(), key.clone(), counter, 0));
            }
            seen.insert(key, latest.max(before));
        }
        if std::mem::take(&mut first) {
            eprintln!("==> following the new log lines of {} jobs (Ctrl-C to stop)", seen.len());
        }
        while let Some(done) = streams.try_join_next() {
            if let Ok(Err(e)) = done {
                eprintln!("karajoctl: {e:#}");
            }
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Every job's key and its runs on disk.
fn runs(env: &Environment) -> impl Iterator<Item = (Key, &[JobLog])> {
    let jobs = env.jobs.values().map(|j| ((JobKind::Job, j.base.id.to_string()), &j.base.logs[..]));
    let https = env.http_jobs.values().map(|j| ((JobKind::JobHttp, j.base.id.to_string()), &j.base.logs[..]));
    jobs.chain(https)
}

/// Streams one run with its job's prefix.
async fn follow(client: Arc<Client>, key: Key, counter: u64, skip: usize) -> anyhow::Result<()> {
    let (kind, id) = key;
    let prefix = match kind {
        JobKind::Job => format!("{id}: "),
        JobKind::JobHttp => format!("{id} (http): "),
    };
    stream_run(&client, kind, &id, counter, &Lines { prefix, skip, quiet: false }).await.map(drop)
}
