//! karajod's command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

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
}
