//! Emits the namespace of every fixture in `tests/fixtures/` (the same specs the snapshot
//! tests diff as text) into `OUT_DIR`, so that `tests/fixtures_compile.rs` compiles each
//! emitted module and `tests/families.rs` exercises the struct families, which none of the
//! committed specs has. A fixture whose emitted code does not compile fails the build.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let fixtures = Path::new("tests/fixtures");
    println!("cargo::rerun-if-changed={}", fixtures.display());
    let read = |path: &Path| {
        println!("cargo::rerun-if-changed={}", path.display());
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let cfg = read(&fixtures.join("stone_cfg.stone"));
    let mut specs: Vec<_> = std::fs::read_dir(fixtures)
        .unwrap_or_else(|e| panic!("{}: {e}", fixtures.display()))
        .map(|entry| entry.expect("reading tests/fixtures").path())
        .filter(|p| p.extension().is_some_and(|e| e == "stone"))
        .filter(|p| p.file_name().is_some_and(|n| n != "stone_cfg.stone"))
        .collect();
    specs.sort();
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let out = Path::new(&out);
    let mut all = String::new();
    for path in &specs {
        let file = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("fixture names are UTF-8");
        let spec = read(path);
        let api = dbx_codegen::load_str(&[("stone_cfg.stone", &cfg), (file, &spec)])
            .unwrap_or_else(|e| panic!("{e}"));
        for ns in api.namespaces.keys() {
            let code = dbx_codegen::emit::emit_namespace(&api, ns)
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            let module = dbx_codegen::emit::module_name(ns);
            let target = out.join(format!("{module}.rs"));
            std::fs::write(&target, code).expect("writing an emitted module");
            // `include!` cannot take a file with inner attributes, so the tests include
            // module declarations that point at the emitted files.
            // (A raw identifier, since a namespace may be a Rust keyword such as `async`.)
            let decl = format!(
                "#[path = {:?}]\npub mod r#{module};\n",
                target.display().to_string()
            );
            if ns == "events" {
                std::fs::write(out.join("events_mod.rs"), &decl).expect("writing a declaration");
            }
            writeln!(all, "/// Emitted from `fixtures/{file}`.\n{decl}").expect("a String");
        }
    }
    std::fs::write(out.join("fixtures_mod.rs"), all).expect("writing the declarations");
    // Compile the routes the fixtures mark `is_preview` too (the generated crate gates them
    // behind its `preview` feature).
    println!("cargo::rustc-check-cfg=cfg(feature, values(\"preview\"))");
    full_api_cfg();
    println!("cargo::rustc-cfg=feature=\"preview\"");
}

/// Set by `cargo xtask fullspec` for the cargo runs in its scratch copy (`COPY_ENV` there).
const FULLSPEC_ENV: &str = "DBX_FULLSPEC_COPY";

/// `cfg(full_api)` when the workspace's `generated/` holds the whole official API (its
/// `sharing` and `team` modules exist), as after vendoring the official spec into `specs/`:
/// `tests/integration/full_api.rs` then compiles and runs paginators of those namespaces.
fn full_api_cfg() {
    println!("cargo::rustc-check-cfg=cfg(full_api)");
    // `cargo xtask fullspec` builds its scratch copy in this workspace's target dir, where this
    // build script is the same unit as ours (cargo hashes a path package by its path relative
    // to the workspace root, and this script does not depend on `dropbox-api`). Cargo reruns
    // it on an mtime newer than its last run, which our older files never are after a run in
    // the copy; the copy sets this variable, so its change reruns the script in either place.
    println!("cargo::rerun-if-env-changed={FULLSPEC_ENV}");
    let generated = Path::new("../generated/src");
    println!("cargo::rerun-if-changed={}", generated.display());
    if ["sharing.rs", "team.rs", "users.rs"]
        .iter()
        .all(|m| generated.join(m).is_file())
    {
        println!("cargo::rustc-cfg=full_api");
    }
}
