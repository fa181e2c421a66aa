//! Which routes page: the pairs `X` / `X/continue` of the resolved API that a generated
//! paginator can follow, found from the types alone (never from a list of names).
//!
//! A pair is followed when
//! - both routes are in one namespace, take the same auth and use the rpc style;
//! - `X/continue` takes a struct with a string `cursor` field and nothing else required, so
//!   that its argument can be built from a cursor;
//! - `X` (the highest version whose result is the continue route's result) and
//!   `X/continue` return the same struct, which carries a `cursor` and either a boolean
//!   `has_more` or an optional `cursor` whose absence ends the listing.
//!
//! Its items are the result's one list field, when there is exactly one. Every
//! `.../continue` route the rule does not follow is reported with the reason, for
//! `cargo xtask stats`.

use crate::ir::{Api, DataType, Route, Style, TypeKey};

/// How a page says that another one follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum More {
    /// A boolean field (`has_more`): set while more pages follow.
    Flag(String),
    /// The cursor is optional: present while more pages follow.
    CursorPresent,
}

/// One route pair that pages.
#[derive(Debug, Clone)]
pub struct Paginator<'a> {
    /// The route of the first page.
    pub first: &'a Route,
    /// The `.../continue` route of the next ones.
    pub next: &'a Route,
    /// The page: the result struct of both.
    pub page: TypeKey,
    /// The continue route's argument struct, built from the cursor.
    pub next_arg: TypeKey,
    /// Whether the page's `cursor` field is optional.
    pub cursor_optional: bool,
    /// How a page says that another one follows.
    pub more: More,
    /// The page's one list field and its item type, if it has exactly one.
    pub items: Option<(String, DataType)>,
}

/// A `.../continue` route that no paginator follows, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotPaged {
    /// `namespace/name` of the continue route.
    pub route: String,
    /// Why the rule does not cover it.
    pub reason: String,
}

/// The paginators of `api`, in namespace and route order, and the continue routes left out.
pub fn find(api: &Api) -> (Vec<Paginator<'_>>, Vec<NotPaged>) {
    let mut found = Vec::new();
    let mut left_out = Vec::new();
    for ns in api.namespaces.values() {
        for next in &ns.routes {
            let Some(base) = next.name.strip_suffix("/continue") else {
                continue;
            };
            // The newest version of the continue route is the one followed.
            if let Some(newer) = ns
                .routes
                .iter()
                .filter(|r| r.name == next.name && r.version > next.version)
                .max_by_key(|r| r.version)
            {
                left_out.push(NotPaged {
                    route: format!("{}/{}", next.namespace, label(next)),
                    reason: format!("`{}` is followed instead", label(newer)),
                });
                continue;
            }
            match pair(api, &ns.routes, base, next) {
                Ok(p) => found.push(p),
                Err(reason) => left_out.push(NotPaged {
                    route: format!("{}/{}", next.namespace, label(next)),
                    reason,
                }),
            }
        }
    }
    (found, left_out)
}

/// A route's name with its version when it is above 1 (`members/list/continue:2`).
fn label(r: &Route) -> String {
    if r.version > 1 {
        format!("{}:{}", r.name, r.version)
    } else {
        r.name.clone()
    }
}

fn pair<'a>(
    api: &'a Api,
    routes: &'a [Route],
    base: &str,
    next: &'a Route,
) -> Result<Paginator<'a>, String> {
    let page = named_struct(api, &next.result).ok_or("its result is not a struct")?;
    let first = routes
        .iter()
        .filter(|r| r.name == base && same_type(api, &r.result, &next.result))
        .max_by_key(|r| r.version)
        .ok_or_else(|| format!("no route `{base}` returns the same result"))?;
    if first.auth != next.auth {
        return Err(format!(
            "`{base}` and its continue route take different auth"
        ));
    }
    if first.style != Style::Rpc || next.style != Style::Rpc {
        return Err("not an rpc route pair".into());
    }
    let next_arg = named_struct(api, &next.arg).ok_or("its argument is not a struct")?;
    let arg_fields = api.all_fields(api.struct_(&next_arg).ok_or("no argument struct")?);
    let mut has_cursor = false;
    for f in &arg_fields {
        if f.name == "cursor" && is_string(api, &f.ty) {
            has_cursor = true;
        } else if f.default.is_none() && !api.is_nullable(&f.ty) {
            return Err(format!(
                "its argument needs `{}` besides the cursor",
                f.name
            ));
        }
    }
    if !has_cursor {
        return Err("its argument has no string `cursor`".into());
    }
    let page_struct = api.struct_(&page).ok_or("no result struct")?;
    if page_struct.subtypes.is_some() {
        return Err("its result is a polymorphic struct".into());
    }
    let fields = api.all_fields(page_struct);
    let cursor = fields
        .iter()
        .find(|f| f.name == "cursor")
        .ok_or("its result has no `cursor`")?;
    let cursor_optional = match api.unalias(&cursor.ty) {
        DataType::Nullable(inner) if is_string(api, inner) => true,
        t if is_string(api, t) => false,
        _ => return Err("its result's `cursor` is not a string".into()),
    };
    let more = match fields
        .iter()
        .find(|f| f.name == "has_more" && matches!(api.unalias(&f.ty), DataType::Boolean))
    {
        Some(f) => More::Flag(f.name.clone()),
        None if cursor_optional => More::CursorPresent,
        None => {
            return Err("its result has neither `has_more` nor an optional cursor".into());
        }
    };
    let lists: Vec<_> = fields
        .iter()
        .filter_map(|f| match api.unalias(&f.ty) {
            DataType::List { item, .. } => Some((f.name.clone(), (**item).clone())),
            _ => None,
        })
        .collect();
    let items = match <[_; 1]>::try_from(lists) {
        Ok([one]) => Some(one),
        Err(_) => None,
    };
    Ok(Paginator {
        first,
        next,
        page,
        next_arg,
        cursor_optional,
        more,
        items,
    })
}

fn named_struct(api: &Api, ty: &DataType) -> Option<TypeKey> {
    match api.unalias(ty) {
        DataType::Named(k) if api.struct_(k).is_some() => Some(k.clone()),
        _ => None,
    }
}

fn is_string(api: &Api, ty: &DataType) -> bool {
    matches!(api.unalias(ty), DataType::String(_))
}

fn same_type(api: &Api, a: &DataType, b: &DataType) -> bool {
    api.unalias(a) == api.unalias(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: &str = "namespace stone_cfg\n\nstruct Route\n    auth String = \"user\"\n    style String = \"rpc\"\n";

    fn load(spec: &str) -> Api {
        crate::load_str(&[("stone_cfg.stone", CFG), ("p.stone", spec)])
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn pairs_with_a_flag_or_an_optional_cursor_page_and_others_say_why_not() {
        let api = load(
            "namespace p\n\n\
             struct Arg\n    path String\n\
             struct Next\n    cursor String\n    limit UInt32?\n\
             struct Flagged\n    entries List(String)\n    cursor String\n    has_more Boolean\n\
             struct Ended\n    items List(Int32)\n    names List(String)\n    cursor String?\n\
             struct Endless\n    cursor String\n\
             struct NeedsMore\n    cursor String\n    mode String\n\n\
             route list (Arg, Flagged, Void)\n\
             route list/continue (Next, Flagged, Void)\n\
             route list/continue:2 (Next, Flagged, Void)\n\
             route scan (Arg, Ended, Void)\n\
             route scan:2 (Arg, Ended, Void)\n\
             route scan/continue (Next, Ended, Void)\n\
             route loop (Arg, Endless, Void)\n\
             route loop/continue (Next, Endless, Void)\n\
             route odd (Arg, Flagged, Void)\n\
             route odd/continue (NeedsMore, Flagged, Void)\n\
             route lonely/continue (Next, Flagged, Void)\n",
        );
        let (found, left_out) = find(&api);
        let names: Vec<(&str, u32, &More, Option<&str>)> = found
            .iter()
            .map(|p| {
                (
                    p.first.name.as_str(),
                    p.first.version,
                    &p.more,
                    p.items.as_ref().map(|(f, _)| f.as_str()),
                )
            })
            .collect();
        assert_eq!(
            names,
            vec![
                ("list", 1, &More::Flag("has_more".into()), Some("entries")),
                ("scan", 2, &More::CursorPresent, None),
            ]
        );
        let reasons: Vec<(&str, &str)> = left_out
            .iter()
            .map(|n| (n.route.as_str(), n.reason.as_str()))
            .collect();
        assert_eq!(
            found[0].next.version, 2,
            "the newest continue route is followed"
        );
        assert_eq!(
            reasons,
            vec![
                ("p/list/continue", "`list/continue:2` is followed instead"),
                (
                    "p/loop/continue",
                    "its result has neither `has_more` nor an optional cursor"
                ),
                (
                    "p/odd/continue",
                    "its argument needs `mode` besides the cursor"
                ),
                (
                    "p/lonely/continue",
                    "no route `lonely` returns the same result"
                ),
            ]
        );
    }
}
