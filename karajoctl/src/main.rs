//! karajoctl: the admin CLI of karajod, over its control socket or HTTP.
//!
//! Thin: answer a shell's completion request (see [`complete`]), parse the
//! command line, answer `completions`/`man` without any connection, run the command on a current-thread runtime (one socket at a
//! time needs no thread pool, and start-up stays in the low milliseconds),
//! and map the outcome to an exit code: 0 ok, 1 the daemon refused, 2 usage,
//! 3 the daemon could not be reached. A closed stdout exits 0 quietly.

mod cli;
mod client;
mod commands;
mod complete;
mod error;
mod output;
mod sse;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::client::{Client, Target};
use crate::error::classify;

fn main() -> ExitCode {
    complete::answer_if_asked();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Completions { shell } => generate_completions(shell),
        Command::Man => generate_man(),
        command => talk(command, &cli.global),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let (code, quiet) = classify(&err);
            if !quiet {
                output::note(&format!("karajoctl: {err:#}"));
            }
            ExitCode::from(code)
        }
    }
}

fn talk(command: Command, global: &cli::Global) -> anyhow::Result<()> {
    let target = match Target::from_args(global) {
        Ok(t) => t,
        // A malformed --url is a usage error, reported the way clap reports them.
        Err(e) => cli::command().error(clap::error::ErrorKind::ValueValidation, e).exit(),
    };
    let mut client = Client::new(target, global.secret.clone());
    if let Some(path) = &global.cacert {
        client = match client.with_cacert(path) {
            Ok(c) => c,
            Err(e) => cli::command().error(clap::error::ErrorKind::ValueValidation, e).exit(),
        };
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(commands::run(command, &client, global.json))
}

fn generate_completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    let mut out = Vec::new();
    complete::script(shell, &mut out)?;
    Ok(output::print_bytes(&out)?)
}

fn generate_man() -> anyhow::Result<()> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cli::command()).render(&mut out)?;
    Ok(output::print_bytes(&out)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::exit;

    #[test]
    fn usage_exit_code_matches_clap() {
        assert_eq!(exit::USAGE, 2);
        let e = cli::command().try_get_matches_from(["karajoctl"]).unwrap_err();
        assert_eq!(e.exit_code(), i32::from(exit::USAGE));
    }
}
