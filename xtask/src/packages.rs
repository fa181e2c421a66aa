//! `cargo xtask packages`: the workspace's publishable packages, packed and then compiled from
//! what was packed.
//!
//! `cargo package --workspace` verifies each package by building it in `target/package`, a
//! target directory of its own, so every dependency is compiled a second time (about five
//! minutes on two cores), and it also packs the members marked `publish = false`. This
//! command packs only the publishable members (`cargo package --no-verify`), unpacks each
//! `.crate` under `target/package-check/`, and compiles them there (`cargo check`) as one scratch
//! workspace whose `[patch.crates-io]` points every package at its unpacked copy, in the
//! workspace's own target directory with the workspace's `Cargo.lock` and `[profile.*]` tables. That proves what matters
//! of cargo's verification (the packed files alone compile, with their published manifests and
//! the dependency versions the workspace's lockfile pins; it does not link the binaries) while
//! reusing what the other steps already built. It needs nothing of xtask's `workloads`, so
//! `.ci/run` runs it through the binary `cargo codegen` built.
//!
//! It also avoids a cargo behaviour that broke CI: cargo's verification unpacks the sibling
//! packages into `$CARGO_HOME/registry/src/-<hash of the clone's path>/` and never unpacks a
//! name and version again once a copy is there, so two runs from the same path built the
//! second against the first run's sources.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// The scratch workspace, relative to the workspace root.
const SCRATCH: &str = "target/package-check";

/// One publishable member of the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    pub version: String,
}

impl Package {
    /// `name-version`: the `.crate` file's stem and the directory it unpacks into.
    fn stem(&self) -> String {
        format!("{}-{}", self.name, self.version)
    }
}

/// Packs, unpacks and builds the publishable packages.
pub fn run(root: &Path) -> Result<()> {
    let started = Instant::now();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let metadata = Command::new(&cargo)
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(root)
        .output()
        .context("running cargo metadata")?;
    if !metadata.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&metadata.stderr)
        );
    }
    let (publishable, unpublished) = members(&metadata.stdout)?;
    println!(
        "packing {} ({} not published: {})",
        names(&publishable),
        unpublished.len(),
        names(&unpublished)
    );

    let mut pack = Command::new(&cargo);
    pack.args(["package", "--workspace", "--no-verify"])
        .current_dir(root);
    for p in &unpublished {
        pack.args(["--exclude", &p.name]);
    }
    run_command(&mut pack, "cargo package")?;

    let scratch = root.join(SCRATCH);
    if scratch.exists() {
        fs::remove_dir_all(&scratch).with_context(|| format!("removing {}", scratch.display()))?;
    }
    fs::create_dir_all(&scratch)?;
    for p in &publishable {
        let file = root
            .join("target/package")
            .join(format!("{}.crate", p.stem()));
        let mut untar = Command::new("tar");
        untar.arg("-xzf").arg(&file).arg("-C").arg(&scratch);
        run_command(&mut untar, &format!("unpacking {}", file.display()))?;
        if !scratch.join(p.stem()).join("Cargo.toml").is_file() {
            bail!("{} did not unpack into {}", file.display(), p.stem());
        }
    }
    fs::write(
        scratch.join("Cargo.toml"),
        scratch_manifest(
            &publishable,
            &profile_tables(&fs::read_to_string(root.join("Cargo.toml"))?),
        ),
    )?;
    fs::copy(root.join("Cargo.lock"), scratch.join("Cargo.lock")).context("copying Cargo.lock")?;

    // The copied lockfile pins every version; cargo only drops the entries that no packed
    // crate needs (those of the unpublished members and of dev-dependencies), which is why
    // this is not `--locked`.
    let mut build = Command::new(&cargo);
    build
        .args(["check", "--workspace", "--manifest-path"])
        .arg(scratch.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", root.join("target"));
    run_command(&mut build, "checking the packed crates")?;
    let pinned = lock_entries(&fs::read_to_string(root.join("Cargo.lock"))?);
    let used = lock_entries(&fs::read_to_string(scratch.join("Cargo.lock"))?);
    let changed: Vec<String> = used
        .difference(&pinned)
        .map(|(name, version)| format!("{name} {version}"))
        .collect();
    if !changed.is_empty() {
        bail!(
            "the packed crates resolved versions the workspace's Cargo.lock does not pin: {}",
            changed.join(", ")
        );
    }
    println!(
        "packages: {} packed and built from the packed sources in {:.0} s",
        publishable.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The `(name, version)` of every package of a `Cargo.lock`.
pub fn lock_entries(lock: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let mut name: Option<&str> = None;
    for line in lock.lines() {
        let value = |key: &str| {
            line.strip_prefix(key)
                .and_then(|rest| rest.trim().strip_prefix('='))
                .map(|v| v.trim().trim_matches('"'))
        };
        if line == "[[package]]" {
            name = None;
        } else if let Some(n) = value("name ") {
            name = Some(n);
        } else if let (Some(v), Some(n)) = (value("version "), name.take()) {
            out.insert((n.to_string(), v.to_string()));
        }
    }
    out
}

fn names(packages: &[Package]) -> String {
    packages
        .iter()
        .map(|p| p.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn run_command(cmd: &mut Command, what: &str) -> Result<()> {
    let status = cmd.status().with_context(|| format!("{what}: starting"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// The workspace members from `cargo metadata --no-deps` output: (publishable, not published).
/// A member with `publish = false` has an empty `publish` list.
pub fn members(metadata: &[u8]) -> Result<(Vec<Package>, Vec<Package>)> {
    let value: serde_json::Value =
        serde_json::from_slice(metadata).context("reading cargo metadata's output")?;
    let members: Vec<&str> = value["workspace_members"]
        .as_array()
        .context("cargo metadata: no workspace_members")?
        .iter()
        .filter_map(|m| m.as_str())
        .collect();
    let mut publishable = Vec::new();
    let mut unpublished = Vec::new();
    for package in value["packages"]
        .as_array()
        .context("cargo metadata: no packages")?
    {
        let id = package["id"].as_str().unwrap_or_default();
        if !members.contains(&id) {
            continue;
        }
        let p = Package {
            name: package["name"]
                .as_str()
                .context("cargo metadata: a package without a name")?
                .to_string(),
            version: package["version"]
                .as_str()
                .context("cargo metadata: a package without a version")?
                .to_string(),
        };
        let private = package["publish"].as_array().is_some_and(Vec::is_empty);
        if private {
            unpublished.push(p);
        } else {
            publishable.push(p);
        }
    }
    publishable.sort_by(|a, b| a.name.cmp(&b.name));
    unpublished.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((publishable, unpublished))
}

/// The scratch workspace's manifest: the unpacked packages as members, each also patched in
/// for the registry dependency its siblings' published manifests declare, then `profiles` (the
/// workspace's `[profile.*]` tables, from [`profile_tables`]).
pub fn scratch_manifest(packages: &[Package], profiles: &str) -> String {
    let dirs: BTreeMap<&str, PathBuf> = packages
        .iter()
        .map(|p| (p.name.as_str(), PathBuf::from(p.stem())))
        .collect();
    let mut out = String::from(
        "# Written by `cargo xtask packages`: the packed crates, built from their .crate files.\n\
         [workspace]\nresolver = \"3\"\nmembers = [\n",
    );
    for dir in dirs.values() {
        out.push_str(&format!("    {:?},\n", dir.display().to_string()));
    }
    out.push_str("]\n\n[patch.crates-io]\n");
    for (name, dir) in &dirs {
        out.push_str(&format!(
            "{name} = {{ path = {:?} }}\n",
            dir.display().to_string()
        ));
    }
    if !profiles.is_empty() {
        out.push('\n');
        out.push_str(profiles);
    }
    out
}

/// The `[profile.*]` tables of a workspace manifest, as written there. A profile is part of
/// every build unit's hash, and a workspace's profiles do not reach another workspace: without
/// them the scratch workspace checks every dependency again (about 150 crates) instead of
/// reusing, in the shared target dir, what the workspace's own steps already checked.
pub fn profile_tables(manifest: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in manifest.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            inside = trimmed.starts_with("[profile.");
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const METADATA: &str = r#"{
        "workspace_members": ["path+file:///w/runtime#dropbox-api-runtime@0.1.0",
                              "path+file:///w/xtask#0.1.0"],
        "packages": [
            {"id": "path+file:///w/runtime#dropbox-api-runtime@0.1.0",
             "name": "dropbox-api-runtime", "version": "0.1.0", "publish": null},
            {"id": "path+file:///w/xtask#0.1.0",
             "name": "xtask", "version": "0.1.0", "publish": []},
            {"id": "registry+https://github.com/rust-lang/crates.io-index#serde@1.0.0",
             "name": "serde", "version": "1.0.0", "publish": null}
        ]
    }"#;

    #[test]
    fn members_split_on_publish_false_and_skip_non_members() {
        let (publishable, unpublished) = members(METADATA.as_bytes()).unwrap();
        assert_eq!(
            publishable,
            [Package {
                name: "dropbox-api-runtime".into(),
                version: "0.1.0".into()
            }]
        );
        assert_eq!(
            unpublished,
            [Package {
                name: "xtask".into(),
                version: "0.1.0".into()
            }]
        );
    }

    #[test]
    fn lock_entries_read_every_package() {
        let lock = "version = 4\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.228\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"dbx\"\nversion = \"0.1.0\"\ndependencies = [\n \"serde\",\n]\n";
        let entries = lock_entries(lock);
        assert_eq!(
            entries.into_iter().collect::<Vec<_>>(),
            [
                ("dbx".to_string(), "0.1.0".to_string()),
                ("serde".to_string(), "1.0.228".to_string())
            ]
        );
    }

    #[test]
    fn members_reject_output_that_is_not_metadata() {
        assert!(members(b"not json").is_err());
        assert!(members(b"{}").is_err());
    }

    #[test]
    fn the_scratch_manifest_patches_every_package_with_its_unpacked_copy() {
        let packages = [
            Package {
                name: "dropbox-api".into(),
                version: "0.1.0".into(),
            },
            Package {
                name: "dbx".into(),
                version: "0.2.0".into(),
            },
        ];
        assert_eq!(
            scratch_manifest(&packages, ""),
            "# Written by `cargo xtask packages`: the packed crates, built from their .crate files.\n\
             [workspace]\nresolver = \"3\"\nmembers = [\n    \"dbx-0.2.0\",\n    \"dropbox-api-0.1.0\",\n]\n\n\
             [patch.crates-io]\ndbx = { path = \"dbx-0.2.0\" }\ndropbox-api = { path = \"dropbox-api-0.1.0\" }\n"
        );
    }

    #[test]
    fn the_profile_tables_are_copied_and_nothing_else() {
        let manifest = "[workspace]\nmembers = [\"a\"]\n\n[profile.release]\ndebug = 1\n\n\
                        # note\n[profile.dev.package.\"*\"]\nopt-level = 1\n\
                        [workspace.dependencies]\nx = \"1\"\n";
        let tables = profile_tables(manifest);
        assert_eq!(
            tables,
            "[profile.release]\ndebug = 1\n\n# note\n[profile.dev.package.\"*\"]\nopt-level = 1\n"
        );
        assert_eq!(profile_tables("[workspace]\nmembers = []\n"), "");
        let packages = [Package {
            name: "dbx".into(),
            version: "0.2.0".into(),
        }];
        let manifest = scratch_manifest(&packages, &tables);
        assert!(manifest.ends_with(&format!("\n\n{tables}")), "{manifest}");
    }
}
