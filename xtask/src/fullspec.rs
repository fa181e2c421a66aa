//! `cargo xtask fullspec`: the whole workspace on the complete official API.
//!
//! A user who vendors github.com/dropbox/dropbox-api-spec puts its `.stone` files in `specs/`
//! (our `specs/openapi/` stays beside them), runs `cargo xtask codegen` and expects the
//! workspace to stay green. This command does exactly that in a scratch copy of the workspace
//! (`target/fullspec-workspace`), with the official spec from `../shared`: it regenerates
//! `generated/` there, prints the spec's counts, then runs clippy with `-D warnings`, rustdoc
//! on the generated crate with `-D warnings`, and the README's test command in the copy. The copy shares this workspace's target directory, so
//! dependencies are built once; files are only rewritten when their contents change, so a
//! second run rebuilds only what changed.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::codegen;

/// Where the official spec is expected, relative to the workspace root.
pub const OFFICIAL_SPEC: &str = "../shared/dropbox-api-spec";

/// Set for every cargo run in the copy. The copy shares this workspace's target dir, and
/// `tests/build.rs` (whose build-script unit is the same in both: it does not depend on the
/// generated crate) names this variable in `rerun-if-env-changed`, so that it reruns, and
/// detects which API `generated/` holds, whenever a build switches between the two.
const COPY_ENV: &str = "DBX_FULLSPEC_COPY";

/// The scratch workspace, relative to the workspace root.
const SCRATCH: &str = "target/fullspec-workspace";

/// Files of `generated/` that `cargo xtask codegen` owns in the copy: whatever it renders,
/// and any source file there (it removes the ones it no longer renders).
struct Owned(BTreeSet<PathBuf>);

impl Owned {
    fn contains(&self, rel: &Path) -> bool {
        self.0.contains(rel)
            || rel.starts_with("generated/src")
            || rel.starts_with("generated/tests")
    }
}

/// Directories never copied: build output, version control, fuzzing state.
fn skipped_dir(rel: &Path) -> bool {
    let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
    matches!(name, "target" | ".git")
        || rel == Path::new("fuzz/corpus")
        || rel == Path::new("fuzz/artifacts")
}

/// Runs the check; prints why and succeeds when the official spec is absent.
pub fn run(root: &Path) -> Result<()> {
    let official = root.join(OFFICIAL_SPEC);
    if !official.is_dir() {
        println!(
            "skipped: the official spec is not at {} (it lives beside the repository in CI)",
            official.display()
        );
        return Ok(());
    }
    let started = Instant::now();
    let scratch = root.join(SCRATCH);
    let vendored = vendor_spec(&official, &scratch.join("specs"))?;
    let mut job = codegen::committed(&scratch, false);
    // The copy takes our OpenAPI descriptions before it has any files of its own.
    job.openapi = root.join("specs/openapi");
    let owned = Owned(
        codegen::render(&job, &scratch)?
            .files
            .into_keys()
            .map(|rel| Path::new("generated").join(rel))
            .collect(),
    );
    let copied = sync_workspace(root, &scratch, &owned)?;
    println!(
        "scratch workspace {}: {copied} file(s) copied, {vendored} official spec file(s) in specs/",
        scratch.display()
    );
    codegen::run(&codegen::committed(&scratch, false), &scratch)?;
    let api = dbx_codegen::load_dir(&scratch.join("specs"))?;
    println!("{}", dbx_codegen::stats::Stats::of(&api));

    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    for (what, args, rustdocflags) in [
        (
            "clippy",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ][..],
            None,
        ),
        // The spec's docstrings become rustdoc: every link resolves, no bare URL.
        (
            "docs",
            &["doc", "-p", "dropbox-api", "--no-deps"][..],
            Some("-D warnings"),
        ),
        // Every failing test target reported at once, not only the first.
        (
            "tests",
            &["test", "--workspace", "--no-fail-fast"][..],
            None,
        ),
    ] {
        let step = Instant::now();
        cargo(&scratch, &target, args, rustdocflags)
            .with_context(|| format!("{what} failed in the workspace on the official spec"))?;
        println!(
            "fullspec {what}: passed in {:.0} s",
            step.elapsed().as_secs_f64()
        );
    }
    println!(
        "the workspace on the official spec regenerates, is clippy-clean and passes its tests ({:.0} s)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn cargo(dir: &Path, target: &Path, args: &[&str], rustdocflags: Option<&str>) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(&cargo);
    command
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env(COPY_ENV, dir);
    if let Some(flags) = rustdocflags {
        command.env("RUSTDOCFLAGS", flags);
    }
    let status = command
        .status()
        .with_context(|| format!("running {cargo}"))?;
    if !status.success() {
        bail!("`cargo {}` exited with {status}", args.join(" "));
    }
    Ok(())
}

/// Mirrors the workspace's sources into `to` (our `.stone` files excepted), writing only files
/// whose contents differ and removing files that are gone. Returns the number written.
fn sync_workspace(root: &Path, to: &Path, owned: &Owned) -> Result<usize> {
    let mut wanted = BTreeSet::new();
    let mut written = 0;
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        for entry in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let entry = entry?;
            let rel = rel.join(entry.file_name());
            let kind = entry.file_type()?;
            if kind.is_dir() {
                if !skipped_dir(&rel) {
                    stack.push(rel);
                }
                continue;
            }
            if owned.contains(&rel) || is_our_stone(&rel) {
                continue;
            }
            if write_if_changed(&entry.path(), &to.join(&rel))? {
                written += 1;
            }
            wanted.insert(rel);
        }
    }
    remove_stale(to, &wanted, owned)?;
    Ok(written)
}

fn is_our_stone(rel: &Path) -> bool {
    rel.parent() == Some(Path::new("specs")) && rel.extension().is_some_and(|e| e == "stone")
}

/// Puts the official `.stone` files in `specs` in place of ours. Returns how many there are.
fn vendor_spec(official: &Path, specs: &Path) -> Result<usize> {
    let mut count = 0;
    for entry in
        fs::read_dir(official).with_context(|| format!("reading {}", official.display()))?
    {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "stone") {
            let name = path.file_name().context("a spec file without a name")?;
            write_if_changed(&path, &specs.join(name))?;
            count += 1;
        }
    }
    Ok(count)
}

/// Removes the copy's files that the workspace no longer has (the vendored spec and the
/// generated crate are kept: `vendor_spec` and `cargo xtask codegen` own them).
fn remove_stale(to: &Path, wanted: &BTreeSet<PathBuf>, owned: &Owned) -> Result<()> {
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let Ok(entries) = fs::read_dir(to.join(&rel)) else {
            continue;
        };
        for entry in entries {
            let entry = entry?;
            let rel = rel.join(entry.file_name());
            if entry.file_type()?.is_dir() {
                if !skipped_dir(&rel) {
                    stack.push(rel);
                }
            } else if !wanted.contains(&rel) && !owned.contains(&rel) && !is_our_stone(&rel) {
                fs::remove_file(entry.path())
                    .with_context(|| format!("removing {}", entry.path().display()))?;
            }
        }
    }
    Ok(())
}

fn write_if_changed(from: &Path, to: &Path) -> Result<bool> {
    let bytes = fs::read(from).with_context(|| format!("reading {}", from.display()))?;
    if fs::read(to).ok().as_deref() == Some(&bytes[..]) {
        return Ok(false);
    }
    if let Some(dir) = to.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    fs::write(to, &bytes).with_context(|| format!("writing {}", to.display()))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_leaves_codegen_output_and_our_stone_files_alone() {
        let owned = Owned([PathBuf::from("generated/README.md")].into());
        assert!(owned.contains(Path::new("generated/src/files.rs")));
        assert!(owned.contains(Path::new("generated/README.md")));
        assert!(!owned.contains(Path::new("generated/LICENSE-MIT")));
        assert!(is_our_stone(Path::new("specs/files.stone")));
        assert!(!is_our_stone(Path::new("specs/openapi/v1.json")));
        assert!(!is_our_stone(Path::new("tests/fixtures/errors.stone")));
        assert!(skipped_dir(Path::new("target")));
        assert!(skipped_dir(Path::new("tests/downstream/target")));
        assert!(!skipped_dir(Path::new("tests/fixtures")));
    }

    #[test]
    fn sync_writes_changes_only_and_removes_what_is_gone() {
        let base = std::env::temp_dir().join(format!("xtask-sync-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let (src, dst) = (base.join("src"), base.join("dst"));
        for (rel, text) in [
            ("Cargo.toml", "[workspace]\n"),
            ("specs/files.stone", "namespace files\n"),
            ("specs/openapi/v1.json", "{}"),
            ("target/debug/junk", "x"),
            ("generated/src/lib.rs", "// ours\n"),
        ] {
            fs::create_dir_all(src.join(rel).parent().unwrap()).unwrap();
            fs::write(src.join(rel), text).unwrap();
        }
        let owned = Owned(BTreeSet::new());
        assert_eq!(sync_workspace(&src, &dst, &owned).unwrap(), 2);
        assert!(dst.join("specs/openapi/v1.json").exists());
        assert!(!dst.join("specs/files.stone").exists());
        assert!(!dst.join("target").exists());
        assert!(!dst.join("generated/src/lib.rs").exists());
        // Unchanged files are not rewritten; removed ones go; codegen's output stays.
        fs::write(dst.join("generated.rs"), "stale").unwrap();
        fs::create_dir_all(dst.join("generated/src")).unwrap();
        fs::write(dst.join("generated/src/lib.rs"), "// full api\n").unwrap();
        assert_eq!(sync_workspace(&src, &dst, &owned).unwrap(), 0);
        assert!(!dst.join("generated.rs").exists());
        assert!(dst.join("generated/src/lib.rs").exists());
        let _ = fs::remove_dir_all(&base);
    }
}
