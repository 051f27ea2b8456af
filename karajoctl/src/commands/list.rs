//! `karajoctl list`: every job and HTTP job in one table, from one
//! `GET /environment` (the whole command is one round trip).

use anyhow::Context;

use crate::client::{Client, decode};
use crate::output::{self, Style, view};

pub async fn run(client: &Client, json: bool, style: &Style) -> anyhow::Result<()> {
    let data = client.get("/environment").await.context("listing jobs")?;
    if json {
        return Ok(output::print_json(&data)?);
    }
    let env: proto::Environment = decode(client, data)?;
    Ok(output::print(&view::list(&env, style))?)
}
