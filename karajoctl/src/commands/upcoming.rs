//! `karajoctl upcoming [--hours H]`: the timer runs due soon, from
//! `GET /upcoming` (SPEC 16).

use anyhow::Context;

use crate::client::{Client, decode};
use crate::output::{self, Style};

pub async fn run(client: &Client, hours: u32, json: bool, style: &Style) -> anyhow::Result<()> {
    let path = format!("/upcoming?hours={hours}&limit={}", proto::upcoming::DEFAULT_LIMIT);
    let data = client.get(&path).await.context("reading the upcoming runs")?;
    if json {
        return Ok(output::print_json(&data)?);
    }
    let runs: Vec<proto::Upcoming> = decode(client, data)?;
    Ok(output::print(&output::upcoming::table(&runs, style))?)
}
