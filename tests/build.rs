//! Emits the `events` namespace of `tests/fixtures/families.stone` into `OUT_DIR`, so that
//! `tests/families.rs` compiles and exercises the code the emitter writes for struct
//! families (none of the committed specs has one).

use std::path::Path;

fn main() {
    let fixtures = Path::new("tests/fixtures");
    let read = |name: &str| {
        let path = fixtures.join(name);
        println!("cargo::rerun-if-changed={}", path.display());
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let cfg = read("stone_cfg.stone");
    let spec = read("families.stone");
    let api = dbx_codegen::load_str(&[("stone_cfg.stone", &cfg), ("families.stone", &spec)])
        .unwrap_or_else(|e| panic!("{e}"));
    let code = dbx_codegen::emit::emit_namespace(&api, "events").unwrap_or_else(|e| panic!("{e}"));
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let module = Path::new(&out).join("events.rs");
    std::fs::write(&module, code).expect("writing the emitted module");
    // `include!` cannot take a file with inner attributes, so the test includes a one-line
    // module declaration that points at the emitted file.
    let decl = format!(
        "#[path = {:?}]\npub mod events;\n",
        module.display().to_string()
    );
    std::fs::write(Path::new(&out).join("events_mod.rs"), decl).expect("writing the declaration");
}
