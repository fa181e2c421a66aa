//! Doc comments from spec docstrings, with doc references turned into rustdoc links.

use proc_macro2::TokenStream;
use quote::quote;

use super::names::{Names, field_name, module_name, route_fn_name, variant_name};
use crate::ir::{Api, TypeKey, UserType};
use crate::resolve::docs::{RefTarget, doc_refs, resolve_ref};

/// Where a docstring sits: its namespace and (for types, fields and members) its type.
#[derive(Clone, Copy)]
pub struct DocContext<'a> {
    /// The namespace.
    pub ns: &'a str,
    /// The enclosing type, if any.
    pub ty: Option<&'a TypeKey>,
}

/// Renders spec text as rustdoc markdown.
pub fn render(api: &Api, names: &Names, text: &str, ctx: DocContext<'_>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for r in doc_refs(text) {
        out.push_str(&escape(&text[last..r.range.start]));
        last = r.range.end;
        let rendered = match resolve_ref(api, &r, ctx.ns, ctx.ty) {
            Ok(target) => link(api, names, &target),
            Err(_) => format!("`{}`", r.value),
        };
        out.push_str(&rendered);
    }
    out.push_str(&escape(&text[last..]));
    out
}

/// Escapes characters that rustdoc would read as HTML or broken links.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_code = false;
    for c in s.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '<' | '>' | '[' | ']' if !in_code => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn type_path(names: &Names, key: &TypeKey) -> String {
    format!(
        "crate::{}::{}",
        super::names::ident(&module_name(&key.namespace)),
        names.ty(key)
    )
}

fn link(api: &Api, names: &Names, target: &RefTarget) -> String {
    match target {
        RefTarget::Type(key) => format!("[`{}`]({})", names.ty(key), type_path(names, key)),
        RefTarget::Field(key, field) => match api.get(key) {
            Some(UserType::Struct(s)) if s.subtypes.is_none() => format!(
                "[`{field}`]({}::{})",
                type_path(names, key),
                super::names::ident(&field_name(field))
            ),
            Some(UserType::Union(_)) => format!(
                "[`{field}`]({}::{})",
                type_path(names, key),
                variant_name(field)
            ),
            _ => format!("`{field}`"),
        },
        RefTarget::Route(ns, name, version) => {
            let route = api.namespaces.get(ns).and_then(|n| {
                n.routes
                    .iter()
                    .find(|r| &r.name == name && r.version == *version)
            });
            match route {
                Some(r) => {
                    let label = if *version > 1 {
                        format!("{name}:{version}")
                    } else {
                        name.clone()
                    };
                    format!(
                        "[`{label}`](crate::{}::{})",
                        super::names::ident(&module_name(ns)),
                        super::names::ident(&route_fn_name(r))
                    )
                }
                None => format!("`{name}`"),
            }
        }
        RefTarget::Link(title, url) => format!("[{title}]({url})"),
        RefTarget::Val(v) => match v.as_str() {
            "null" => "`None`".into(),
            other => format!("`{other}`"),
        },
    }
}

/// `#[doc = "..."]` attributes, one per line of the rendered text.
pub fn attrs(text: &str) -> TokenStream {
    let mut out = TokenStream::new();
    for line in text.lines() {
        let line = if line.is_empty() {
            String::new()
        } else {
            format!(" {line}")
        };
        out.extend(quote!(#[doc = #line]));
    }
    out
}

/// Doc attributes for an optional spec docstring.
pub fn doc_attrs(api: &Api, names: &Names, doc: Option<&str>, ctx: DocContext<'_>) -> TokenStream {
    match doc {
        Some(d) if !d.trim().is_empty() => attrs(&render(api, names, d, ctx)),
        _ => TokenStream::new(),
    }
}
