//! `cargo xtask fullspec`: generate the complete official spec (from `../shared`) into a
//! standalone crate, build it, and run its example round-trip test.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::codegen::{self, Codegen};

/// Where the official spec is expected, relative to the workspace root.
pub const OFFICIAL_SPEC: &str = "../shared/dropbox-api-spec";

/// Runs the check; prints why and succeeds when the official spec is absent.
pub fn run(root: &Path) -> Result<()> {
    let specs = root.join(OFFICIAL_SPEC);
    if !specs.is_dir() {
        println!(
            "skipped: the official spec is not at {} (it lives beside the repository in CI)",
            specs.display()
        );
        return Ok(());
    }
    let out = root.join("target/fullspec-crate");
    let job = Codegen {
        specs,
        out: out.clone(),
        check: false,
        workspace: false,
        serde: Default::default(),
    };
    codegen::run(&job, root)?;
    // Resolve dependencies exactly as the workspace does, so nothing new is downloaded.
    std::fs::copy(root.join("Cargo.lock"), out.join("Cargo.lock")).context("copying Cargo.lock")?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .args(["test", "--manifest-path"])
        .arg(out.join("Cargo.toml"))
        .args(["--test", "examples"])
        .env("CARGO_TARGET_DIR", root.join("target/fullspec"))
        .status()
        .with_context(|| format!("running {cargo}"))?;
    if !status.success() {
        bail!("the crate generated from the official spec failed to build or its examples failed");
    }
    println!("the official spec generates a crate that builds, and every example round-trips");
    Ok(())
}
