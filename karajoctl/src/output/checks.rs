//! Passive checks (SPEC 18) as karajoctl prints them: the lines `list`
//! adds under the jobs, and `check show`. Pure functions of the data.

use proto::{Check, Environment};

use super::Style;
use super::time::{duration, when};

/// What a check expects: "every 1h, grace 5m" or "schedule daily@03:00 (UTC), grace 5m".
fn expects(c: &Check) -> String {
    let grace = duration(c.grace);
    if c.schedule.is_empty() {
        format!("every {}, grace {grace}", duration(c.period))
    } else {
        format!("schedule {} ({}), grace {grace}", c.schedule, c.timezone)
    }
}

/// The checks block of `list`: empty when there are none.
pub fn list(env: &Environment, style: &Style) -> String {
    if env.checks.is_empty() {
        return String::new();
    }
    let mut rows = vec![[
        "KIND".to_string(),
        "ID".into(),
        "STATUS".into(),
        "EXPECTS".into(),
        "LAST PING".into(),
        "NEXT DUE".into(),
    ]];
    for c in env.checks.values() {
        rows.push([
            "check".into(),
            c.id.clone(),
            c.status.as_str().into(),
            expects(c),
            when(c.last_ping, style.now, "never"),
            when(c.next_due, style.now, "-"),
        ]);
    }
    let widths: Vec<usize> = (0..6).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::from("\n");
    for r in rows {
        let line: Vec<String> = r.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// `check show NAME`.
pub fn show(c: &Check, style: &Style) -> String {
    let mut out = String::new();
    let mut line = |k: &str, v: String| out.push_str(&format!("{k:<16}{v}\n"));
    line("check", format!("{} ({})", c.name, c.id));
    line("status", c.status.as_str().into());
    line("expects", expects(c));
    let kind = if c.last_ping_kind.is_empty() { String::new() } else { format!(" ({})", c.last_ping_kind) };
    line("last ping", format!("{}{kind}", when(c.last_ping, style.now, "never")));
    line("next due", when(c.next_due, style.now, "-"));
    line("rows", c.pings.to_string());
    let names = |n: &[String]| if n.is_empty() { "-".to_string() } else { n.join(", ") };
    line("notif_on_down", names(&c.notif_on_down));
    line("notif_on_up", names(&c.notif_on_up));
    out
}
