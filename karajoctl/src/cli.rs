//! The command line as clap sees it. Completions and the man page are
//! generated from these same definitions, so this file is the one source
//! of truth for flags, help texts and defaults.
//!
//! Invariant: this is raw user input; [`crate::client::Target::from_args`]
//! turns the connection flags into a validated target.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use clap_complete::engine::ArgValueCandidates;

use crate::complete::job_ids;

/// Where karajod listens when nothing else is said (the packaged layout).
pub const DEFAULT_SOCKET: &str = "/run/karajo/karajod.sock";

/// Manage a running karajod: list jobs, run, pause, resume and cancel them,
/// and read or follow their run logs.
#[derive(Debug, Parser)]
#[command(name = "karajoctl", version, propagate_version = true)]
#[command(after_help = "Exit status: 0 ok, 1 the daemon refused, 2 usage, 3 cannot reach the daemon.")]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags valid in any position.
#[derive(Debug, Args)]
pub struct Global {
    /// Print the API's `data` as JSON instead of tables
    #[arg(long, global = true)]
    pub json: bool,

    /// The daemon's control socket (trusted by file permissions: no secret needed)
    #[arg(long, global = true, value_name = "PATH", env = "KARAJO_SOCKET", default_value = DEFAULT_SOCKET)]
    pub socket: PathBuf,

    /// Talk to a daemon over HTTP(S) instead, e.g. http://127.0.0.1:31937 (wins over --socket)
    #[arg(long, global = true, value_name = "URL")]
    pub url: Option<String>,

    /// Secret that signs run/pause/resume/cancel over --url (the daemon's [karajo] secret)
    #[arg(long, global = true, value_name = "SECRET", env = "KARAJO_SECRET", hide_env_values = true)]
    pub secret: Option<String>,

    /// PEM file of the CA(s) to trust for --url https:// (a private CA), instead of the system's store
    #[arg(long, global = true, value_name = "FILE", env = "KARAJOCTL_CACERT")]
    pub cacert: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List every job and HTTP job: status, schedule, last and next run
    #[command(visible_alias = "ls")]
    List {
        /// Every column in full, however wide the terminal
        #[arg(long)]
        wide: bool,
    },
    /// The daemon at a glance: version, uptime, config file, jobs by status, runs now
    Status,
    /// The timer runs due in the next hours, soonest first (jobs not paused)
    Upcoming {
        /// How many hours ahead (1-744)
        #[arg(long, default_value_t = proto::upcoming::DEFAULT_HOURS, value_parser = clap::value_parser!(u32).range(1..=i64::from(proto::upcoming::MAX_HOURS)))]
        hours: u32,
    },
    /// Show or act on a job (`[job]`)
    #[command(subcommand)]
    Job(JobCommand),
    /// Show or act on an HTTP job (`[job.http]`)
    #[command(subcommand)]
    Http(JobCommand),
    /// Show, pause or resume a passive check (`[check]`)
    #[command(subcommand)]
    Check(CheckCommand),
    /// Print a run log (default: the latest run); -f follows it live
    Logs(LogsArgs),
    /// A job's run history, newest first (from the daemon's database)
    Runs(RunsArgs),
    /// The daemon's name, version, address and limits
    Env,
    /// Reload the daemon's configuration: says what changed, or lists every
    /// error of a refused configuration (exit 1; the old one stays in force)
    Reload,
    /// The newest entries of the audit log (admin): who did what, from
    /// where, with what result
    Audit {
        /// How many entries (default 100, at most 1000)
        #[arg(long, short = 'n')]
        limit: Option<u32>,
        /// Only entries older than this SEQ (the next page)
        #[arg(long)]
        before: Option<u64>,
    },
    /// Print a shell completion script
    Completions {
        /// The shell to complete for
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout
    Man,
}

/// The verbs of a passive check.
#[derive(Debug, Subcommand)]
pub enum CheckCommand {
    /// Show its status, what it expects, its last ping
    Show { name: String },
    /// Stop it from going late or down (survives restarts)
    Pause { name: String },
    /// Watch it again
    Resume { name: String },
}

/// The same verbs for both kinds of jobs.
#[derive(Debug, Subcommand)]
pub enum JobCommand {
    /// Show the configuration, status and recent runs
    Show {
        #[arg(add = ArgValueCandidates::new(job_ids))]
        id: String,
    },
    /// Run now (queued if a run is in progress)
    Run {
        #[arg(add = ArgValueCandidates::new(job_ids))]
        id: String,
        /// Follow the run's log to its end; exit 0 if it succeeded, 1 if not
        #[arg(long)]
        wait: bool,
    },
    /// Stop timer and webhook triggers until resumed (survives restarts)
    Pause {
        #[arg(add = ArgValueCandidates::new(job_ids))]
        id: String,
    },
    /// Undo a pause
    Resume {
        #[arg(add = ArgValueCandidates::new(job_ids))]
        id: String,
    },
    /// Stop the run in progress (TERM, then KILL after 5 s)
    Cancel {
        #[arg(add = ArgValueCandidates::new(job_ids))]
        id: String,
    },
}

/// `karajoctl runs`.
#[derive(Debug, Args)]
pub struct RunsArgs {
    /// Job or HTTP job ID (jobs are tried first)
    #[arg(add = ArgValueCandidates::new(job_ids))]
    pub id: String,
    /// How many runs (1 to 1000)
    #[arg(short = 'n', long = "limit", value_name = "N", default_value_t = 20)]
    pub limit: u32,
    /// Only runs of this status (success, failed, canceled, running, missed)
    #[arg(long, value_name = "S")]
    pub status: Option<String>,
    /// The ID is an HTTP job's
    #[arg(long)]
    pub http: bool,
}

/// `karajoctl logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Job or HTTP job ID (jobs are tried first)
    #[arg(required_unless_present = "all", add = ArgValueCandidates::new(job_ids))]
    pub id: Option<String>,
    /// Run counter (default: the latest run)
    #[arg(conflicts_with = "all")]
    pub counter: Option<u64>,
    /// Follow the log live, then every run after it, until Ctrl-C
    #[arg(short, long)]
    pub follow: bool,
    /// Only the last N lines of the run (with -f: then the new ones)
    #[arg(short = 'n', long = "lines", value_name = "N")]
    pub lines: Option<usize>,
    /// With -f: the new lines of every job and HTTP job, each prefixed by its ID
    #[arg(long, requires = "follow", conflicts_with_all = ["id", "http"])]
    pub all: bool,
    /// ID names an HTTP job
    #[arg(long)]
    pub http: bool,
}

/// The clap command, for completions and the man page.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_are_consistent() {
        command().debug_assert();
    }

    #[test]
    fn global_flags_work_in_any_position() {
        let a = Cli::try_parse_from(["karajoctl", "job", "pause", "backup", "--json", "--socket", "/s"]).unwrap();
        assert!(a.global.json);
        assert_eq!(a.global.socket, PathBuf::from("/s"));
        let b = Cli::try_parse_from(["karajoctl", "--url", "http://h:1", "logs", "x", "3", "-f"]).unwrap();
        assert_eq!(b.global.url.as_deref(), Some("http://h:1"));
        match b.command {
            Command::Logs(l) => assert!(l.follow && l.counter == Some(3) && !l.http),
            c => panic!("{c:?}"),
        }
    }

    #[test]
    fn logs_all_needs_follow_and_no_id() {
        let a = Cli::try_parse_from(["karajoctl", "logs", "--all", "-f"]).unwrap();
        assert!(matches!(a.command, Command::Logs(LogsArgs { all: true, id: None, .. })));
        for bad in
            [&["karajoctl", "logs", "--all"][..], &["karajoctl", "logs", "x", "--all", "-f"], &["karajoctl", "logs"]]
        {
            assert_eq!(Cli::try_parse_from(bad).unwrap_err().exit_code(), 2, "{bad:?}");
        }
        let n = Cli::try_parse_from(["karajoctl", "logs", "x", "-n", "5"]).unwrap();
        assert!(matches!(n.command, Command::Logs(LogsArgs { lines: Some(5), .. })));
    }

    #[test]
    fn usage_errors_are_exit_code_2() {
        let e = Cli::try_parse_from(["karajoctl", "job", "explode", "x"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let e = Cli::try_parse_from(["karajoctl", "logs", "x", "notanumber"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }
}
