//! Rust names for everything the spec names: modules, types, fields, variants, route
//! functions. Keywords become raw identifiers; names that collide after conversion are
//! reported as errors instead of producing code that does not compile.

use std::collections::BTreeMap;

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use super::EmitError;
use crate::ir::{Api, Route, TypeKey, UserType};

/// Words that are keywords in Rust 2024 (strict and reserved).
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Keywords that cannot be raw identifiers; they get a trailing underscore.
const NOT_RAW: &[&str] = &["crate", "self", "Self", "super", "_"];

/// Builds an identifier, escaping keywords.
pub fn ident(name: &str) -> Ident {
    if NOT_RAW.contains(&name) {
        Ident::new(&format!("{name}_"), Span::call_site())
    } else if KEYWORDS.contains(&name) {
        Ident::new_raw(name, Span::call_site())
    } else {
        Ident::new(name, Span::call_site())
    }
}

/// Makes a string usable as an identifier: characters other than letters, digits and `_`
/// become `_`, and a leading digit gets a prefix.
fn sanitize(name: &str, prefix: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert_str(0, prefix);
    }
    s
}

/// The type name for a Stone type name.
pub fn type_name(name: &str) -> String {
    sanitize(&name.to_upper_camel_case(), "T")
}

/// The field name for a Stone field name.
pub fn field_name(name: &str) -> String {
    sanitize(&name.to_snake_case(), "f_")
}

/// The variant name for a Stone tag.
pub fn variant_name(tag: &str) -> String {
    sanitize(&tag.to_upper_camel_case(), "V")
}

/// The module name of a namespace.
pub fn module_name(ns: &str) -> String {
    sanitize(&ns.to_snake_case(), "ns_")
}

/// The function name of a route: `/` becomes `_`, versions above 1 get `_vN`.
pub fn route_fn_name(route: &Route) -> String {
    let base = sanitize(&route.name.replace('/', "_").to_snake_case(), "r_");
    if route.version > 1 {
        format!("{base}_v{}", route.version)
    } else {
        base
    }
}

/// The Rust names of every type, checked for collisions.
#[derive(Debug, Default)]
pub struct Names {
    types: BTreeMap<TypeKey, String>,
}

impl Names {
    /// Computes names for every type, route, field and tag of the API, failing on any
    /// collision the conversion to Rust conventions would create.
    pub fn new(api: &Api) -> Result<Names, EmitError> {
        let mut names = Names::default();
        let mut modules: BTreeMap<String, &str> = BTreeMap::new();
        for ns in api.namespaces.values() {
            let m = module_name(&ns.name);
            if let Some(other) = modules.insert(m.clone(), &ns.name) {
                return Err(EmitError::Collision(format!(
                    "namespaces `{other}` and `{}` both become module `{m}`",
                    ns.name
                )));
            }
            let mut seen: BTreeMap<String, &str> = BTreeMap::new();
            for t in &ns.types {
                let key = t.key();
                let rust = type_name(&key.name);
                if let Some(other) = seen.insert(rust.clone(), &key.name) {
                    return Err(EmitError::Collision(format!(
                        "types `{other}` and `{}` of namespace `{}` both become `{rust}`",
                        key.name, ns.name
                    )));
                }
                check_members(api, t)?;
                check_alias_recursion(api, t)?;
                names.types.insert(key.clone(), rust);
            }
            let mut fns: BTreeMap<String, String> = BTreeMap::new();
            for r in &ns.routes {
                let f = route_fn_name(r);
                let label = format!("{}:{}", r.name, r.version);
                if let Some(other) = fns.insert(f.clone(), label.clone()) {
                    return Err(EmitError::Collision(format!(
                        "routes `{other}` and `{label}` of namespace `{}` both become function `{f}`",
                        ns.name
                    )));
                }
                if seen.contains_key(&f) {
                    // Types are CamelCase and functions snake_case, so this cannot clash.
                }
            }
        }
        Ok(names)
    }

    /// The Rust name of a type.
    pub fn ty(&self, key: &TypeKey) -> String {
        self.types
            .get(key)
            .cloned()
            .unwrap_or_else(|| type_name(&key.name))
    }

    /// A path to a type as seen from module `from` (the namespace being emitted).
    pub fn path(&self, key: &TypeKey, from: &str) -> TokenStream {
        let name = ident(&self.ty(key));
        if key.namespace == from {
            quote!(#name)
        } else {
            let m = ident(&module_name(&key.namespace));
            quote!(crate::#m::#name)
        }
    }
}

/// A Rust type alias cannot refer to itself, even through `Vec` or `Option`.
fn check_alias_recursion(api: &Api, t: &UserType) -> Result<(), EmitError> {
    let UserType::Alias(a) = t else {
        return Ok(());
    };
    let mut todo = vec![&a.ty];
    let mut seen = std::collections::BTreeSet::new();
    while let Some(ty) = todo.pop() {
        match ty {
            crate::ir::DataType::List { item, .. } => todo.push(item),
            crate::ir::DataType::Map { value, .. } => todo.push(value),
            crate::ir::DataType::Nullable(inner) => todo.push(inner),
            crate::ir::DataType::Named(k) => {
                if k == &a.key {
                    return Err(EmitError::Unsupported(format!(
                        "alias `{}` refers to itself through other aliases; Rust type aliases cannot be recursive",
                        a.key
                    )));
                }
                if seen.insert(k.clone())
                    && let Some(UserType::Alias(next)) = api.get(k)
                {
                    todo.push(&next.ty);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Fields and tags must stay distinct after conversion to Rust names.
fn check_members(api: &Api, t: &UserType) -> Result<(), EmitError> {
    let (what, names): (&str, Vec<(String, &str)>) = match t {
        UserType::Struct(s) => (
            "fields",
            api.all_fields(s)
                .iter()
                .map(|f| (field_name(&f.name), f.name.as_str()))
                .collect(),
        ),
        UserType::Union(u) => (
            "members",
            api.all_members(u)
                .iter()
                .map(|m| (variant_name(&m.name), m.name.as_str()))
                .collect(),
        ),
        UserType::Alias(_) => return Ok(()),
    };
    let mut seen: BTreeMap<&String, &str> = BTreeMap::new();
    for (rust, stone) in &names {
        if let Some(other) = seen.insert(rust, stone) {
            return Err(EmitError::Collision(format!(
                "{what} `{other}` and `{stone}` of `{}` both become `{rust}`",
                t.key()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_and_cases() {
        assert_eq!(ident("type").to_string(), "r#type");
        assert_eq!(ident("self").to_string(), "self_");
        assert_eq!(type_name("metadata_union"), "MetadataUnion");
        assert_eq!(variant_name("w3200h2400"), "W3200h2400");
        assert_eq!(variant_name("incorrect_offset"), "IncorrectOffset");
        assert_eq!(module_name("async"), "async");
        assert_eq!(ident(&module_name("async")).to_string(), "r#async");
    }
}
