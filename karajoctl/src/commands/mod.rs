//! One module per command; each is a plain async function of the client,
//! its arguments and the output style. Dispatch lives here.
//!
//! Invariant: commands return errors instead of exiting; `main` maps them
//! to exit codes, so every command is callable from tests.

mod audit;
mod check;
mod env;
mod job;
mod list;
mod logs;
mod reload;
mod runs;
mod status;
mod upcoming;
mod watch;

use crate::cli::{Command, JobCommand};
use crate::client::Client;
use crate::error::ClientError;
use crate::output::Style;
use proto::{JobId, JobKind};

/// Runs a command that talks to the daemon (completions and the man page
/// are handled before any connection, in `main`).
pub async fn run(command: Command, client: &Client, json: bool) -> anyhow::Result<()> {
    let style = Style::detect();
    match command {
        Command::List { wide } => list::run(client, json, wide, &style).await,
        Command::Status => status::run(client, json).await,
        Command::Upcoming { hours } => upcoming::run(client, hours, json, &style).await,
        Command::Env => env::run(client, json).await,
        Command::Reload => reload::run(client, json).await,
        Command::Audit { limit, before } => audit::run(client, limit, before, json).await,
        Command::Job(c) => dispatch(client, JobKind::Job, c, json, &style).await,
        Command::Http(c) => dispatch(client, JobKind::JobHttp, c, json, &style).await,
        Command::Check(c) => check::run(client, c, json).await,
        Command::Logs(args) => logs::run(client, args, json).await,
        Command::Runs(args) => runs::run(client, args, json, &style).await,
        Command::Completions { .. } | Command::Man => {
            unreachable!("handled in main without a client")
        }
    }
}

async fn dispatch(client: &Client, kind: JobKind, c: JobCommand, json: bool, style: &Style) -> anyhow::Result<()> {
    use job::Action;
    match c {
        JobCommand::Show { id } => job::show(client, kind, &id, json, style).await,
        JobCommand::Run { id, wait: true } => job::run_and_wait(client, kind, &id, json).await,
        JobCommand::Run { id, wait: false } => job::act(client, kind, Action::Run, &id, json).await,
        JobCommand::Pause { id } => job::act(client, kind, Action::Pause, &id, json).await,
        JobCommand::Resume { id } => job::act(client, kind, Action::Resume, &id, json).await,
        JobCommand::Cancel { id } => job::act(client, kind, Action::Cancel, &id, json).await,
    }
}

/// The ID a command argument names: an ID, or a job's name as the
/// dashboard shows it ("Nightly report" is `nightly_report`, SPEC 2.3).
/// Normalising an ID gives the same ID.
pub fn lookup_id(given: &str) -> JobId {
    JobId::from_name(given)
}

/// `result` with `doing` as context, except that an unknown ID gets the one
/// message every command gives, naming the argument as typed.
pub fn about<T>(
    result: Result<T, ClientError>,
    what: &str,
    given: &str,
    doing: impl FnOnce() -> String,
) -> anyhow::Result<T> {
    match result {
        Ok(v) => Ok(v),
        Err(e) if e.is_unknown_id() => Err(e.for_unknown_id(what, given).into()),
        Err(e) => Err(anyhow::Error::new(e).context(doing())),
    }
}

/// How messages name a kind: `job` or `http job`.
pub fn noun(kind: JobKind) -> &'static str {
    match kind {
        JobKind::Job => "job",
        JobKind::JobHttp => "http job",
    }
}
