//! Snapshots of the code the emitter produces for small fixture specs, one per construct.
//! Review changes with `cargo insta review`; never accept them blindly.

use std::path::Path;

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Loads `file` (with the fixtures' `stone_cfg`) and emits namespace `ns`.
fn emit(file: &str, ns: &str) -> String {
    let cfg = fixture("stone_cfg.stone");
    let spec = fixture(file);
    let api = dbx_codegen::load_str(&[("stone_cfg.stone", &cfg), (file, &spec)])
        .unwrap_or_else(|e| panic!("{e}"));
    dbx_codegen::emit::emit_namespace(&api, ns).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn struct_with_optional_and_defaulted_fields() {
    insta::assert_snapshot!(emit("struct.stone", "shapes"));
}

#[test]
fn inheritance_flattens_ancestor_fields() {
    insta::assert_snapshot!(emit("inheritance.stone", "family"));
}

#[test]
fn polymorphic_struct_becomes_an_enum() {
    insta::assert_snapshot!(emit("polymorphic.stone", "entries"));
}

#[test]
fn open_closed_and_extended_unions() {
    insta::assert_snapshot!(emit("unions.stone", "outcomes"));
}

#[test]
fn aliases_and_adapted_types() {
    insta::assert_snapshot!(emit("alias.stone", "names"));
}

#[test]
fn constraints_are_validated() {
    insta::assert_snapshot!(emit("constraints.stone", "limits"));
}

#[test]
fn every_route_style_and_auth() {
    insta::assert_snapshot!(emit("routes.stone", "things"));
}

#[test]
fn deprecated_items() {
    insta::assert_snapshot!(emit("deprecated.stone", "old"));
}

#[test]
fn keyword_names() {
    insta::assert_snapshot!(emit("keywords.stone", "async"));
}

#[test]
fn output_is_deterministic() {
    for (file, ns) in [("unions.stone", "outcomes"), ("routes.stone", "things")] {
        assert_eq!(emit(file, ns), emit(file, ns));
    }
}

#[test]
fn route_errors_are_classified_for_retries() {
    insta::assert_snapshot!(emit("retry.stone", "retry"));
}

#[test]
fn struct_families_become_one_generic_struct() {
    insta::assert_snapshot!(emit("families.stone", "events"));
}
