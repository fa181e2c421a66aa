//! `dbx-emulator`: runs the local Dropbox API emulator until Ctrl-C or SIGTERM, then shuts
//! it down cleanly.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use dbx_emulator::{Emulator, EmulatorConfig, FaultRule};

/// A local Dropbox API emulator on 127.0.0.1.
#[derive(Debug, Parser)]
#[command(name = "dbx-emulator", version, about)]
struct Args {
    /// Port to listen on (0 picks a free port).
    #[arg(long, default_value_t = 0, env = "DBX_EMULATOR_PORT")]
    port: u16,
    /// Where files are stored (kept across restarts); a temporary directory if omitted.
    #[arg(long, env = "DBX_EMULATOR_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Use this development access token instead of a random one.
    #[arg(long, env = "DBX_EMULATOR_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Lifetime in seconds of access tokens issued by /oauth2/token.
    #[arg(long, default_value_t = 14400)]
    token_lifetime: u64,
    /// JSON file with a list of fault rules to start with.
    #[arg(long)]
    faults: Option<PathBuf>,
    /// Seed for probabilistic faults.
    #[arg(long, default_value_t = 0)]
    fault_seed: u64,
    /// Simulated commit time of finish calls, in milliseconds.
    #[arg(long, default_value_t = 0)]
    commit_latency_ms: u64,
    /// Make concurrent upload_session/finish calls into one folder contend.
    #[arg(long)]
    finish_contention: bool,
    /// Skip fsync (faster, not crash-safe).
    #[arg(long)]
    no_fsync: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = Args::parse();
    let faults: Vec<FaultRule> = match &args.faults {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?
        }
        None => Vec::new(),
    };
    let config = EmulatorConfig {
        port: args.port,
        data_dir: args.data_dir.clone(),
        access_token: args.token.clone(),
        access_token_lifetime: Duration::from_secs(args.token_lifetime),
        faults,
        fault_seed: args.fault_seed,
        commit_latency: Duration::from_millis(args.commit_latency_ms),
        contend_finish_in_folder: args.finish_contention,
        durable: !args.no_fsync,
        ..EmulatorConfig::default()
    };
    let emulator = Emulator::start(config)
        .await
        .context("starting the emulator")?;
    // The URL and the development token are the point of this output: print them on
    // stdout in a form a shell can `eval`.
    println!("DBX_EMULATOR_URL={}", emulator.base_url());
    println!("DBX_EMULATOR_TOKEN={}", emulator.access_token());
    eprintln!(
        "dbx-emulator: serving {} (data in {}); Ctrl-C to stop",
        emulator.base_url(),
        emulator.data_dir().display()
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("listening for SIGTERM")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("waiting for Ctrl-C")?,
        _ = term.recv() => {}
    }
    eprintln!("dbx-emulator: stopping");
    // A clean stop: connections end, and everything acknowledged is on disk (with
    // --no-fsync it is in the page cache, which a process exit keeps).
    emulator.shutdown().await;
    Ok(())
}
