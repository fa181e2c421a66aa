//! `dbx`: the Dropbox API toolkit from the terminal. Uploads (single files through resumable
//! sessions, directories as batches), temporary upload links, content hashes, everyday file
//! commands, and an embedded emulator that every command uses when no credentials are set.

#![forbid(unsafe_code)]

mod args;
mod commands;
mod connect;
mod credentials;
mod failure;
mod output;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command, LinkCommand};
use failure::{CmdResult, Failure, Kind};
use output::Output;

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info,dbx=debug,dropbox_upload=debug,dropbox_api_runtime=debug",
        _ => "debug,dbx=trace,dropbox_upload=trace,dropbox_api_runtime=trace",
    };
    let filter = if verbose == 0 {
        tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default))
    } else {
        tracing_subscriber::EnvFilter::new(default)
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

async fn run(cli: &Cli, out: &Output) -> CmdResult {
    match &cli.command {
        Command::Hash { file } => commands::files::hash(file, out).await,
        Command::Serve(a) => commands::serve::run(a, out).await,
        Command::Demo(a) => commands::demo::run(a, &cli.global, out).await,
        Command::Link(LinkCommand::Put { url, file }) => commands::link::put(url, file, out).await,
        Command::Login(a) => commands::login::login(a, &cli.global, out).await,
        Command::Logout => commands::login::logout(&cli.global, out).await,
        other => {
            let conn = connect::connect(&cli.global, out).await?;
            let c = &conn.client;
            let result = match other {
                Command::Upload(a) => commands::upload::run(c, a, out).await,
                Command::Link(LinkCommand::Create {
                    remote,
                    duration,
                    mode,
                    autorename,
                }) => commands::link::create(c, remote, *duration, *mode, *autorename, out).await,
                Command::Ls { path, recursive } => {
                    commands::files::ls(c, path, *recursive, out).await
                }
                Command::Get { remote, local } => {
                    commands::files::get(c, remote, local.as_deref(), out).await
                }
                Command::Rm { path } => commands::files::rm(c, path, out).await,
                Command::Mkdir { path } => commands::files::mkdir(c, path, out).await,
                Command::Hash { .. }
                | Command::Serve(_)
                | Command::Demo(_)
                | Command::Login(_)
                | Command::Logout
                | Command::Link(LinkCommand::Put { .. }) => Ok(()),
            };
            conn.close().await;
            result
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors.
            let code = if e.use_stderr() {
                Kind::Usage.code()
            } else {
                0
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_logging(cli.global.verbose);
    let out = Output::new(cli.global.json, cli.global.quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            out.failure(&Failure::new(
                Kind::Failure,
                format!("starting the runtime: {e}"),
            ));
            return ExitCode::from(Kind::Failure.code());
        }
    };
    match runtime.block_on(run(&cli, &out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            out.failure(&f);
            ExitCode::from(f.kind.code())
        }
    }
}
