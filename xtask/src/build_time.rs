//! `cargo xtask build-time`: how long the generated full-spec crate takes to build on its
//! own (dependencies already built), next to the official Rust SDK's crate built the same way
//! in the same run.
//!
//! Each crate is built as the root of its own workspace, so both get Cargo's defaults for a
//! local package (incremental in debug). Per round and per crate: `cargo clean -p <crate>`,
//! then a timed `cargo build --lib`. Rounds alternate between the crates, so a slow moment of
//! the machine lands on both. The official crate (`dropbox-sdk`, all namespaces, its default
//! features) comes from the package registry, the only network this needs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::codegen::{self, Codegen};
use crate::fullspec::OFFICIAL_SPEC;

/// The official SDK release measured against.
pub(crate) const OFFICIAL_VERSION: &str = "0.19.1";

/// One crate under measurement.
struct Subject {
    label: &'static str,
    package: &'static str,
    dir: PathBuf,
    target: PathBuf,
}

/// What to measure.
pub struct Options {
    /// Timed builds per crate and profile.
    pub rounds: usize,
    /// Also build the official SDK's crate.
    pub official: bool,
    /// Also measure release builds.
    pub release: bool,
    /// Also build the full-spec crate emitted with serde's derive for structs (the
    /// alternative the default emission was chosen against).
    pub derive: bool,
}

/// Runs the measurement and prints one table.
pub fn run(root: &Path, opts: &Options) -> Result<()> {
    let specs = root.join(OFFICIAL_SPEC);
    if !specs.is_dir() {
        println!(
            "skipped: the official spec is not at {} (it lives beside the repository)",
            specs.display()
        );
        return Ok(());
    }
    let base = root.join("target/build-time");
    let ours = base.join("dropbox-api");
    codegen::run(&codegen::standalone(&specs, &ours), root)?;
    std::fs::copy(root.join("Cargo.lock"), ours.join("Cargo.lock"))
        .context("copying Cargo.lock")?;
    let mut subjects = vec![Subject {
        label: "generated full-spec crate (dropbox-api)",
        package: "dropbox-api",
        dir: ours,
        target: base.join("target-ours"),
    }];
    let official_index = opts.official.then_some(subjects.len());
    if opts.official {
        subjects.push(Subject {
            label: "official Rust SDK (dropbox-sdk 0.19.1, default features)",
            package: "dropbox-sdk",
            dir: official_sdk(&base)?,
            target: base.join("target-official"),
        });
    }

    if opts.derive {
        let dir = base.join("dropbox-api-derive");
        codegen::run(
            &Codegen {
                serde: dbx_codegen::emit::SerdeStyle::Derive,
                ..codegen::standalone(&root.join(OFFICIAL_SPEC), &dir)
            },
            root,
        )?;
        std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock"))
            .context("copying Cargo.lock")?;
        subjects.push(Subject {
            label: "generated full-spec crate, serde derive for structs",
            package: "dropbox-api",
            dir,
            target: base.join("target-derive"),
        });
    }

    let mut profiles = vec![false];
    if opts.release {
        profiles.push(true);
    }
    let mut rows = Vec::new();
    for &release in &profiles {
        for s in &subjects {
            eprintln!("building the dependencies of {} ...", s.package);
            build(s, release)?;
        }
        let mut times: Vec<Vec<Duration>> = vec![Vec::new(); subjects.len()];
        for round in 0..opts.rounds {
            for (i, s) in subjects.iter().enumerate() {
                clean(s, release)?;
                let t = build(s, release)?;
                eprintln!(
                    "round {}: {} {}: {:.2} s",
                    round + 1,
                    s.package,
                    profile_name(release),
                    t.as_secs_f64()
                );
                times[i].push(t);
            }
        }
        rows.push((release, times));
    }

    println!();
    println!(
        "| build, dependencies built ({} rounds, median) | profile | time | spread | ratio to the official SDK |",
        opts.rounds
    );
    println!("|---|---|---|---|---|");
    for (release, times) in &rows {
        let medians: Vec<f64> = times.iter().map(|t| median(t)).collect();
        for (i, s) in subjects.iter().enumerate() {
            let (lo, hi) = spread(&times[i]);
            let ratio = match official_index {
                Some(o) if o != i => format!("{:.2}x", medians[i] / medians[o]),
                _ => String::new(),
            };
            println!(
                "| {} | {} | {:.2} s | {lo:.2}-{hi:.2} s | {ratio} |",
                s.label,
                profile_name(*release),
                medians[i]
            );
        }
    }
    Ok(())
}

fn profile_name(release: bool) -> &'static str {
    if release { "release" } else { "debug" }
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    // The measurement is of Cargo's defaults; settings of the calling environment stay out.
    for var in ["CARGO_INCREMENTAL", "RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS"] {
        cmd.env_remove(var);
    }
    cmd
}

fn build(s: &Subject, release: bool) -> Result<Duration> {
    let mut cmd = cargo();
    cmd.args(["build", "--lib", "--quiet", "--manifest-path"])
        .arg(s.dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &s.target);
    if release {
        cmd.arg("--release");
    }
    let started = Instant::now();
    let status = cmd.status().context("running cargo build")?;
    let took = started.elapsed();
    if !status.success() {
        bail!("building {} failed", s.package);
    }
    Ok(took)
}

fn clean(s: &Subject, release: bool) -> Result<()> {
    let mut cmd = cargo();
    cmd.args(["clean", "--quiet", "-p", s.package, "--manifest-path"])
        .arg(s.dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &s.target);
    if release {
        cmd.arg("--release");
    }
    if !cmd.status().context("running cargo clean")?.success() {
        bail!("cleaning {} failed", s.package);
    }
    Ok(())
}

/// Fetches the official SDK from the registry and copies its sources into a directory of
/// its own, as a workspace root, so that it builds as a local package like ours.
fn official_sdk(base: &Path) -> Result<PathBuf> {
    let probe = base.join("probe");
    std::fs::create_dir_all(probe.join("src"))?;
    std::fs::write(
        probe.join("Cargo.toml"),
        format!(
            "[package]\nname = \"probe\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\ndropbox-sdk = \"={OFFICIAL_VERSION}\"\n\n[workspace]\n"
        ),
    )?;
    std::fs::write(probe.join("src/lib.rs"), "")?;
    let out = cargo()
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(probe.join("Cargo.toml"))
        .output()
        .context("running cargo metadata")?;
    if !out.status.success() {
        bail!(
            "cargo metadata for dropbox-sdk {OFFICIAL_VERSION} failed (is the registry reachable?): {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let manifest = meta["packages"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "dropbox-sdk"))
        .and_then(|p| p["manifest_path"].as_str())
        .context("dropbox-sdk is not in the metadata")?;
    let src = Path::new(manifest)
        .parent()
        .context("manifest path without a parent")?;
    let dest = base.join("dropbox-sdk");
    if dest.exists() {
        std::fs::remove_dir_all(&dest)?;
    }
    copy_dir(src, &dest)?;
    let manifest = dest.join("Cargo.toml");
    let mut text = std::fs::read_to_string(&manifest)?;
    if !text.contains("\n[workspace]") {
        text.push_str("\n[workspace]\n");
    }
    std::fs::write(&manifest, text)?;
    Ok(dest)
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn median(times: &[Duration]) -> f64 {
    let mut s: Vec<f64> = times.iter().map(Duration::as_secs_f64).collect();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => 0.0,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

fn spread(times: &[Duration]) -> (f64, f64) {
    let s = times.iter().map(Duration::as_secs_f64);
    let lo = s.clone().fold(f64::INFINITY, f64::min);
    let hi = s.fold(0.0, f64::max);
    (lo, hi)
}
