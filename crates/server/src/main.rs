//! `portcullis`: see `portcullis --help`.

use std::process::ExitCode;

use clap::Parser as _;
use portcullis::cli::{Cli, Command, KeysCommand};
use portcullis::commands;
use portcullis::config::{CommonArgs, Config};
use portcullis::{Application, Runtime, telemetry};

/// mimalloc rather than the C library's allocator: each password hash allocates and frees
/// 19 MiB, and glibc, raising its mmap threshold after the first such free, kept those blocks
/// in its per-thread heaps (hundreds of MiB of RSS after a burst of logins, measured with
/// bench/run). mimalloc hands large blocks back to the system. docs/performance.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        // `portcullis audit --json | head`: the reader had enough.
        Err(error) if portcullis::output::is_stdout_closed(&error) => ExitCode::SUCCESS,
        Err(error) => {
            // One line: the error and its causes, never a backtrace.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn load(common: &CommonArgs) -> anyhow::Result<Config> {
    let config = Config::load(common, None)?;
    telemetry::init(config.log_format, &config.log_level)?;
    Ok(config)
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve { common, server } => {
            let config = Config::load(&common, Some(&server))?;
            telemetry::init(config.log_format, &config.log_level)?;
            let credentials = portcullis::sandbox::credentials_file(&config.database.url);
            let app = Application::build(config, Runtime::default()).await?;
            if let Some(report) = &app.sandbox {
                report.announce(app.issuer(), app.kek_path.as_ref(), &credentials)?;
            }
            app.run_until_stopped(shutdown_signal()).await
        }
        Command::Migrate { common } => {
            let config = load(&common)?;
            let store = portcullis::app::open_store(&config).await?;
            store.close().await;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::CheckConfig { common, server } => {
            let config = Config::load(&common, Some(&server))?;
            commands::check::run(&config).await
        }
        Command::Keys { command } => match command {
            KeysCommand::Rotate {
                common,
                algs,
                activate_after,
                json,
            } => {
                commands::keys::rotate(&load(&common)?, &algs, activate_after.as_deref(), json)
                    .await
            }
            KeysCommand::List { common, json } => commands::keys::list(&load(&common)?, json).await,
            KeysCommand::GenerateKek => commands::keys::generate_kek(),
        },
        Command::Client { command } => {
            let config = load(commands::client::common(&command))?;
            commands::client::run(&config, command).await
        }
        Command::User { command } => {
            let config = load(commands::user::common(&command))?;
            commands::user::run(&config, command).await
        }
        Command::Sandbox { command } => {
            let config = load(commands::sandbox::common(&command))?;
            commands::sandbox::run(&config, command).await
        }
        Command::Audit {
            common,
            kind,
            client,
            user,
            since,
            until,
            after,
            limit,
            json,
        } => {
            let query = commands::audit::AuditQuery {
                kind,
                client,
                user,
                since,
                until,
                after,
                limit,
            };
            commands::audit::run(&load(&common)?, query, json).await
        }
    }
}

/// Completes on SIGTERM or SIGINT.
async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
}
