//! `karajoctl list [--wide]`: every job and HTTP job in one table (and the
//! passive checks under it), from
//! one `GET /environment` (the whole command is one round trip), fitted
//! to the terminal.

use std::io::IsTerminal;

use anyhow::Context;

use crate::client::Client;
use crate::output::{self, Style, table};

pub async fn run(client: &Client, json: bool, wide: bool, style: &Style) -> anyhow::Result<()> {
    if json {
        let data = client.get("/environment").await.context("listing jobs")?;
        return Ok(output::print_json(&data)?);
    }
    let env: proto::Environment = client.get_as("/environment").await.context("listing jobs")?;
    let width = if wide { None } else { width() };
    let text = format!("{}{}", table::list(&env, style, width), output::checks::list(&env, style));
    Ok(output::print(&text)?)
}

/// The width to fit: the terminal's, else `COLUMNS`; none when stdout is
/// neither (a pipe or file gets every column, for scripts).
fn width() -> Option<usize> {
    let stdout = std::io::stdout();
    if stdout.is_terminal()
        && let Some((terminal_size::Width(w), _)) = terminal_size::terminal_size_of(&stdout)
    {
        return Some(usize::from(w));
    }
    std::env::var("COLUMNS").ok()?.trim().parse().ok().filter(|&w| w > 0)
}
