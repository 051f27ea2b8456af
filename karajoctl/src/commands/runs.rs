//! `karajoctl runs ID [-n N] [--status S]`: a job's history rows, newest
//! first, as a table or (`--json`) as the API answers them.

use anyhow::Context;
use proto::Run;

use crate::cli::RunsArgs;
use crate::client::{Client, decode, encode, segment};
use crate::output::{self, Style};

pub async fn run(client: &Client, args: RunsArgs, json: bool, style: &Style) -> anyhow::Result<()> {
    let (kind, job) = super::logs::resolve(client, &args.id, args.http).await?;
    let id = job.get("id").and_then(serde_json::Value::as_str).unwrap_or(&args.id).to_string();
    let mut path = format!("/{}/runs?id={}&limit={}", segment(kind), encode(&id), args.limit);
    if let Some(s) = &args.status {
        path.push_str(&format!("&status={}", encode(s)));
    }
    let data = client.get(&path).await.with_context(|| format!("reading the runs of {} {id}", super::noun(kind)))?;
    if json {
        return Ok(output::print_json(&data)?);
    }
    let rows: Vec<Run> = decode(client, data)?;
    Ok(output::print(&output::runs::runs(&rows, style))?)
}
