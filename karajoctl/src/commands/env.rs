//! `karajoctl env`: the daemon's name, version, address and limits.

use anyhow::Context;

use crate::client::{Client, decode};
use crate::output::{self, view};

pub async fn run(client: &Client, json: bool) -> anyhow::Result<()> {
    let data = client.get("/environment").await.context("reading the environment")?;
    if json {
        return Ok(output::print_json(&data)?);
    }
    let env: proto::Environment = decode(client, data)?;
    Ok(output::print(&view::env(&env))?)
}
