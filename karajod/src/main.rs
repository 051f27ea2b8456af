//! karajod: thin shell — parse the command line, load the config, hand
//! over to `app::run`.

use std::process::ExitCode;

use clap::Parser;
use karajod::cli::{Cli, Command};
use karajod::{app, check, config};

fn main() -> ExitCode {
    karajod::http::trim::limit_malloc_arenas();
    let cli = Cli::parse();
    // Packaging: `karajod man` / `completions SHELL` need no config.
    if let Some(code) = cli.command.as_ref().and_then(Command::print_docs) {
        return code;
    }
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("KARAJO_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let loaded = match config::load(&cli.config) {
        Ok(l) => l,
        Err(errors) => {
            eprintln!("karajod: invalid configuration ({} error(s)):\n{errors}", errors.0.len());
            return ExitCode::from(1);
        }
    };
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    match cli.command {
        Some(Command::Check) => {
            print!("{}", check::summary(&loaded.config, &loaded.warnings, chrono::Utc::now()));
            ExitCode::SUCCESS
        }
        Some(Command::Man | Command::Completions { .. }) => {
            unreachable!("answered before loading the config")
        }
        None => match serve(loaded) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("karajod: {e:#}");
                ExitCode::from(1)
            }
        },
    }
}

fn serve(loaded: config::Loaded) -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let server = &loaded.config.server;
        if server.secret_generated {
            println!("karajod: [karajo] secret is empty; generated for this run: {}", server.secret.expose());
            eprintln!("warning: set [karajo] secret in the config so signed requests survive a restart");
        }
        let addr = server.listen_addr;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr} (listen_address): {e}"))?;
        let socket_path = server.control_socket.clone();
        let control = karajod::control::bind(&socket_path)
            .map_err(|e| anyhow::anyhow!("control socket {}: {e}", socket_path.display()))?;
        let shutdown = app::shutdown_signal();
        let local = listener.local_addr()?;
        // A stable line on stdout: tests and scripts read the bound port here.
        println!("karajod: listening on http://{local}");
        use std::io::Write;
        std::io::stdout().flush()?;
        app::run(loaded, listener, Some(control), shutdown).await?;
        Ok(())
    })
}
