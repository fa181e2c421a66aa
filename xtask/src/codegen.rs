//! `cargo xtask codegen`: regenerate `generated/` from `specs/` or from any spec directory
//! (or check that it is fresh), or emit a standalone crate from any spec directory.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use dbx_codegen::emit::{self, CrateOptions, DependencyStyle, GeneratedCrate};

/// What to generate.
pub struct Codegen {
    /// Spec directory (`.stone` files).
    pub specs: PathBuf,
    /// Directory of OpenAPI descriptions (`*.json`), each an extra module; may be absent.
    pub openapi: PathBuf,
    /// Output crate directory.
    pub out: PathBuf,
    /// Compare instead of writing.
    pub check: bool,
    /// `dropbox-api` in this workspace, or a standalone crate.
    pub workspace: bool,
    /// How struct serialization is emitted.
    pub serde: dbx_codegen::emit::SerdeStyle,
}

/// Generates the committed crate: `specs/` into `generated/`, with the v1 OpenAPI module.
pub fn committed(root: &Path, check: bool) -> Codegen {
    in_place(root, &root.join("specs"), check)
}

/// Regenerates the workspace's `generated/` from any spec directory (`--specs DIR` without
/// `--out`). The OpenAPI modules come from `DIR/openapi`, or from the workspace's
/// `specs/openapi` when DIR has none (the official Stone spec carries no OpenAPI files, and the
/// hand-written crates' `legacy-v1` features use the module).
pub fn in_place(root: &Path, specs: &Path, check: bool) -> Codegen {
    let own = specs.join("openapi");
    Codegen {
        specs: specs.to_path_buf(),
        openapi: if own.is_dir() {
            own
        } else {
            root.join("specs/openapi")
        },
        out: root.join("generated"),
        check,
        workspace: true,
        serde: Default::default(),
    }
}

/// A standalone crate from `specs` into `out` (linking the runtime by path), with the OpenAPI
/// modules of `specs/openapi` if it has any.
pub fn standalone(specs: &Path, out: &Path) -> Codegen {
    Codegen {
        specs: specs.to_path_buf(),
        openapi: specs.join("openapi"),
        out: out.to_path_buf(),
        check: false,
        workspace: false,
        serde: Default::default(),
    }
}

/// Renders every file of the crate.
pub fn render(job: &Codegen, root: &Path) -> Result<GeneratedCrate> {
    let api = dbx_codegen::load_dir(&job.specs)?;
    let options = CrateOptions {
        package: "dropbox-api".into(),
        version: "0.1.0".into(),
        dependencies: if job.workspace {
            DependencyStyle::Workspace
        } else {
            DependencyStyle::Standalone {
                runtime_path: root.join("runtime"),
            }
        },
        extra_modules: crate::openapi::extra_modules(&job.openapi)?,
        serde: job.serde,
    };
    Ok(emit::emit_crate(&api, &options)?)
}

/// Runs the job: writes changed files (or, with `check`, reports them) and removes (or
/// reports) generated files that no longer correspond to anything.
pub fn run(job: &Codegen, root: &Path) -> Result<()> {
    let rendered = render(job, root)?;
    let mut stale = Vec::new();
    for (rel, contents) in &rendered.files {
        let path = job.out.join(rel);
        let old = fs::read_to_string(&path).ok();
        if old.as_deref().map(|o| o.replace("\r\n", "\n")) == Some(contents.clone()) {
            continue;
        }
        if job.check {
            stale.push(match old {
                None => format!("  {rel}: missing"),
                Some(old) => format!("  {rel}: differs ({})", first_difference(&old, contents)),
            });
            continue;
        }
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        fs::write(&path, contents).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("updated {}", path.display());
    }
    let expected: BTreeSet<&String> = rendered.files.keys().collect();
    for rel in existing_generated_files(&job.out) {
        if expected.contains(&rel) {
            continue;
        }
        if job.check {
            stale.push(format!("  {rel}: no longer generated"));
        } else {
            let path = job.out.join(&rel);
            fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
            eprintln!("removed {}", path.display());
        }
    }
    if !stale.is_empty() {
        bail!(
            "{} is stale: {} file(s) do not match the specs:\n{}\nrun `cargo xtask codegen` and commit the result",
            job.out.display(),
            stale.len(),
            stale.join("\n")
        );
    }
    Ok(())
}

/// Generated files under the output directory (`src/*.rs`, `tests/*.rs`, `Cargo.toml`).
fn existing_generated_files(out: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for dir in ["src", "tests"] {
        if let Ok(entries) = fs::read_dir(out.join(dir)) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.ends_with(".rs") {
                    found.push(format!("{dir}/{name}"));
                }
            }
        }
    }
    found.sort();
    found
}

/// Where two texts first differ, as `line N: expected ... found ...`.
fn first_difference(old: &str, new: &str) -> String {
    for (i, (a, b)) in old.lines().zip(new.lines()).enumerate() {
        if a != b {
            return format!(
                "line {}: committed `{}`, generator gives `{}`",
                i + 1,
                a.trim(),
                b.trim()
            );
        }
    }
    format!(
        "committed has {} lines, generator gives {}",
        old.lines().count(),
        new.lines().count()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy_dir(from: &Path, to: &Path) {
        fs::create_dir_all(to).unwrap();
        for e in fs::read_dir(from).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                copy_dir(&p, &to.join(e.file_name()));
            } else {
                fs::copy(&p, to.join(e.file_name())).unwrap();
            }
        }
    }

    #[test]
    fn committed_output_is_fresh() {
        let root = crate::project_root();
        run(&committed(&root, true), &root).unwrap();
    }

    #[test]
    fn a_hand_edit_makes_the_check_fail() {
        let root = crate::project_root();
        let dir = std::env::temp_dir().join(format!("xtask-check-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        copy_dir(&root.join("generated"), &dir);
        let job = Codegen {
            out: dir.clone(),
            ..committed(&root, true)
        };
        run(&job, &root).unwrap();
        let file = dir.join("src/files.rs");
        let edited = fs::read_to_string(&file)
            .unwrap()
            .replacen("pub struct", "pub  struct", 1);
        fs::write(&file, edited).unwrap();
        fs::write(dir.join("src/stray.rs"), "// not generated\n").unwrap();
        let err = run(&job, &root).unwrap_err().to_string();
        assert!(err.contains("src/files.rs: differs"), "{err}");
        assert!(err.contains("src/stray.rs: no longer generated"), "{err}");
        // Nothing was written in check mode.
        assert!(dir.join("src/stray.rs").exists());
        let _ = fs::remove_dir_all(&dir);
    }
}
