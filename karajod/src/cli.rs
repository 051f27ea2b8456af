//! karajod's command line.

use std::io::Write;
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
    Check,
    /// Print karajod's man page (roff) on stdout; used when packaging.
    #[command(hide = true)]
    Man,
    /// Print a completion script for SHELL on stdout; used when packaging.
    #[command(hide = true)]
    Completions { shell: clap_complete::Shell },
}

impl Command {
    /// `write_docs` to stdout, as an exit code for `main`.
    pub fn print_docs(&self) -> Option<std::process::ExitCode> {
        let written = self.write_docs(&mut std::io::stdout().lock())?;
        Some(match written {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("karajod: {e}");
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
            Command::Check => None,
        }
    }
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
