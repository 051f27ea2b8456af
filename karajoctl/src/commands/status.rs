//! `karajoctl status`: the daemon at a glance, from `GET /status`.

use anyhow::Context;

use crate::client::{Client, decode};
use crate::output::{self, view};

pub async fn run(client: &Client, json: bool) -> anyhow::Result<()> {
    let data = client.get("/status").await.context("reading the daemon's status")?;
    if json {
        return Ok(output::print_json(&data)?);
    }
    let status: proto::Status = decode(client, data)?;
    Ok(output::print(&view::status(&status))?)
}
