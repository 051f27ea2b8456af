//! `karajoctl reload`: asks the daemon to read its configuration file
//! again. Prints what changed (or `--json`: the report as sent); warnings
//! go to stderr. A refused configuration is a refusal like any other:
//! its message lists every error and the exit code is 1.

use proto::ReloadReport;
use proto::reload::Changes;

use crate::client::Client;
use crate::output;

pub async fn run(client: &Client, json: bool) -> anyhow::Result<()> {
    let resp = client.reload().await?;
    let report = resp.data.unwrap_or_default();
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    if json {
        return Ok(output::print_json(&serde_json::to_value(&report)?)?);
    }
    Ok(output::print(&summary(&report))?)
}

/// The report in a few lines: one per kind that changed.
pub fn summary(r: &ReloadReport) -> String {
    let mut out = format!("reloaded {}\n", r.config_file);
    for (noun, c) in [("jobs", &r.jobs), ("http jobs", &r.http_jobs)] {
        if !c.is_empty() {
            out.push_str(&format!("  {noun}: {}\n", changes(c)));
        }
    }
    if r.jobs.is_empty() && r.http_jobs.is_empty() {
        out.push_str("  no job changed\n");
    }
    if !r.sessions_ended_for.is_empty() {
        out.push_str(&format!("  sessions ended for: {}\n", r.sessions_ended_for.join(", ")));
    }
    out
}

fn changes(c: &Changes) -> String {
    let mut parts = Vec::new();
    for (word, ids) in [("added", &c.added), ("removed", &c.removed), ("changed", &c.changed)] {
        if !ids.is_empty() {
            parts.push(format!("{word} {}", ids.join(", ")));
        }
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_names_each_change() {
        let r = ReloadReport {
            config_file: "/etc/karajo/karajo.conf".into(),
            jobs: Changes { added: vec!["a".into()], removed: vec!["b".into(), "c".into()], changed: vec![] },
            sessions_ended_for: vec!["alice".into()],
            ..Default::default()
        };
        assert_eq!(
            summary(&r),
            "reloaded /etc/karajo/karajo.conf\n  jobs: added a; removed b, c\n  sessions ended for: alice\n"
        );
        assert!(summary(&ReloadReport::default()).contains("no job changed"));
    }
}
