//! The crate around the modules: `Cargo.toml`'s features and optional dependencies, the
//! feature gate of an extra module in `lib.rs`, and the README, for our specs.

use std::path::{Path, PathBuf};

use dbx_codegen::emit::{
    CrateOptions, Dependency, DependencyStyle, ExtraModule, GeneratedCrate, emit_crate,
};

fn specs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs")
}

fn dep(name: &str, features: &[&str]) -> Dependency {
    Dependency {
        name: name.into(),
        version: "1".into(),
        features: features.iter().map(|f| f.to_string()).collect(),
        default_features: false,
    }
}

fn emit(style: DependencyStyle, feature: Option<&str>) -> GeneratedCrate {
    let api = dbx_codegen::load_dir(&specs()).expect("our specs load");
    let options = CrateOptions {
        package: "dropbox-api".into(),
        version: "0.1.0".into(),
        dependencies: style,
        extra_modules: vec![ExtraModule {
            name: "v1".into(),
            summary: "The legacy API.".into(),
            origin: "the OpenAPI description `openapi/v1.json`".into(),
            source: "pub fn hello() {}\n".into(),
            // `serde` is needed by the namespaces too, so it must stay required.
            dependencies: vec![dep("progenitor-client", &[]), dep("serde", &["derive"])],
            feature: feature.map(str::to_string),
        }],
        serde: Default::default(),
    };
    emit_crate(&api, &options).expect("the crate emits")
}

fn file<'a>(c: &'a GeneratedCrate, name: &str) -> &'a str {
    c.files
        .get(name)
        .unwrap_or_else(|| panic!("{name} is emitted"))
}

fn line<'a>(text: &'a str, start: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no line starting with {start:?} in\n{text}"))
}

#[test]
fn a_feature_gated_module_makes_its_own_dependencies_optional() {
    let c = emit(DependencyStyle::Workspace, Some("legacy-v1"));
    let toml = file(&c, "Cargo.toml");
    assert_eq!(
        line(toml, "progenitor-client"),
        "progenitor-client = { workspace = true, optional = true }"
    );
    // serde stays required (the namespaces use it); the module's feature turns on the
    // serde feature it needs.
    assert_eq!(line(toml, "serde."), "serde.workspace = true");
    assert_eq!(
        line(toml, "legacy-v1 ="),
        "legacy-v1 = [\"dep:progenitor-client\", \"serde/derive\"]"
    );
    let default = line(toml, "default =");
    assert!(
        default.contains("\"files\"") && default.contains("\"rustls-ring\""),
        "{default}"
    );
    assert!(!default.contains("legacy-v1"), "{default}");
    for tls in ["rustls", "rustls-ring", "rustls-no-provider", "native-tls"] {
        assert_eq!(
            line(toml, &format!("{tls} =")),
            format!("{tls} = [\"dropbox-api-runtime/{tls}\"]")
        );
    }
    assert!(
        toml.contains("\n[package.metadata.docs.rs]\nfeatures = [\"legacy-v1\", \"preview\"]\n")
    );
    assert!(
        !toml.contains("publish"),
        "a workspace crate is publishable:\n{toml}"
    );
    assert_eq!(line(toml, "readme"), "readme = \"README.md\"");

    let lib = file(&c, "src/lib.rs");
    assert!(
        lib.contains("#[cfg(feature = \"legacy-v1\")]\n#[rustfmt::skip]\npub mod v1;"),
        "{lib}"
    );
    let readme = file(&c, "README.md");
    assert!(readme.contains("- `legacy-v1` (off by default): `dropbox_api::v1`, the legacy API."));
    assert!(readme.contains("`rustls-ring` (the default)"), "{readme}");
    assert!(readme.contains("files::upload(&client, &arg,"), "{readme}");
}

#[test]
fn a_module_without_a_feature_is_always_compiled() {
    let c = emit(DependencyStyle::Workspace, None);
    let toml = file(&c, "Cargo.toml");
    assert_eq!(
        line(toml, "progenitor-client"),
        "progenitor-client.workspace = true"
    );
    assert!(!toml.contains("legacy-v1"), "{toml}");
    let lib = file(&c, "src/lib.rs");
    assert!(lib.contains("pub mod v1;"), "{lib}");
    assert!(!lib.contains("#[cfg(feature = \"legacy-v1\")]"), "{lib}");
}

#[test]
fn a_standalone_crate_forwards_tls_to_the_runtime_by_path() {
    let c = emit(
        DependencyStyle::Standalone {
            runtime_path: PathBuf::from("/src/runtime"),
        },
        Some("legacy-v1"),
    );
    let toml = file(&c, "Cargo.toml");
    assert_eq!(
        line(toml, "dropbox-api-runtime"),
        "dropbox-api-runtime = { path = \"/src/runtime\", default-features = false }"
    );
    assert_eq!(
        line(toml, "progenitor-client"),
        "progenitor-client = { version = \"1\", default-features = false, optional = true }"
    );
    assert_eq!(line(toml, "publish"), "publish = false");
    assert!(toml.ends_with("\n[workspace]\n"), "{toml}");
    assert!(!toml.contains("docs.rs"), "{toml}");
}
