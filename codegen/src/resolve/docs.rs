//! Docstrings: the reference's normalisation, and the checking of doc references
//! (`:route:`, `:type:`, `:field:`, `:link:`, `:val:`).

use std::collections::BTreeMap;

use crate::diagnostics::Diagnostics;
use crate::ir::{Api, TypeKey, UserType};
use crate::source::Span;

/// Normalises a docstring as the reference does: trims it, turns a single line break into a
/// space and a run of N >= 2 line breaks into N - 1.
pub fn unwrap_doc(text: &str) -> String {
    let text = text.trim();
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\n' {
            let mut run = 1;
            while chars.peek() == Some(&'\n') {
                chars.next();
                run += 1;
            }
            if run == 1 {
                out.push(' ');
            } else {
                out.extend(std::iter::repeat_n('\n', run - 1));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// One `:tag:`value`` found in a docstring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocRef<'a> {
    /// The tag between the colons (`route`, `type`, ...).
    pub tag: &'a str,
    /// The text between the backticks.
    pub value: &'a str,
    /// Byte range of the whole reference in the docstring.
    pub range: std::ops::Range<usize>,
}

/// Finds every doc reference in a docstring, in order.
pub fn doc_refs(doc: &str) -> Vec<DocRef<'_>> {
    let bytes = doc.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b':' {
            i += 1;
            continue;
        }
        let tag_start = i + 1;
        let mut j = tag_start;
        while j < bytes.len() && (bytes[j].is_ascii_alphabetic() || bytes[j] == b'_') {
            j += 1;
        }
        if j == tag_start || j + 1 >= bytes.len() || bytes[j] != b':' || bytes[j + 1] != b'`' {
            i += 1;
            continue;
        }
        let value_start = j + 2;
        let Some(len) = doc[value_start..].find('`') else {
            i += 1;
            continue;
        };
        out.push(DocRef {
            tag: &doc[tag_start..j],
            value: &doc[value_start..value_start + len],
            range: i..value_start + len + 1,
        });
        i = value_start + len + 1;
    }
    out
}

/// Where a docstring sits, for resolving bare `:field:` references.
struct Context<'a> {
    namespace: &'a str,
    ty: Option<&'a TypeKey>,
    span: Span,
}

/// Checks every doc reference of every docstring in the API.
///
/// `sites` maps the span of each documented item to its docstring; a bad reference is
/// reported where the docstring starts (as the reference does), or at the item.
pub(crate) fn check_doc_refs(
    api: &Api,
    sites: &BTreeMap<Span, &crate::stone::ast::Doc>,
    diags: &mut Diagnostics,
) {
    for ns in api.namespaces.values() {
        let here = |ty, span: Span| Context {
            namespace: &ns.name,
            ty,
            span: sites.get(&span).map_or(span, |d| d.span),
        };
        for t in &ns.types {
            let key = t.key();
            match t {
                UserType::Struct(s) => {
                    check_doc(api, s.doc.as_deref(), &here(Some(key), s.span), diags);
                    for f in &s.fields {
                        check_doc(api, f.doc.as_deref(), &here(Some(key), f.span), diags);
                    }
                }
                UserType::Union(u) => {
                    check_doc(api, u.doc.as_deref(), &here(Some(key), u.span), diags);
                    for m in &u.members {
                        check_doc(api, m.doc.as_deref(), &here(Some(key), m.span), diags);
                    }
                }
                UserType::Alias(a) => check_doc(api, a.doc.as_deref(), &here(None, a.span), diags),
            }
        }
        for r in &ns.routes {
            check_doc(api, r.doc.as_deref(), &here(None, r.span), diags);
        }
    }
}

fn check_doc(api: &Api, doc: Option<&str>, ctx: &Context<'_>, diags: &mut Diagnostics) {
    let Some(doc) = doc else { return };
    for r in doc_refs(doc) {
        if let Err(msg) = check_ref(api, &r, ctx) {
            diags.error(
                ctx.span,
                format!("bad doc reference :{}:`{}`: {msg}", r.tag, r.value),
            );
        }
    }
}

/// Splits `ns.name` when `ns` is a namespace of the API.
fn split_namespace<'v>(api: &Api, value: &'v str, current: &'v str) -> (&'v str, &'v str) {
    match value.split_once('.') {
        Some((ns, rest)) if api.namespaces.contains_key(ns) => (ns, rest),
        _ => (current, value),
    }
}

/// Resolves a doc reference to what it names. Used by the checker and by emitters.
pub enum RefTarget {
    /// A route `(namespace, name, version)`.
    Route(String, String, u32),
    /// A struct or union.
    Type(TypeKey),
    /// A field or member of a type.
    Field(TypeKey, String),
    /// A link `(title, url)`.
    Link(String, String),
    /// A literal value.
    Val(String),
}

/// Resolves one reference found in a doc of namespace `namespace` (and of type `ty`).
pub fn resolve_ref(
    api: &Api,
    r: &DocRef<'_>,
    namespace: &str,
    ty: Option<&TypeKey>,
) -> Result<RefTarget, String> {
    check_ref(
        api,
        r,
        &Context {
            namespace,
            ty,
            span: Span::BUILTIN,
        },
    )
}

fn check_ref(api: &Api, r: &DocRef<'_>, ctx: &Context<'_>) -> Result<RefTarget, String> {
    match r.tag {
        "route" => {
            let (ns, rest) = split_namespace(api, r.value, ctx.namespace);
            let (name, version) = match rest.rsplit_once(':') {
                Some((n, v)) => (
                    n,
                    v.parse::<u32>()
                        .map_err(|_| format!("`{v}` is not a route version"))?,
                ),
                None => (rest, 1),
            };
            let exists = api.namespaces.get(ns).is_some_and(|n| {
                n.routes
                    .iter()
                    .any(|x| x.name == name && x.version == version)
            });
            if exists {
                Ok(RefTarget::Route(ns.into(), name.into(), version))
            } else {
                Err(format!(
                    "no route `{name}` version {version} in namespace `{ns}`"
                ))
            }
        }
        "type" => {
            let (ns, name) = split_namespace(api, r.value, ctx.namespace);
            let key = TypeKey::new(ns, name);
            match api.get(&key) {
                Some(UserType::Struct(_) | UserType::Union(_)) => Ok(RefTarget::Type(key)),
                Some(UserType::Alias(_)) => {
                    Err("an alias is not a type that can be referenced".into())
                }
                None => Err(format!("no struct or union `{name}` in namespace `{ns}`")),
            }
        }
        "field" => {
            let (key, field) = match r.value.rsplit_once('.') {
                Some((ty_part, field)) => {
                    let (ns, name) = split_namespace(api, ty_part, ctx.namespace);
                    (TypeKey::new(ns, name), field)
                }
                None => match ctx.ty {
                    Some(k) => (k.clone(), r.value),
                    None => {
                        return Err("a bare field reference is only allowed in the doc of a type or its fields; write `Type.field`".into());
                    }
                },
            };
            let found = match api.get(&key) {
                Some(UserType::Struct(s)) => api.all_fields(s).iter().any(|f| f.name == field),
                Some(UserType::Union(u)) => api.all_members(u).iter().any(|m| m.name == field),
                _ => return Err(format!("no struct or union `{}`", key.name)),
            };
            if found {
                Ok(RefTarget::Field(key, field.into()))
            } else {
                Err(format!("`{}` has no field `{field}`", key.name))
            }
        }
        "link" => match r.value.rsplit_once(' ') {
            Some((title, url)) if !title.trim().is_empty() && !url.is_empty() => {
                Ok(RefTarget::Link(title.trim().into(), url.into()))
            }
            _ => Err("a link needs a title and a URL separated by a space".into()),
        },
        "val" => {
            let v = r.value;
            let ok = matches!(v, "null" | "true" | "false")
                || v.parse::<f64>().is_ok()
                || (v.len() >= 2 && v.starts_with('"') && v.ends_with('"'));
            if ok {
                Ok(RefTarget::Val(v.into()))
            } else {
                Err("a value must be null, true, false, a number or a quoted string".into())
            }
        }
        other => Err(format!(
            "unknown reference kind `{other}` (expected route, type, field, link or val)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwraps_like_the_reference() {
        assert_eq!(unwrap_doc("  a\nb\n\nc\n\n\nd  "), "a b\nc\n\nd");
    }

    #[test]
    fn finds_references() {
        let refs = doc_refs(
            "See :route:`upload_session/finish:2` and :field:`close` or :link:`x y https://a`.",
        );
        let tags: Vec<_> = refs.iter().map(|r| (r.tag, r.value)).collect();
        assert_eq!(
            tags,
            vec![
                ("route", "upload_session/finish:2"),
                ("field", "close"),
                ("link", "x y https://a")
            ]
        );
    }
}
