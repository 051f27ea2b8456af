//! karajod: thin shell — parse the command line, load the config, build
//! the engine on the wall clock and hand over to `app::serve_with_control`.
//!
//! Process-wide settings live here because they are the binary's, not
//! the library's: where the daemon's own log goes (see [`init_logging`]),
//! SIGXFSZ is caught (see [`catch_sigxfsz`]), the hidden test clock offset
//! (see [`TEST_CLOCK_OFFSET_ENV`]) and the exit code of a refused config
//! (see [`EXIT_CONFIG`]).

use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use clap::Parser;
use karajod::cli::{Cli, Command, print_err, print_out};
use karajod::config::diag::render_capped;
use karajod::engine::{Clock, Engine, EngineOptions, HistoryRead, SystemClock};
use karajod::store::history::{History, HistoryError};
use karajod::{app, check, config};

/// For tests and benchmarks only, deliberately not in `--help`: a whole
/// number of milliseconds added to the wall clock the engine sees
/// (schedules, log prefixes, last/next run). Schedules fire at second 0 of
/// a minute, so a test that must see a run fire sets an offset that puts
/// the next minute boundary a few seconds ahead instead of waiting up to a
/// minute. A whole number of seconds keeps second 0 of the skewed clock on
/// a real second boundary. Read once at start; unset means no offset.
const TEST_CLOCK_OFFSET_ENV: &str = "KARAJOD_TEST_CLOCK_OFFSET_MS";

/// The exit status when the daemon cannot start because its config is
/// invalid (sysexits' EX_CONFIG). Distinct from 1 so the systemd unit can
/// name it in `RestartPreventExitStatus=`: restarting cannot fix a config.
/// `karajod check` keeps exiting 1 (SPEC 2.2).
const EXIT_CONFIG: u8 = 78;

fn main() -> ExitCode {
    karajod::http::trim::limit_malloc_arenas();
    let cli = Cli::parse();
    // Packaging: `karajod man` / `completions SHELL` need no config.
    if let Some(code) = cli.command.as_ref().and_then(Command::print_docs) {
        return code;
    }
    init_logging();
    let serving = cli.command.is_none();
    // The daemon's runtime exists before its config is read: the history
    // database is opened and read on it while the job files load.
    let rt = match serving.then(tokio::runtime::Runtime::new).transpose() {
        Ok(rt) => rt,
        Err(e) => {
            print_err(&format!("karajod: cannot start the runtime: {e}\n"));
            return ExitCode::from(1);
        }
    };
    let mut early = None;
    let loaded = match config::load_then(&cli.config, &mut |dir_base| {
        early = rt.as_ref().and_then(|rt| open_history_early(rt, dir_base));
    }) {
        Ok(l) => l,
        Err(errors) => {
            print_err(&render_capped(&errors.warnings, "warning: ", "warning"));
            print_err(&format!("karajod: invalid configuration ({} error(s)):\n{errors}\n", errors.errors.len()));
            return ExitCode::from(if serving { EXIT_CONFIG } else { 1 });
        }
    };
    print_err(&render_capped(&loaded.warnings, "warning: ", "warning"));
    if let Err(e) = catch_sigxfsz() {
        print_err(&format!("karajod: cannot install a SIGXFSZ handler: {e}\n"));
        return ExitCode::from(1);
    }
    match cli.command {
        Some(Command::Check { next }) => {
            let last = match check_last_runs(&loaded.config) {
                Ok(last) => last,
                Err(e) => {
                    print_err(&format!("warning: {e:#}; next runs of interval jobs are shown as if they never ran\n"));
                    Default::default()
                }
            };
            let now = chrono::Utc::now();
            let mut summary = check::summary(&loaded.config, &loaded.warnings, now, &last);
            if let Some(n) = next {
                summary.push_str(&check::next_runs(&loaded.config, now, n, &last));
            }
            match print_out(&summary) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    print_err(&format!("karajod: cannot write the summary: {e}\n"));
                    ExitCode::from(1)
                }
            }
        }
        Some(Command::Man | Command::Completions { .. } | Command::Token(_)) => {
            unreachable!("answered before loading the config")
        }
        None => match serve(loaded, rt.expect("built when serving"), early) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                print_err(&format!("karajod: {e:#}\n"));
                ExitCode::from(1)
            }
        },
    }
}

/// Puts the timer runtime's one worker at realtime priority when the
/// daemon may (`karajod::priority`), and says at start which it got;
/// true when it did.
fn raise_timers(timers: &tokio::runtime::Runtime) -> bool {
    // A task runs on the runtime's worker, never on its blocking threads.
    let raised = timers.block_on(timers.spawn(async { karajod::priority::raise_this_thread() }));
    match raised {
        Ok(Ok(())) => {
            let limit = karajod::priority::keep_realtime_from_jobs();
            if let Err(e) = limit {
                tracing::warn!(error = %e, "cannot lower RLIMIT_RTPRIO: jobs may take realtime priority");
            }
            tracing::info!(
                priority = karajod::priority::TIMER_PRIORITY,
                "timers run at realtime priority (SCHED_FIFO)"
            );
            true
        }
        Ok(Err(e)) => {
            tracing::info!(
                error = %e,
                "timers run at normal priority: realtime needs root or LimitRTPRIO=1 (README, Timers and priority)"
            );
            false
        }
        Err(e) => {
            tracing::warn!(error = %e, "timers run at normal priority");
            false
        }
    }
}

fn serve(loaded: config::Loaded, rt: tokio::runtime::Runtime, early: Option<EarlyHistory>) -> anyhow::Result<()> {
    let clock = wall_clock()?;
    // One worker of its own for the timers and the runs they start: a
    // hundred runs due on the same second start within milliseconds even
    // while the API keeps the main workers busy (SPEC 23).
    let timers = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("karajod-timers")
        .enable_all()
        .build()?;
    let realtime = raise_timers(&timers);
    let timer_runtime = Some(timers.handle().clone());
    // Runs' database work on the API runtime: see `EngineOptions::db_runtime`.
    let db_runtime = realtime.then(|| rt.handle().clone());
    let served = rt.block_on(async {
        let server = &loaded.config.server;
        if server.secret_generated {
            print_out(&format!(
                "karajod: [karajo] secret is empty; generated for this run: {}\n",
                server.secret.expose()
            ))?;
            print_err("warning: set [karajo] secret in the config so signed requests survive a restart\n");
        }
        let addr = server.listen_addr;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr} (listen_address): {e}"))?;
        let socket_path = server.control_socket.clone();
        let control = karajod::control::bind(&socket_path)
            .map_err(|e| anyhow::anyhow!("control socket {}: {e}", socket_path.display()))?;
        let mut shutdown = Box::pin(app::shutdown_signal());
        let local = listener.local_addr()?;
        let reload_from = loaded.files.first().cloned();
        let opts = EngineOptions::new(app::self_url(local)).with_env().map_err(anyhow::Error::msg)?;
        // Opened, and read on a worker, since the config gave `dir_base`
        // (else from here): the read goes on while this thread scans the
        // log folders.
        let (history, ahead) = match early {
            Some(e) => e.await.map_err(|e| anyhow::anyhow!("history database: the start-up read failed: {e}"))??,
            None => open_and_read(history_location(&server.dir_base)?).await?,
        };
        let opts = EngineOptions { clock, history: Some(history.clone()), timer_runtime, db_runtime, ..opts };
        let (listener, scheme) = match &server.tls {
            Some(t) => {
                let source = karajod::tls::TlsSource::load(&t.cert, &t.key)?;
                (karajod::serve::Listener::Tls(listener, std::sync::Arc::new(source)), "https")
            }
            None => (karajod::serve::Listener::Tcp(listener), "http"),
        };
        let engine = Engine::new(loaded.config, opts)?;
        let reconcile = async {
            let read =
                ahead.await.map_err(|e| anyhow::anyhow!("history database: the start-up read failed: {e}"))??;
            engine.reconcile_from(read).await?;
            anyhow::Ok(())
        };
        // A long reconcile (many logs to import) still obeys SIGTERM.
        tokio::select! {
            r = reconcile => r?,
            _ = &mut shutdown => {
                print_err("karajod: stopped during start-up, before the history was reconciled\n");
                history.close().await;
                return Ok(());
            }
        }
        // The reconcile's reads of every job are freed; hand them back
        // (with 10,000 jobs, 143 MB resident instead of 78 MB).
        let _ = tokio::task::spawn_blocking(karajod::http::trim::release_free_memory).await;
        // A stable line on stdout: tests and scripts read the bound port here.
        print_out(&format!("karajod: listening on {scheme}://{local}\n"))?;
        app::serve_with_control(engine, listener, Some(control), shutdown, reload_from).await;
        // Closed last, after every run: SQLite folds its WAL back into the file.
        history.close().await;
        Ok(())
    });
    // Every timer and run ended in the shutdown above.
    timers.shutdown_timeout(std::time::Duration::from_secs(1));
    served
}

/// The run-history database: PostgreSQL when `KARAJOD_DATABASE` holds a
/// URL (until `[cluster]` exists, SPEC 19), else the SQLite file under `dir_base`.
fn history_location(dir_base: &std::path::Path) -> anyhow::Result<karajod::store::history::Location> {
    use karajod::store::history::{Location, SQLITE_FILE};
    Ok(match std::env::var(DATABASE_ENV) {
        Ok(url) if !url.is_empty() => {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                anyhow::bail!("environment {DATABASE_ENV}: expected a postgres:// URL");
            }
            Location::Postgres(url)
        }
        _ => Location::Sqlite(dir_base.join(SQLITE_FILE)),
    })
}

/// The opened database and the task reading what start-up needs of it.
type Opened = (History, tokio::task::JoinHandle<Result<HistoryRead, HistoryError>>);

/// Opens the history database and starts its start-up read.
async fn open_and_read(loc: karajod::store::history::Location) -> Result<Opened, HistoryError> {
    let history = History::open(&loc).await?;
    let h = history.clone();
    Ok((history, tokio::spawn(async move { Engine::read_history(&h).await })))
}

/// [`open_and_read`] started while the config loads, for the `dir_base`
/// the config then has (the loader calls back with the one it uses).
type EarlyHistory = tokio::task::JoinHandle<Result<Opened, HistoryError>>;

/// Starts opening and reading the history of `dir_base` on `rt` (with
/// 10,000 jobs the read takes as long as the rest of the config's load),
/// when that is an SQLite file that exists: a first start creates it only
/// once the config is known to be valid. An invalid config still ends the
/// daemon with its own error; the database was at most opened (and
/// migrated, by a newer karajod). A failed open is reported where a late
/// one would be, after the listeners are bound.
fn open_history_early(rt: &tokio::runtime::Runtime, dir_base: &std::path::Path) -> Option<EarlyHistory> {
    let loc = history_location(dir_base).ok()?;
    match &loc {
        karajod::store::history::Location::Sqlite(file) if file.exists() => {}
        _ => return None,
    }
    Some(rt.spawn(open_and_read(loc)))
}

/// `karajod check`'s view of the history: each job's last run start.
fn check_last_runs(config: &config::Config) -> anyhow::Result<check::LastRuns> {
    let loc = history_location(&config.server.dir_base)?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    Ok(rt.block_on(check::last_runs(config, &loc))?)
}

/// The environment variable naming a PostgreSQL history database.
const DATABASE_ENV: &str = "KARAJOD_DATABASE";

/// The daemon's own log. Under systemd (stderr is the journal stream that
/// `JOURNAL_STREAM` names) straight to journald, with priorities from the
/// levels and the span fields as journal fields (`job.id` -> `JOB_ID`,
/// `run.counter` -> `RUN_COUNTER`); else to stderr, coloured only when
/// stderr is a terminal. `KARAJO_LOG` filters (default `info`).
fn init_logging() {
    use std::io::IsTerminal;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = || tracing_subscriber::EnvFilter::try_from_env("KARAJO_LOG").unwrap_or_else(|_| "info".into());
    if stderr_is_journal() {
        match tracing_journald::layer() {
            Ok(journal) => {
                let journal = journal.with_field_prefix(None).with_syslog_identifier("karajod".into());
                tracing_subscriber::registry().with(filter()).with(journal).init();
                return;
            }
            Err(e) => {
                eprintln!("warning: JOURNAL_STREAM is set but journald cannot be reached ({e}); logging to stderr")
            }
        }
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// True when stderr is the stream systemd connected to the journal: it
/// sets `JOURNAL_STREAM=DEV:INODE` of that stream, and a child whose
/// stderr was redirected elsewhere inherits the variable but not the stream.
fn stderr_is_journal() -> bool {
    let Some(value) = std::env::var_os("JOURNAL_STREAM") else { return false };
    let Some((dev, ino)) = value.to_str().and_then(|v| v.split_once(':')) else { return false };
    let (Ok(dev), Ok(ino)) = (dev.parse::<u64>(), ino.parse::<u64>()) else { return false };
    let Ok(st) = nix::sys::stat::fstat(std::io::stderr()) else { return false };
    st.st_dev == dev && st.st_ino == ino
}

/// The system clock, skewed by [`TEST_CLOCK_OFFSET_ENV`] when that is set.
fn wall_clock() -> anyhow::Result<Arc<dyn Clock>> {
    let Some(raw) = std::env::var_os(TEST_CLOCK_OFFSET_ENV) else { return Ok(Arc::new(SystemClock)) };
    let ms: i64 = raw.to_str().and_then(|s| s.trim().parse().ok()).ok_or_else(|| {
        anyhow::anyhow!("environment {TEST_CLOCK_OFFSET_ENV}={raw:?}: expected a whole number of milliseconds")
    })?;
    let offset = TimeDelta::try_milliseconds(ms)
        .ok_or_else(|| anyhow::anyhow!("environment {TEST_CLOCK_OFFSET_ENV}={ms}: offset out of range"))?;
    print_err(&format!("warning: {TEST_CLOCK_OFFSET_ENV}={ms}: the engine's clock is skewed (for tests only)\n"));
    Ok(Arc::new(OffsetClock { offset }))
}

/// The wall clock moved by a fixed offset.
struct OffsetClock {
    offset: TimeDelta,
}

impl Clock for OffsetClock {
    fn now(&self) -> DateTime<Utc> {
        SystemClock.now() + self.offset
    }

    fn sleep_until(&self, t: DateTime<Utc>) -> Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        SystemClock.sleep_until(t - self.offset)
    }
}

/// Under `RLIMIT_FSIZE` a write past the limit raises SIGXFSZ, whose
/// default action kills the daemon. Caught, the write fails with EFBIG
/// instead and only that run's log suffers. A handler rather than
/// `SIG_IGN`, because an ignored signal stays ignored in the job commands
/// we exec, while a caught one is reset to its default there.
fn catch_sigxfsz() -> nix::Result<()> {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    extern "C" fn on_sigxfsz(_: std::ffi::c_int) {}
    let action = SigAction::new(SigHandler::Handler(on_sigxfsz), SaFlags::SA_RESTART, SigSet::empty());
    // SAFETY: the handler does nothing, so it is async-signal-safe, and no
    // other code in the process handles SIGXFSZ.
    unsafe { sigaction(Signal::SIGXFSZ, &action) }.map(drop)
}
