//! Everything karajoctl prints: tables and detail views (pure functions of
//! the data and a [`Style`], so golden tests pin them), `--json`, and the
//! decision whether to colour.
//!
//! Invariants: data goes to stdout, diagnostics to stderr; colour only when
//! stdout is a terminal and `NO_COLOR` is unset; `--json` prints the API's
//! `data` untouched.

pub mod checks;
pub mod runs;
pub mod schedule;
pub mod table;
pub mod time;
pub mod upcoming;
pub mod view;

#[cfg(test)]
mod golden;

use std::io::{IsTerminal, Write};

use chrono::{DateTime, Utc};
use proto::JobStatus;
use serde_json::Value;

/// How to render: with or without colour, relative to which moment.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub now: DateTime<Utc>,
}

impl Style {
    /// For this process's stdout and environment, now.
    pub fn detect() -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some();
        Style { color: !no_color && std::io::stdout().is_terminal(), now: Utc::now() }
    }

    /// A status word, coloured when allowed.
    pub fn status(&self, status: JobStatus) -> String {
        self.paint(status, Self::status_word(status))
    }

    /// How a status reads: the API's word, but `never run` for `started`
    /// (loaded and never run), which is what it means to a reader.
    pub fn status_word(status: JobStatus) -> &'static str {
        match status {
            JobStatus::Started => "never run",
            s => s.as_str(),
        }
    }

    /// `text` in the colour of `status`, when allowed.
    pub fn paint(&self, status: JobStatus, text: &str) -> String {
        if !self.color {
            return text.to_string();
        }
        let code = match status {
            JobStatus::Success => "32",
            JobStatus::Failed => "31",
            JobStatus::Running => "36",
            JobStatus::Paused => "33",
            JobStatus::Canceled => "35",
            JobStatus::Started => "2",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}

/// Writes text to stdout and flushes (a follower's lines must show at once).
pub fn print(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// A diagnostic line to stderr. Unlike `eprintln!`, never panics: a closed
/// stderr leaves nowhere to report to, so the line is dropped.
pub fn note(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(line.as_bytes()).and_then(|()| err.write_all(b"\n"));
}

/// Writes bytes to stdout as they are (log content need not be UTF-8).
pub fn print_bytes(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

/// `--json`: the API's data, pretty-printed, one document.
pub fn print_json(data: &Value) -> std::io::Result<()> {
    let mut text = serde_json::to_string_pretty(data).map_err(std::io::Error::other)?;
    text.push('\n');
    print(&text)
}
