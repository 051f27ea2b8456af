//! karajod's command line, and how the binary writes to its terminal.
//!
//! Output never panics: a closed stdout (`karajod man | head`) ends the
//! output quietly, and a failed write to stderr is dropped, as there is
//! nowhere left to report it.

use std::io::{ErrorKind, Write};
use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};

/// The default main config file.
pub const DEFAULT_CONFIG: &str = "/etc/karajo/karajo.conf";

/// karajod: a cron-like job runner managed over HTTP.
#[derive(Debug, Parser)]
#[command(name = "karajod", version, about, long_about = None)]
pub struct Cli {
    /// The main configuration file.
    #[arg(long, short = 'c', global = true, default_value = DEFAULT_CONFIG, env = "KARAJO_CONFIG")]
    pub config: PathBuf,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load and validate the configuration, print a summary, exit 0 or 1.
    Check {
        /// Also print the next N runs of each timed job, in its zone and in UTC.
        #[arg(long, value_name = "N")]
        next: Option<usize>,
    },
    /// API tokens for user.conf.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Print karajod's man page (roff) on stdout; used when packaging.
    #[command(hide = true)]
    Man,
    /// Print a completion script for SHELL on stdout; used when packaging.
    #[command(hide = true)]
    Completions { shell: clap_complete::Shell },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Print a new random token once, and the user.conf section (holding
    /// only its hash) to paste.
    New {
        /// The token's name: `[token "NAME"]`, `token:NAME` in the audit log.
        #[arg(value_parser = token_name)]
        name: String,
        /// What the token may do.
        #[arg(long, default_value = "admin", value_parser = role)]
        role: proto::Role,
        /// Globs of the job IDs it may act on, comma-separated (default: all).
        #[arg(long)]
        jobs: Option<String>,
    },
}

fn role(s: &str) -> Result<proto::Role, String> {
    proto::Role::parse(s).ok_or_else(|| format!("unknown role \"{s}\": expected viewer, operator or admin"))
}

fn token_name(s: &str) -> Result<String, String> {
    let bad = s.trim().is_empty() || s.chars().any(|c| c == '"' || c == '\\' || c.is_control());
    if bad {
        Err("a token name must be non-empty, without quotes, backslashes or control characters".into())
    } else {
        Ok(s.to_string())
    }
}

impl Command {
    /// `write_docs` to stdout, as an exit code for `main`.
    pub fn print_docs(&self) -> Option<std::process::ExitCode> {
        let mut out = std::io::stdout().lock();
        let written = self.write_docs(&mut out)?.and_then(|()| out.flush());
        Some(match written {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) if e.kind() == ErrorKind::BrokenPipe => std::process::ExitCode::SUCCESS,
            Err(e) => {
                print_err(&format!("karajod: {e}\n"));
                std::process::ExitCode::from(1)
            }
        })
    }

    /// Writes what `man` and `completions` ask for to `out`. `None` for
    /// the commands that need a configuration: these two must work on a
    /// build machine that has none.
    pub fn write_docs(&self, out: &mut dyn Write) -> Option<std::io::Result<()>> {
        match self {
            Command::Man => Some(clap_mangen::Man::new(Cli::command()).section("8").render(out)),
            Command::Completions { shell } => {
                // clap_complete panics on a write error (e.g. a closed
                // pipe): render in memory, then report a failed write.
                let mut script = Vec::new();
                clap_complete::generate(*shell, &mut Cli::command(), "karajod", &mut script);
                Some(out.write_all(&script))
            }
            Command::Token(TokenCommand::New { name, role, jobs }) => {
                let (token, section) = crate::auth::token::new(name, *role, jobs.as_deref());
                let text = format!(
                    "token (shown once; keep it secret): {token}\n\nadd to user.conf:\n\n{section}\nthen reload karajod; send it as: Authorization: Bearer TOKEN\n"
                );
                Some(out.write_all(text.as_bytes()))
            }
            Command::Check { .. } => None,
        }
    }
}

/// Writes `text` to stdout and flushes it. A reader that went away is
/// not an error: the rest of the output is dropped.
pub fn print_out(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Writes `text` to stderr, ignoring failures (unlike `eprint!`, which
/// panics when stderr is a closed pipe).
pub fn print_err(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(args: &[&str]) -> String {
        let cli = Cli::try_parse_from(args).unwrap();
        let mut out = Vec::new();
        cli.command.unwrap().write_docs(&mut out).unwrap().unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn man_page_is_section_8_and_hides_the_packaging_commands() {
        let man = docs(&["karajod", "man"]);
        assert!(man.contains(".TH karajod 8"), "{man}");
        assert!(man.contains("check"));
        assert!(!man.contains("completions"));
    }

    #[test]
    fn completions_for_every_packaged_shell() {
        for shell in ["bash", "zsh", "fish"] {
            let script = docs(&["karajod", "completions", shell]);
            assert!(script.contains("karajod"), "{shell}: {script}");
        }
    }

    #[test]
    fn check_needs_a_config_and_writes_no_docs() {
        let cli = Cli::try_parse_from(["karajod", "check"]).unwrap();
        assert!(cli.command.unwrap().write_docs(&mut Vec::new()).is_none());
    }
}
