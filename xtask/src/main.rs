//! Project automation: `cargo xtask <command>`.
//!
//! - `codegen [--check] [--specs DIR [--out DIR]]`: regenerate `generated/` from `specs/` (or
//!   from DIR), or emit a standalone crate into `--out`
//! - `stats --specs DIR`: count what a spec directory defines
//! - `fullspec`: the workspace regenerated from the complete official spec, linted and tested
//! - `packages`: the publishable packages packed, then compiled from the packed files
//! - `build-time [--official] [--release] [--derive]`: build time of the generated full-spec crate
//! - `bench [--only GROUPS]`: the benchmark table
//! - `soak [--short] [--seed N]`: uploads under injected faults, then verification

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[cfg(feature = "workloads")]
mod bench;
mod build_time;
mod codegen;
mod fullspec;
mod openapi;
mod packages;
#[cfg(feature = "workloads")]
mod soak;
#[cfg(feature = "workloads")]
mod upload_bench;
#[cfg(feature = "workloads")]
mod wire_bench;

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Project automation for the Dropbox API toolkit"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Regenerate `generated/` from `specs/` (or from --specs DIR; with --out as well, emit a
    /// standalone crate instead).
    Codegen {
        /// Write nothing; fail with a summary when the output is stale.
        #[arg(long)]
        check: bool,
        /// A spec directory to generate from instead of `specs/` (for example a checkout of
        /// github.com/dropbox/dropbox-api-spec kept outside `specs/`).
        #[arg(long)]
        specs: Option<PathBuf>,
        /// Where to write the standalone crate (with --specs).
        #[arg(long, requires = "specs")]
        out: Option<PathBuf>,
        /// Struct serialization: `table` (the default) or `derive` (kept to reproduce the
        /// comparison; standalone crates only).
        #[arg(long, default_value = "table", requires = "out")]
        serde: String,
    },
    /// Run the benchmarks and print one table (re-runs itself in release mode).
    Bench {
        /// Which groups to run (codegen, json, wire, hash, large, many); all when omitted.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
    },
    /// The workspace on the complete official spec (../shared): a scratch copy whose specs/
    /// holds it, regenerated, then clippy -D warnings and `cargo test --workspace` in it
    /// (skipped when ../shared is absent).
    Fullspec,
    /// Pack the publishable packages and compile them from the packed files (what `cargo
    /// package` verifies), in the workspace's target directory.
    Packages,
    /// Time the build of the generated full-spec crate alone (dependencies built), and with
    /// --official the official Rust SDK's crate built the same way in the same run.
    BuildTime {
        /// Timed builds per crate and profile.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Also build `dropbox-sdk` (fetched from the registry) for the ratio.
        #[arg(long)]
        official: bool,
        /// Also measure release builds.
        #[arg(long)]
        release: bool,
        /// Also build the full-spec crate emitted with serde's derive for structs.
        #[arg(long)]
        derive: bool,
    },
    /// Upload a mix of files through an emulator injecting faults, then verify every file.
    Soak {
        /// The short form (about a minute; run by `.ci/run`).
        #[arg(long)]
        short: bool,
        /// Seed of the fault generator (same seed, same faults for the same requests).
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Internal: one upload of the large-file benchmark, in its own process.
    #[cfg(feature = "workloads")]
    #[command(hide = true)]
    BenchChild {
        #[arg(long, value_enum)]
        mode: upload_bench::ChildMode,
        #[arg(long)]
        url: String,
        #[arg(long)]
        token: String,
        #[arg(long)]
        file: PathBuf,
        #[arg(long)]
        remote: String,
        #[command(flatten)]
        shape: upload_bench::Shape,
    },
    /// Print one line per count of what a spec directory defines.
    Stats {
        /// The directory of `.stone` files.
        #[arg(long, default_value = "specs")]
        specs: PathBuf,
    },
}

/// The workspace root (the parent of this crate's directory).
fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Stats { specs } => stats(&specs),
        Command::Fullspec => fullspec::run(&project_root()),
        Command::Packages => packages::run(&project_root()),
        Command::BuildTime {
            rounds,
            official,
            release,
            derive,
        } => build_time::run(
            &project_root(),
            &build_time::Options {
                rounds: rounds.max(1),
                official,
                release,
                derive,
            },
        ),
        Command::Bench { only } => run_bench(&only),
        Command::Soak { short, seed } => run_soak(short, seed),
        #[cfg(feature = "workloads")]
        Command::BenchChild {
            mode,
            url,
            token,
            file,
            remote,
            shape,
        } => upload_bench::child(mode, shape, &url, &token, &file, &remote),
        Command::Codegen {
            check,
            specs,
            out,
            serde,
        } => {
            let root = project_root();
            let job = match (specs, out) {
                (Some(specs), Some(out)) => codegen::Codegen {
                    check,
                    serde: match serde.as_str() {
                        "derive" => dbx_codegen::emit::SerdeStyle::Derive,
                        _ => dbx_codegen::emit::SerdeStyle::Table,
                    },
                    ..codegen::standalone(&resolve_path(&specs), &out)
                },
                (Some(specs), None) => codegen::in_place(&root, &resolve_path(&specs), check),
                _ => codegen::committed(&root, check),
            };
            codegen::run(&job, &root)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn resolve_path(p: &Path) -> PathBuf {
    if p.is_absolute() || p.exists() {
        p.to_path_buf()
    } else {
        project_root().join(p)
    }
}

fn stats(specs: &Path) -> anyhow::Result<()> {
    let api = dbx_codegen::load_dir(&resolve_path(specs))?;
    println!("{}", dbx_codegen::stats::Stats::of(&api));
    Ok(())
}

/// The error of a command that needs the `workloads` feature.
#[cfg(not(feature = "workloads"))]
fn without_workloads(command: &str) -> anyhow::Result<()> {
    anyhow::bail!(
        "`{command}` needs xtask's `workloads` feature: run it as `cargo xtask {command}`"
    )
}

#[cfg(not(feature = "workloads"))]
fn run_soak(_short: bool, _seed: u64) -> anyhow::Result<()> {
    without_workloads("soak")
}

#[cfg(feature = "workloads")]
fn run_soak(short: bool, seed: u64) -> anyhow::Result<()> {
    soak::run(short, seed)
}

#[cfg(not(feature = "workloads"))]
fn run_bench(_only: &[String]) -> anyhow::Result<()> {
    without_workloads("bench")
}

/// Runs the benchmarks; a debug build re-runs itself with `--release` first.
#[cfg(feature = "workloads")]
fn run_bench(only: &[String]) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = std::process::Command::new(cargo);
        cmd.args([
            "run",
            "--release",
            "--quiet",
            "--package",
            "xtask",
            "--",
            "bench",
        ]);
        if !only.is_empty() {
            cmd.arg("--only").arg(only.join(","));
        }
        let status = cmd.status()?;
        anyhow::ensure!(status.success(), "the release benchmark run failed");
        return Ok(());
    }
    let want = |g: &str| only.is_empty() || only.iter().any(|o| o == g);
    let root = project_root();
    let mut rows = Vec::new();
    if want("codegen") {
        bench::codegen_rows(&root, &mut rows)?;
    }
    if want("json") {
        bench::json_rows(&mut rows)?;
    }
    if want("wire") {
        wire_bench::rows(&root, &mut rows)?;
    }
    if want("hash") {
        bench::hash_rows(&mut rows)?;
    }
    if want("large") || want("many") {
        println!(
            "upload rows: files and emulator data in {}",
            upload_bench::bench_dir_label()
        );
    }
    if want("large") {
        upload_bench::large_rows(&mut rows)?;
    }
    if want("many") {
        upload_bench::many_rows(&mut rows)?;
    }
    bench::print(&rows);
    Ok(())
}
