//! `karajoctl list`: every job and HTTP job in one table, from one
//! `GET /environment` (the whole command is one round trip).

use anyhow::Context;

use crate::client::Client;
use crate::output::{self, Style, view};

pub async fn run(client: &Client, json: bool, style: &Style) -> anyhow::Result<()> {
    if json {
        let data = client.get("/environment").await.context("listing jobs")?;
        return Ok(output::print_json(&data)?);
    }
    let env: proto::Environment = client.get_as("/environment").await.context("listing jobs")?;
    Ok(output::print(&view::list(&env, style))?)
}
