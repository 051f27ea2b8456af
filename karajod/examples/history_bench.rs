//! The history store's own costs, for bench/history.sh: a SQLite file (or
//! the PostgreSQL URL in `KARAJOD_DATABASE`) filled with ROWS rows of one
//! job, then RUNS runs written as the engine writes them (`begin_run` then
//! `end_run`: the database time a run adds), then QUERIES pages of 50
//! newest-first rows (what `…/runs?limit=50` asks the database). Prints one
//! JSON line with p50/p99 of each, in microseconds.
//!
//! `cargo run --release -p karajod --example history_bench -- DIR 1000000 2000 2000`

use std::time::Instant;

use chrono::Utc;
use karajod::store::history::{History, Location, RunEnd, RunQuery, RunStart};
use proto::{JobId, JobKind, JobStatus, Run};

/// Rows are imported in batches of this many per transaction.
const BATCH: u64 = 10_000;

fn percentile(v: &mut [u128], p: f64) -> u128 {
    v.sort_unstable();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(args.get(1).expect("DIR"));
    let num = |i: usize, d: u64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let (rows, runs, queries) = (num(2, 1_000_000), num(3, 2000), num(4, 2000));
    let loc = match std::env::var("KARAJOD_DATABASE") {
        Ok(url) if !url.is_empty() => Location::Postgres(url),
        _ => Location::Sqlite(dir.join("karajo.db")),
    };
    let h = History::open(&loc).await.expect("open");
    let id = JobId::from_name("big");
    let t0 = Instant::now();
    let mut counter = h.last_counter(JobKind::Job, &id).await.unwrap();
    while counter < rows {
        let batch: Vec<Run> = (counter + 1..=(counter + BATCH).min(rows))
            .map(|c| {
                let mut r = Run::new(JobKind::Job, &id, c, "success");
                r.trigger = Some("timer".into());
                r.started_at = Some(Utc::now());
                r.ended_at = r.started_at;
                r.duration_ms = Some(5);
                // Old rows, as retention leaves them: their logs are gone.
                r.log = false;
                r
            })
            .collect();
        counter += batch.len() as u64;
        h.insert(&batch).await.unwrap();
    }
    let fill_ms = t0.elapsed().as_millis();
    let mut per_run = Vec::new();
    for _ in 0..runs {
        let now = Utc::now();
        let start = RunStart {
            kind: JobKind::Job,
            job_id: &id,
            floor: counter,
            trigger: "timer",
            slot: Some(now),
            queued_at: now,
            started_at: now,
            node: None,
            actor: None,
        };
        let t = Instant::now();
        counter = h.begin_run(&start).await.unwrap();
        let end = RunEnd {
            kind: JobKind::Job,
            job_id: &id,
            counter,
            status: JobStatus::Success,
            ended_at: now,
            duration_ms: 1,
            attempts: 1,
            exit_code: Some(0),
        };
        h.end_run(&end).await.unwrap();
        per_run.push(t.elapsed().as_micros());
    }
    let mut per_query = Vec::new();
    for _ in 0..queries {
        let q = RunQuery { kind: JobKind::Job, job_id: &id, limit: 50, before: None, status: None };
        let t = Instant::now();
        assert_eq!(h.runs(&q).await.unwrap().len(), 50);
        per_query.push(t.elapsed().as_micros());
    }
    h.close().await;
    println!(
        "{{\"rows\":{counter},\"fill_ms\":{fill_ms},\"run_us_p50\":{},\"run_us_p99\":{},\"runs_query_us_p50\":{},\"runs_query_us_p99\":{}}}",
        percentile(&mut per_run, 0.5),
        percentile(&mut per_run, 0.99),
        percentile(&mut per_query, 0.5),
        percentile(&mut per_query, 0.99)
    );
}
