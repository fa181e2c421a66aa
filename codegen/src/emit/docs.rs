//! Doc comments from spec docstrings, with doc references turned into rustdoc links.

use proc_macro2::TokenStream;
use quote::quote;

use super::names::{Names, field_name, module_name, route_fn_name, variant_name};
use crate::ir::{Api, DataType, FloatKind, TypeKey, UserType};
use crate::resolve::docs::{RefTarget, doc_refs, resolve_ref};

/// Where a docstring sits: its namespace and (for types, fields and members) its type.
#[derive(Clone, Copy)]
pub struct DocContext<'a> {
    /// The namespace.
    pub ns: &'a str,
    /// The enclosing type, if any.
    pub ty: Option<&'a TypeKey>,
    /// Whether the namespace's items are in scope where the text lands: true for items of
    /// the module, false for the module's own (inner) docs, which rustdoc does not resolve
    /// against the module's items, so their links are written with full paths.
    pub in_scope: bool,
}

/// Renders spec text as rustdoc markdown.
pub fn render(api: &Api, names: &Names, text: &str, ctx: DocContext<'_>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for r in doc_refs(text) {
        out.push_str(&escape(&text[last..r.range.start]));
        last = r.range.end;
        let rendered = match resolve_ref(api, &r, ctx.ns, ctx.ty) {
            Ok(target) => link(api, names, &target, if ctx.in_scope { ctx.ns } else { "" }),
            Err(_) => format!("`{}`", r.value),
        };
        out.push_str(&rendered);
    }
    out.push_str(&escape(&text[last..]));
    out
}

/// Escapes characters that rustdoc would read as HTML or broken links, and makes bare URLs
/// (outside code spans) autolinks, `<https://...>`, as rustdoc asks.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_code = false;
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if !in_code && (rest.starts_with("https://") || rest.starts_with("http://")) {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let url = rest[..end].trim_end_matches(['.', ',', ';', ':', ')', '"', '\'']);
            out.push('<');
            out.push_str(url);
            out.push('>');
            rest = &rest[url.len()..];
            continue;
        }
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
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// A rustdoc link to `path` (the item's path below its module) in namespace `ns`, labelled
/// `label`, as seen from namespace `here`: a plain intra-doc link when the label names the
/// item in scope (rustdoc calls an explicit target there redundant), an explicit one
/// otherwise, and unlinked code when the module is a raw identifier (`r#async`), which
/// rustdoc's link paths cannot name.
fn link_to(here: &str, ns: &str, path: &str, label: &str) -> String {
    if ns == here {
        if label == path {
            format!("[`{label}`]")
        } else {
            format!("[`{label}`]({path})")
        }
    } else {
        let module = super::names::ident(&module_name(ns)).to_string();
        if module.starts_with("r#") {
            format!("`{label}`")
        } else {
            format!("[`{label}`](crate::{module}::{path})")
        }
    }
}

fn link(api: &Api, names: &Names, target: &RefTarget, here: &str) -> String {
    match target {
        RefTarget::Type(key) => {
            let ty = names.ty(key);
            link_to(here, &key.namespace, &ty, &ty)
        }
        RefTarget::Field(key, field) => match api.get(key) {
            Some(UserType::Struct(s)) if s.subtypes.is_none() => link_to(
                here,
                &key.namespace,
                &format!(
                    "{}::{}",
                    names.ty(key),
                    super::names::ident(&field_name(field))
                ),
                field,
            ),
            Some(UserType::Union(_)) => link_to(
                here,
                &key.namespace,
                &format!("{}::{}", names.ty(key), variant_name(field)),
                field,
            ),
            _ => format!("`{field}`"),
        },
        RefTarget::Route(ns, name, version) => {
            let route = api.namespaces.get(ns).and_then(|n| {
                n.routes
                    .iter()
                    .find(|r| &r.name == name && r.version == *version)
            });
            let label = if *version > 1 {
                format!("{name}:{version}")
            } else {
                name.clone()
            };
            match route {
                // Behind the `preview` feature: a link would dangle without it.
                Some(r) if r.is_preview => format!("`{label}`"),
                Some(r) => {
                    let function = super::names::ident(&route_fn_name(r)).to_string();
                    link_to(here, ns, &function, &label)
                }
                None => format!("`{label}`"),
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

/// Doc attributes for an item the spec may leave undocumented: its docstring when it has one,
/// otherwise the generated `fallback` (its wire name and type), so every emitted item is
/// documented.
pub fn doc_attrs_or(
    api: &Api,
    names: &Names,
    doc: Option<&str>,
    ctx: DocContext<'_>,
    fallback: impl FnOnce() -> String,
) -> TokenStream {
    match doc {
        Some(d) if !d.trim().is_empty() => attrs(&render(api, names, d, ctx)),
        _ => attrs(&fallback()),
    }
}

/// A data type as the spec writes it (`List(String)`, `files.Metadata?`), for generated docs.
pub fn stone_type(dt: &DataType) -> String {
    match dt {
        DataType::Void => "Void".into(),
        DataType::Boolean => "Boolean".into(),
        DataType::Bytes => "Bytes".into(),
        DataType::Int { kind, .. } => kind.stone_name().into(),
        DataType::Float { kind, .. } => match kind {
            FloatKind::Float32 => "Float32".into(),
            FloatKind::Float64 => "Float64".into(),
        },
        DataType::String(_) => "String".into(),
        DataType::Timestamp { .. } => "Timestamp".into(),
        DataType::List { item, .. } => format!("List({})", stone_type(item)),
        DataType::Map { key, value } => format!("Map({}, {})", stone_type(key), stone_type(value)),
        DataType::Named(key) => key.to_string(),
        DataType::Nullable(inner) => format!("{}?", stone_type(inner)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{IntKind, StringConstraints};

    #[test]
    fn stone_types_read_as_the_spec_writes_them() {
        let list = DataType::List {
            item: Box::new(DataType::String(StringConstraints::default())),
            min_items: None,
            max_items: Some(3),
        };
        assert_eq!(stone_type(&list), "List(String)");
        let nullable =
            DataType::Nullable(Box::new(DataType::Named(TypeKey::new("files", "Metadata"))));
        assert_eq!(stone_type(&nullable), "files.Metadata?");
        let map = DataType::Map {
            key: Box::new(DataType::String(StringConstraints::default())),
            value: Box::new(DataType::Int {
                kind: IntKind::UInt64,
                min: None,
                max: None,
            }),
        };
        assert_eq!(stone_type(&map), "Map(String, UInt64)");
    }
}

#[cfg(test)]
mod link_tests {
    use super::{escape, link_to};

    #[test]
    fn bare_urls_become_autolinks_outside_code() {
        assert_eq!(
            escape("see https://www.dropbox.com/help/40). Then"),
            "see <https://www.dropbox.com/help/40>). Then"
        );
        assert_eq!(
            escape("`curl http://x/y` and [a]"),
            "`curl http://x/y` and \\[a\\]"
        );
        assert_eq!(escape("at http://a.b/c."), "at <http://a.b/c>.");
    }

    #[test]
    fn links_are_plain_in_scope_explicit_elsewhere_and_code_for_raw_modules() {
        assert_eq!(
            link_to("files", "files", "Metadata", "Metadata"),
            "[`Metadata`]"
        );
        assert_eq!(
            link_to(
                "files",
                "files",
                "upload_session_start",
                "upload_session/start"
            ),
            "[`upload_session/start`](upload_session_start)"
        );
        assert_eq!(
            link_to("sharing", "files", "Metadata", "Metadata"),
            "[`Metadata`](crate::files::Metadata)"
        );
        assert_eq!(
            link_to("files", "async", "LaunchResultBase", "LaunchResultBase"),
            "`LaunchResultBase`"
        );
        assert_eq!(
            link_to("async", "async", "LaunchResultBase", "LaunchResultBase"),
            "[`LaunchResultBase`]"
        );
    }
}
