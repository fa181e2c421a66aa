//! The crate around the namespace modules: `lib.rs`, `Cargo.toml`, and a test that every
//! example of the spec round-trips through the generated types.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;

use super::names::{Names, ident, module_name};
use super::{EmitError, HEADER, format_file};
use crate::ir::{Api, TypeKey, UserType};

/// How the generated crate refers to its dependencies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DependencyStyle {
    /// A member of this workspace: `dep.workspace = true`.
    Workspace,
    /// A standalone crate: the runtime by path, the rest by version.
    Standalone {
        /// The directory of the `dropbox-api-runtime` crate.
        runtime_path: PathBuf,
    },
}

/// A dependency an extra module needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// The crate name.
    pub name: String,
    /// The version requirement (standalone crates).
    pub version: String,
    /// Features to enable.
    pub features: Vec<String>,
    /// Whether default features stay on.
    pub default_features: bool,
}

/// A module emitted by another front end (the OpenAPI one), added beside the namespaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraModule {
    /// The module name, e.g. `v1`.
    pub name: String,
    /// One line describing it, for `lib.rs`.
    pub summary: String,
    /// What it was generated from, for its header, e.g. ``the OpenAPI description `openapi/v1.json` ``.
    pub origin: String,
    /// The formatted source, without the header.
    pub source: String,
    /// The crates it needs.
    pub dependencies: Vec<Dependency>,
}

/// How struct serialization is emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SerdeStyle {
    /// Emitted impls: a struct's `Serialize` is one chain of `rt::wire::Encoder` calls and
    /// its `Deserialize` one `rt::wire::decode_struct` call over a tuple of field slots, so
    /// the loops and key lookups live in the runtime; struct families become one generic
    /// struct (the default; the figures are in `BENCHMARKS.md`).
    #[default]
    Table,
    /// `#[derive(Serialize, Deserialize)]` with serde attributes and no struct families,
    /// kept to reproduce the comparison that chose `Table`.
    Derive,
}

/// What the emitted crate is called and how it is wired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrateOptions {
    /// The package name, e.g. `dropbox-api`.
    pub package: String,
    /// The version.
    pub version: String,
    /// How dependencies are declared.
    pub dependencies: DependencyStyle,
    /// Modules from other front ends.
    pub extra_modules: Vec<ExtraModule>,
    /// How struct serialization is emitted.
    pub serde: SerdeStyle,
}

impl CrateOptions {
    /// The library name (`dropbox-api` -> `dropbox_api`).
    pub fn lib_name(&self) -> String {
        self.package.replace('-', "_")
    }
}

/// Namespaces compiled whatever the features: those holding the protocol error types,
/// with everything they import.
fn base_namespaces(api: &Api) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut todo: Vec<String> = protocol_types(api)
        .into_values()
        .flatten()
        .map(|k| k.namespace)
        .collect();
    while let Some(ns) = todo.pop() {
        if out.insert(ns.clone())
            && let Some(n) = api.namespaces.get(&ns)
        {
            todo.extend(n.imports.iter().cloned());
        }
    }
    out
}

/// The spec types behind the runtime's protocol errors, when the spec has them.
fn protocol_types(api: &Api) -> BTreeMap<&'static str, Option<TypeKey>> {
    let find = |ns: &str, name: &str| {
        let key = TypeKey::new(ns, name);
        api.get(&key).map(|_| key)
    };
    BTreeMap::from([
        ("Auth", find("auth", "AuthError")),
        ("Access", find("auth", "AccessError")),
        ("PathRoot", find("common", "PathRootError")),
    ])
}

/// The transitive imports of a namespace, itself included.
fn closure(api: &Api, ns: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut todo = vec![ns.to_string()];
    while let Some(n) = todo.pop() {
        if out.insert(n.clone())
            && let Some(x) = api.namespaces.get(&n)
        {
            todo.extend(x.imports.iter().cloned());
        }
    }
    out
}

/// `src/lib.rs`.
pub fn lib_rs(api: &Api, names: &Names, options: &CrateOptions) -> Result<String, EmitError> {
    let base = base_namespaces(api);
    let mut mods = TokenStream::new();
    let mut route_tables = TokenStream::new();
    for ns in api.namespaces.keys() {
        let m = ident(&module_name(ns));
        let doc = format!(" The `{ns}` namespace.");
        let feature = ns.as_str();
        let cfg = if base.contains(ns) {
            TokenStream::new()
        } else {
            quote!(#[cfg(feature = #feature)])
        };
        if !api.namespaces[ns].routes.is_empty() {
            route_tables.extend(quote!(#cfg #m::routes::ALL,));
        }
        mods.extend(quote! {
            #[doc = #doc]
            #cfg
            #[rustfmt::skip]
            pub mod #m;
        });
    }
    for extra in &options.extra_modules {
        let m = ident(&extra.name);
        let doc = format!(" {}", extra.summary);
        mods.extend(quote! {
            #[doc = #doc]
            #[rustfmt::skip]
            pub mod #m;
        });
    }
    let protocol = protocol_types(api);
    let assoc = |slot: &str| -> TokenStream {
        match protocol.get(slot).cloned().flatten() {
            Some(k) => names.path(&k, ""),
            None => quote!(::serde_json::Value),
        }
    };
    let (auth, access, path_root) = (assoc("Auth"), assoc("Access"), assoc("PathRoot"));
    let package = &options.package;
    let crate_doc = format!(
        " Typed async client for the Dropbox API, generated from Stone specs by `dbx-codegen`.\n\n One module per namespace (each also a cargo feature of `{package}`), one `async fn` per\n route, and types that read and write Dropbox's JSON exactly. The clients, errors and\n transport come from `dropbox-api-runtime` and are re-exported here."
    );
    let crate_doc_attrs: TokenStream = crate_doc.lines().map(|l| quote!(#![doc = #l])).collect();
    let tokens = quote! {
        #crate_doc_attrs
        #![cfg_attr(rustfmt, rustfmt::skip)]
        #![forbid(unsafe_code)]

        pub use ::dropbox_api_runtime::*;

        #mods

        /// The protocol error types of this API (auth, access and path-root errors), which
        /// the runtime decodes for 401, 403 and 422 responses.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Protocol {}

        impl ::dropbox_api_runtime::ErrorTypes for Protocol {
            type Auth = #auth;
            type Access = #access;
            type PathRoot = #path_root;
        }

        /// The error of a route whose own error type is `E`.
        pub type Error<E> = ::dropbox_api_runtime::Error<E, Protocol>;

        /// The routes of every namespace compiled in (`routes::ALL` of each), in namespace
        /// order: for tools that serve, list or check the whole API.
        pub const ROUTES: &[&[::dropbox_api_runtime::route::RouteSpec]] = &[#route_tables];
    };
    format_file("lib.rs", tokens)
}

/// `Cargo.toml`.
pub fn cargo_toml(api: &Api, options: &CrateOptions) -> String {
    let base = base_namespaces(api);
    let mut s = String::new();
    let _ = writeln!(s, "{}", HEADER.replace("//", "#").trim_end());
    let _ = writeln!(s, "[package]");
    let _ = writeln!(s, "name = {:?}", options.package);
    let _ = writeln!(
        s,
        "description = \"Typed async client for the Dropbox API, generated from Stone specs\""
    );
    match &options.dependencies {
        DependencyStyle::Workspace => {
            for key in [
                "version",
                "edition",
                "rust-version",
                "license",
                "repository",
                "publish",
            ] {
                let _ = writeln!(s, "{key}.workspace = true");
            }
        }
        DependencyStyle::Standalone { .. } => {
            let _ = writeln!(s, "version = {:?}", options.version);
            let _ = writeln!(s, "edition = \"2024\"");
            let _ = writeln!(s, "publish = false");
        }
    }
    let _ = writeln!(s, "\n[lib]\nname = {:?}", options.lib_name());
    let _ = writeln!(s, "\n[dependencies]");
    let mut deps = vec![
        Dependency {
            name: "dropbox-api-runtime".into(),
            version: String::new(),
            features: vec![],
            default_features: true,
        },
        Dependency {
            name: "serde".into(),
            version: "1".into(),
            features: vec![],
            default_features: true,
        },
        Dependency {
            name: "serde_json".into(),
            version: "1".into(),
            features: vec![],
            default_features: true,
        },
    ];
    for extra in &options.extra_modules {
        for d in &extra.dependencies {
            if !deps.iter().any(|x| x.name == d.name) {
                deps.push(d.clone());
            }
        }
    }
    deps.sort_by(|a, b| a.name.cmp(&b.name));
    for d in &deps {
        let line = match (&options.dependencies, d.name.as_str()) {
            (DependencyStyle::Standalone { runtime_path }, "dropbox-api-runtime") => {
                format!(
                    "{} = {{ path = {:?} }}",
                    d.name,
                    runtime_path.display().to_string()
                )
            }
            (DependencyStyle::Workspace, _) => {
                if d.features.is_empty() {
                    format!("{}.workspace = true", d.name)
                } else {
                    format!(
                        "{} = {{ workspace = true, features = [{}] }}",
                        d.name,
                        quoted(&d.features)
                    )
                }
            }
            (DependencyStyle::Standalone { .. }, _) => {
                let mut parts = vec![format!("version = {:?}", d.version)];
                if !d.default_features {
                    parts.push("default-features = false".into());
                }
                if !d.features.is_empty() {
                    parts.push(format!("features = [{}]", quoted(&d.features)));
                }
                format!("{} = {{ {} }}", d.name, parts.join(", "))
            }
        };
        let _ = writeln!(s, "{line}");
    }
    let _ = writeln!(s, "\n[features]");
    let all: Vec<String> = api
        .namespaces
        .keys()
        .filter(|n| !base.contains(*n))
        .cloned()
        .collect();
    let _ = writeln!(s, "default = [{}]", quoted(&all));
    let _ = writeln!(
        s,
        "# Routes the spec marks `is_preview`: unstable, may change without notice."
    );
    let _ = writeln!(s, "preview = []");
    for (ns, n) in &api.namespaces {
        let deps: Vec<String> = n
            .imports
            .iter()
            .filter(|i| !base.contains(*i))
            .cloned()
            .collect();
        let _ = writeln!(s, "{ns} = [{}]", quoted(&deps));
    }
    if matches!(options.dependencies, DependencyStyle::Workspace) {
        let _ = writeln!(s, "\n[lints]\nworkspace = true");
    } else {
        let _ = writeln!(s, "\n[workspace]");
    }
    s
}

fn quoted(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("{i:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `tests/examples.rs`: every example decodes, re-encodes with every key, and decodes to an
/// equal value.
pub fn examples_test(
    api: &Api,
    names: &Names,
    options: &CrateOptions,
) -> Result<String, EmitError> {
    let krate = ident(&options.lib_name());
    let base = base_namespaces(api);
    let mut blocks = TokenStream::new();
    let mut count = 0usize;
    for (ns, n) in &api.namespaces {
        let mut checks = TokenStream::new();
        for t in &n.types {
            let (UserType::Struct(_) | UserType::Union(_)) = t else {
                continue;
            };
            let key = t.key();
            let m = ident(&module_name(&key.namespace));
            let ty = ident(&names.ty(key));
            for e in t.examples() {
                let json = crate::example_json::render(api, key, &e.label).map_err(|err| {
                    EmitError::Unsupported(format!("example {key}:{}: {err}", e.label))
                })?;
                let text = json.to_string();
                let label = format!("{}.{}:{}", key.namespace, key.name, e.label);
                checks.extend(quote! {
                    check::<#krate::#m::#ty>(&mut failures, #label, #text);
                });
                count += 1;
            }
        }
        let closure = closure(api, ns);
        let features: Vec<&String> = closure.iter().filter(|x| !base.contains(*x)).collect();
        if checks.is_empty() {
            continue;
        }
        let cfg = match features.as_slice() {
            [] => TokenStream::new(),
            [one] => quote!(#[cfg(feature = #one)]),
            many => quote!(#[cfg(all(#(feature = #many),*))]),
        };
        blocks.extend(quote! {
            #cfg
            {
                #checks
            }
        });
    }
    let doc = format!(" The {count} examples of the spec round-trip through the generated types.");
    let tokens = quote! {
        #![doc = #doc]
        #![cfg_attr(rustfmt, rustfmt::skip)]

        fn check<T>(failures: &mut Vec<String>, label: &str, json: &str)
        where
            T: ::serde::Serialize + ::serde::de::DeserializeOwned + PartialEq + ::std::fmt::Debug,
        {
            if let Err(e) = ::dropbox_api_runtime::wire::round_trip::<T>(json) {
                failures.push(format!("{label}: {e}"));
            }
        }

        #[test]
        fn every_example_round_trips() {
            let mut failures: Vec<String> = Vec::new();
            #blocks
            assert!(failures.is_empty(), "{} examples failed:\n{}", failures.len(), failures.join("\n"));
        }
    };
    format_file("tests/examples.rs", tokens)
}
