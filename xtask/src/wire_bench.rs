//! The `wire` rows of `cargo xtask bench`: the same Dropbox JSON (a 10,000-entry
//! `list_folder` result and a 1,000-event `team_log/get_events` page) decoded and encoded
//! with the types generated from the official spec here and with the official Rust SDK's
//! (`dropbox-sdk`), interleaved in one process.
//!
//! The program (`xtask/wire_bench/main.rs`) is copied into a scratch crate under
//! `target/wire-bench` that depends on the full-spec crate (generated into
//! `target/fullspec-crate`, as `cargo xtask fullspec` does) and on `dropbox-sdk` from the
//! package registry, so neither is a dependency of the workspace.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::bench::Row;
use crate::build_time::OFFICIAL_VERSION;
use crate::codegen;
use crate::fullspec::OFFICIAL_SPEC;

const PROGRAM: &str = include_str!("../wire_bench/main.rs");

/// Generates the full-spec crate, builds the scratch crate in release mode and returns the
/// path of its executable; `None` (with the reason printed) when the official spec is absent.
pub fn build(root: &Path) -> Result<Option<PathBuf>> {
    let specs = root.join(OFFICIAL_SPEC);
    if !specs.is_dir() {
        println!(
            "wire rows skipped: the official spec is not at {} (they need the full-spec crate)",
            specs.display()
        );
        return Ok(None);
    }
    let fullspec = root.join("target/fullspec-crate");
    codegen::run(&codegen::standalone(&specs, &fullspec), root)?;
    let dir = root.join("target/wire-bench");
    std::fs::create_dir_all(dir.join("src"))?;
    let manifest = format!(
        "[package]\nname = \"wire-bench\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\n\
         dropbox-api = {{ path = {fullspec:?} }}\n\
         dropbox-sdk = {{ version = \"={OFFICIAL_VERSION}\", default-features = false, features = [\"dbx_files\", \"dbx_team_log\", \"sync_routes\"] }}\n\
         serde = \"1\"\nserde_json = \"1\"\n\n\
         [profile.release]\ndebug = \"line-tables-only\"\n\n[workspace]\n",
        fullspec = fullspec.display().to_string(),
    );
    write_if_changed(&dir.join("Cargo.toml"), &manifest)?;
    write_if_changed(&dir.join("src/main.rs"), PROGRAM)?;
    if !dir.join("Cargo.lock").exists() {
        // Start from the workspace's versions of the shared dependencies.
        std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock"))
            .context("copying Cargo.lock")?;
    }
    let target = root.join("target/wire-bench-target");
    eprintln!(
        "building the wire benchmark (full-spec crate and dropbox-sdk {OFFICIAL_VERSION}, release) ..."
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .status()
        .with_context(|| format!("running {cargo}"))?;
    if !status.success() {
        bail!("building the wire benchmark failed (is the registry reachable for dropbox-sdk?)");
    }
    Ok(Some(target.join("release/wire-bench")))
}

fn write_if_changed(path: &Path, text: &str) -> Result<()> {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Runs the benchmark and adds its rows.
pub fn rows(root: &Path, rows: &mut Vec<Row>) -> Result<()> {
    let Some(exe) = build(root)? else {
        return Ok(());
    };
    let rounds = std::env::var("DBX_BENCH_WIRE_ROUNDS").unwrap_or_else(|_| "21".into());
    let out = Command::new(&exe)
        .arg(&rounds)
        .output()
        .with_context(|| format!("running {}", exe.display()))?;
    if !out.status.success() {
        bail!(
            "the wire benchmark failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let ns = |s: &str| -> Result<Duration> { Ok(Duration::from_nanos(s.parse()?)) };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some(warning) = line.strip_prefix("WARN\t") {
            println!("wire rows: warning: {warning}");
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let [tag, name, bytes, ours, official, ours_min, official_min] = f[..] else {
            continue;
        };
        if tag != "ROW" {
            continue;
        }
        let bytes: u64 = bytes.parse()?;
        let (ours, official) = (ns(ours)?, ns(official)?);
        let (ours_min, official_min) = (ns(ours_min)?, ns(official_min)?);
        let speedup = official.as_secs_f64() / ours.as_secs_f64();
        rows.push(Row {
            name: format!("wire: {name} ({} KB)", bytes / 1000),
            median: ours,
            figure: format!(
                "{:.0} MB/s; dropbox-sdk {OFFICIAL_VERSION}: {:.2} ms; fastest {:.2} vs {:.2} ms",
                bytes as f64 / ours.as_secs_f64() / 1e6,
                official.as_secs_f64() * 1e3,
                ours_min.as_secs_f64() * 1e3,
                official_min.as_secs_f64() * 1e3,
            ),
            target: format!(
                "{speedup:.2}x faster than dropbox-sdk; >= 1.5x: {}",
                crate::bench::verdict(speedup >= 1.5)
            ),
        });
    }
    Ok(())
}
