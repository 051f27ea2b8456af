//! `karajoctl audit`: the newest entries of the daemon's audit log (who
//! did what, from where, with what result), newest first; `--json` prints
//! them as sent, each with its `seq` for `--before`.

use anyhow::Context;
use proto::AuditRecord;

use crate::client::Client;
use crate::output::{self, table};

pub async fn run(client: &Client, limit: Option<u32>, before: Option<u64>, json: bool) -> anyhow::Result<()> {
    let mut query = Vec::new();
    if let Some(n) = limit {
        query.push(format!("limit={n}"));
    }
    if let Some(b) = before {
        query.push(format!("before={b}"));
    }
    let path = if query.is_empty() { "/audit".to_string() } else { format!("/audit?{}", query.join("&")) };
    if json {
        let data = client.get(&path).await.context("reading the audit log")?;
        return Ok(output::print_json(&data)?);
    }
    let entries: Vec<AuditRecord> = client.get_as(&path).await.context("reading the audit log")?;
    Ok(output::print(&render(&entries))?)
}

/// The table: SEQ, AT, ACTOR, VIA, SOURCE, ACTION, TARGET, RESULT.
pub fn render(entries: &[AuditRecord]) -> String {
    if entries.is_empty() {
        return "no audit entries\n".into();
    }
    let head = ["SEQ", "AT", "ACTOR", "VIA", "SOURCE", "ACTION", "TARGET", "RESULT"].map(String::from).to_vec();
    let rows = entries.iter().map(|r| {
        let e = &r.entry;
        let target = if e.target.is_empty() { "-".to_string() } else { e.target.clone() };
        vec![
            r.seq.to_string(),
            output::time::exact(e.at),
            e.actor.clone(),
            e.via.clone(),
            e.source.clone(),
            e.action.clone(),
            target,
            e.result.clone(),
        ]
    });
    table::borderless(std::iter::once(head).chain(rows))
}
