//! `karajoctl check show|pause|resume NAME`: one request each to
//! `/karajo/api/check…`; `--json` prints the Check as the daemon answers it.

use anyhow::Context;
use serde_json::Value;

use crate::cli::CheckCommand;
use crate::client::{Client, decode, encode};
use crate::output::{self, Style};

pub async fn run(client: &Client, c: CheckCommand, json: bool) -> anyhow::Result<()> {
    let (action, name) = match &c {
        CheckCommand::Show { name } => (None, name),
        CheckCommand::Pause { name } => (Some("pause"), name),
        CheckCommand::Resume { name } => (Some("resume"), name),
    };
    let data = match action {
        None => client
            .get(&format!("/check?name={}", encode(name)))
            .await
            .with_context(|| format!("showing check {name}"))?,
        Some(a) => {
            let resp = client.act_check(a, name).await.with_context(|| format!("{a} check {name}"))?;
            resp.data.unwrap_or(Value::Null)
        }
    };
    if json {
        return Ok(output::print_json(&data)?);
    }
    let check: proto::Check = decode(client, data)?;
    let text = match action {
        None => output::checks::show(&check, &Style::detect()),
        Some(a) => format!("{}d check {} (now {})\n", a, check.id, check.status.as_str()),
    };
    Ok(output::print(&text)?)
}
