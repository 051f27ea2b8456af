//! Shell completion: the scripts `karajoctl completions SHELL` prints, and
//! the job IDs they offer, asked of the daemon at the moment of <TAB>.
//!
//! The scripts register karajoctl itself as the completer (clap_complete's
//! dynamic engine): the shell runs `COMPLETE=SHELL karajoctl -- WORDS...`,
//! and [`job_ids`] reads the `--socket` / `--url` / `--secret` already
//! typed on that line (or their environment variables) to reach the
//! daemon. Invariant: completion never fails loudly; an unreachable daemon
//! just offers no IDs, within [`ASK_TIMEOUT`].

use std::ffi::OsString;
use std::io::Write;
use std::time::Duration;

use clap::Parser;
use clap_complete::engine::CompletionCandidate;
use clap_complete::env::{EnvCompleter, Shells};

use crate::cli::{DEFAULT_SOCKET, Global};
use crate::client::{Client, Target};

/// The environment variable the scripts set to ask for completions.
pub const VAR: &str = "COMPLETE";
/// How long a <TAB> may wait for the daemon.
const ASK_TIMEOUT: Duration = Duration::from_secs(2);

/// Answers a completion request and exits, if this run is one.
pub fn answer_if_asked() {
    clap_complete::CompleteEnv::with_factory(crate::cli::command).var(VAR).complete();
}

/// The registration script for `shell`, calling the `karajoctl` on PATH.
pub fn script(shell: clap_complete::Shell, out: &mut dyn Write) -> std::io::Result<()> {
    let name = shell.to_string();
    let shells = Shells::builtins();
    let completer: &dyn EnvCompleter =
        shells.completer(&name).ok_or_else(|| std::io::Error::other(format!("no completion support for {name}")))?;
    completer.write_registration(VAR, "karajoctl", "karajoctl", "karajoctl", out)
}

/// Only the connection flags of a command line; everything else is ignored.
#[derive(Debug, Parser)]
#[command(ignore_errors = true)]
struct Connection {
    #[command(flatten)]
    global: Global,
}

/// Every job and HTTP job ID the daemon has, the name as help.
pub fn job_ids() -> Vec<CompletionCandidate> {
    let args: Vec<OsString> = std::env::args_os().collect();
    // `karajoctl -- karajoctl WORDS...`: the words after `--`.
    let words = args.iter().position(|a| a == "--").map_or(&args[..], |i| &args[i + 1..]);
    let conn = Connection::try_parse_from(words.iter().filter(|w| !w.is_empty()));
    let global = match conn {
        Ok(c) => c.global,
        Err(_) => Global { json: false, socket: DEFAULT_SOCKET.into(), url: None, secret: None, cacert: None },
    };
    let Ok(target) = Target::from_args(&global) else { return Vec::new() };
    let mut client = Client::new(target, global.secret);
    if let Some(path) = &global.cacert {
        // Completion stays quiet: a bad file just completes nothing.
        let Ok(c) = client.with_cacert(path) else { return Vec::new() };
        client = c;
    }
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return Vec::new() };
    let env = rt.block_on(async {
        tokio::time::timeout(ASK_TIMEOUT, client.get_as::<proto::Environment>("/environment")).await
    });
    let Ok(Ok(env)) = env else { return Vec::new() };
    let jobs = env.jobs.values().map(|j| (j.base.id.to_string(), j.base.name.clone()));
    let https = env.http_jobs.values().map(|j| (j.base.id.to_string(), j.base.name.clone()));
    let mut ids: Vec<(String, String)> = jobs.chain(https).collect();
    ids.sort();
    ids.dedup_by(|a, b| a.0 == b.0);
    ids.into_iter().map(|(id, name)| CompletionCandidate::new(id).help(Some(name.into()))).collect()
}
