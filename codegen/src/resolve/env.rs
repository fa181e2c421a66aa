//! First resolver pass: collects every definition of every file into per-namespace
//! environments, and checks names (duplicates, clashes with built-ins, canonical clashes) and
//! imports (unknown, self, circular).

use std::collections::{BTreeMap, BTreeSet};

use super::Resolver;
use crate::source::Span;
use crate::stone::ast::*;

/// Names of the built-in types, present in every namespace.
pub(super) const BUILTINS: &[&str] = &[
    "Boolean",
    "Bytes",
    "Float32",
    "Float64",
    "Int32",
    "Int64",
    "List",
    "Map",
    "String",
    "Timestamp",
    "UInt32",
    "UInt64",
    "Void",
];

/// A named definition of a namespace, pointing into the AST.
#[derive(Clone, Copy)]
pub(super) enum Def<'a> {
    Struct {
        name: &'a Ident,
        body: &'a StructBody,
        anonymous: bool,
    },
    Union {
        name: &'a Ident,
        body: &'a UnionBody,
        anonymous: bool,
    },
    Alias(&'a AliasDef),
}

impl<'a> Def<'a> {
    pub(super) fn name(&self) -> &'a Ident {
        match self {
            Def::Struct { name, .. } | Def::Union { name, .. } => name,
            Def::Alias(a) => &a.name,
        }
    }
}

/// Everything defined in one namespace, across all its files.
#[derive(Default)]
pub(super) struct NsEnv<'a> {
    pub(super) docs: Vec<&'a Doc>,
    pub(super) imports: BTreeMap<String, Span>,
    pub(super) defs: BTreeMap<String, Def<'a>>,
    /// Type names in source order.
    pub(super) order: Vec<String>,
    pub(super) routes: Vec<&'a RouteDef>,
    pub(super) annotations: BTreeMap<String, &'a AnnotationDef>,
    pub(super) annotation_types: BTreeMap<String, &'a AnnotationTypeDef>,
    pub(super) struct_patches: BTreeMap<String, Vec<&'a StructDef>>,
    pub(super) union_patches: BTreeMap<String, Vec<&'a UnionDef>>,
    /// Where the namespace was first declared.
    pub(super) span: Option<Span>,
}

/// Stone's canonical form of a name for clash detection: `_` and `/` removed, lowercased.
fn canonical(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_' && *c != '/')
        .flat_map(char::to_lowercase)
        .collect()
}

impl<'a> Resolver<'a> {
    /// Collects the definitions of every file.
    pub(super) fn collect(&mut self, files: &'a [(crate::source::FileId, SpecFile)]) {
        for (file, spec) in files {
            let mut items = spec.items.iter();
            let ns_name = match items.next() {
                Some(Item::Namespace(name, doc)) => {
                    let env = self.envs.entry(name.name.clone()).or_default();
                    env.span.get_or_insert(name.span);
                    if let Some(doc) = doc {
                        env.docs.push(doc);
                    }
                    name.name.clone()
                }
                Some(other) => {
                    let span = item_span(other);
                    self.diags.error(
                        span,
                        "the first item of a spec file must be its `namespace` declaration",
                    );
                    continue;
                }
                None => {
                    let span = crate::source::Span {
                        file: *file,
                        line: 1,
                        col: 1,
                        offset: 0,
                    };
                    self.diags
                        .error(span, "empty spec file: expected `namespace NAME`");
                    continue;
                }
            };
            for item in items {
                self.collect_item(&ns_name, item);
            }
        }
        self.check_canonical_clashes();
        self.check_imports();
        self.check_patches();
    }

    /// A patch must name a struct (or a union) defined in the same namespace.
    fn check_patches(&mut self) {
        let mut errors = Vec::new();
        for env in self.envs.values() {
            let patches = env
                .struct_patches
                .values()
                .flatten()
                .map(|p| (&p.name, true))
                .chain(
                    env.union_patches
                        .values()
                        .flatten()
                        .map(|p| (&p.name, false)),
                );
            for (name, is_struct) in patches {
                let what = if is_struct { "struct" } else { "union" };
                match env.defs.get(&name.name) {
                    Some(Def::Struct { .. }) if is_struct => {}
                    Some(Def::Union { .. }) if !is_struct => {}
                    Some(_) => errors.push((
                        name.span,
                        format!("`{}` is patched as a {what}, but it is not one", name.name),
                    )),
                    None => errors.push((
                        name.span,
                        format!(
                            "patch of unknown {what} `{}` (a patch must extend a type defined in the same namespace)",
                            name.name
                        ),
                    )),
                }
            }
        }
        for (span, msg) in errors {
            self.diags.error(span, msg);
        }
    }

    fn collect_item(&mut self, ns: &str, item: &'a Item) {
        match item {
            Item::Namespace(name, _) => {
                self.diags.error(
                    name.span,
                    "a spec file declares exactly one namespace, as its first item",
                );
            }
            Item::Import(name) => {
                let env = self.env_mut(ns);
                env.imports.entry(name.name.clone()).or_insert(name.span);
            }
            Item::Alias(a) => self.define(ns, Def::Alias(a)),
            Item::Struct(s) => {
                self.define(
                    ns,
                    Def::Struct {
                        name: &s.name,
                        body: &s.body,
                        anonymous: false,
                    },
                );
                self.collect_anonymous(ns, &s.body.fields);
            }
            Item::Union(u) => {
                self.define(
                    ns,
                    Def::Union {
                        name: &u.name,
                        body: &u.body,
                        anonymous: false,
                    },
                );
                self.collect_anonymous(ns, &u.body.members);
            }
            Item::Patch(PatchDef::Struct(s)) => {
                self.env_mut(ns)
                    .struct_patches
                    .entry(s.name.name.clone())
                    .or_default()
                    .push(s);
            }
            Item::Patch(PatchDef::Union(u)) => {
                self.env_mut(ns)
                    .union_patches
                    .entry(u.name.name.clone())
                    .or_default()
                    .push(u);
            }
            Item::Route(r) => self.env_mut(ns).routes.push(r),
            Item::Annotation(a) => {
                if self.is_taken(ns, &a.name.name) {
                    self.diags.error(
                        a.name.span,
                        format!("symbol `{}` is already defined", a.name.name),
                    );
                } else {
                    self.env_mut(ns).annotations.insert(a.name.name.clone(), a);
                }
            }
            Item::AnnotationType(a) => {
                if self.is_taken(ns, &a.name.name) {
                    self.diags.error(
                        a.name.span,
                        format!("symbol `{}` is already defined", a.name.name),
                    );
                } else {
                    self.env_mut(ns)
                        .annotation_types
                        .insert(a.name.name.clone(), a);
                }
            }
        }
    }

    /// Anonymous types defined in field blocks take the name written as the field's type.
    fn collect_anonymous(&mut self, ns: &str, fields: &'a [Field]) {
        for f in fields {
            let (Some(anon), Some(tr)) = (&f.anon, &f.type_ref) else {
                continue;
            };
            if tr.namespace.is_some() || tr.args.is_some() {
                self.diags.error(
                    tr.span,
                    "an inline type must be named with a plain name (no namespace, no arguments)",
                );
                continue;
            }
            match anon {
                AnonDef::Struct(body) => {
                    self.define(
                        ns,
                        Def::Struct {
                            name: &tr.name,
                            body,
                            anonymous: true,
                        },
                    );
                    self.collect_anonymous(ns, &body.fields);
                }
                AnonDef::Union(body) => {
                    self.define(
                        ns,
                        Def::Union {
                            name: &tr.name,
                            body,
                            anonymous: true,
                        },
                    );
                    self.collect_anonymous(ns, &body.members);
                }
            }
        }
    }

    fn env_mut(&mut self, ns: &str) -> &mut super::env::NsEnv<'a> {
        self.envs.entry(ns.to_string()).or_default()
    }

    fn is_taken(&self, ns: &str, name: &str) -> bool {
        BUILTINS.contains(&name)
            || self.envs.get(ns).is_some_and(|e| {
                e.defs.contains_key(name)
                    || e.annotations.contains_key(name)
                    || e.annotation_types.contains_key(name)
            })
    }

    fn define(&mut self, ns: &str, def: Def<'a>) {
        let name = def.name();
        if self.is_taken(ns, &name.name) {
            let what = if BUILTINS.contains(&name.name.as_str()) {
                format!("`{}` is a built-in type and cannot be redefined", name.name)
            } else {
                format!("symbol `{}` is already defined", name.name)
            };
            self.diags.error(name.span, what);
            return;
        }
        let env = self.env_mut(ns);
        env.defs.insert(name.name.clone(), def);
        env.order.push(name.name.clone());
    }

    /// Types, aliases and routes clash when their canonical names collide (routes may share
    /// a name across versions); a type may not take its namespace's canonical name either.
    fn check_canonical_clashes(&mut self) {
        let mut errors = Vec::new();
        for (ns, env) in &self.envs {
            let mut seen: BTreeMap<String, (bool, &str)> = BTreeMap::new();
            // Types, aliases, annotations and annotation types, in source order.
            let mut items: Vec<&Ident> = env.defs.values().map(|d| d.name()).collect();
            items.extend(env.annotations.values().map(|a| &a.name));
            items.extend(env.annotation_types.values().map(|a| &a.name));
            items.sort_by_key(|i| i.span);
            for item in items {
                let name = &item.name;
                let c = canonical(name);
                if c == canonical(ns) {
                    errors.push((
                        item.span,
                        format!("name `{name}` clashes with its namespace `{ns}`"),
                    ));
                } else if let Some((_, other)) = seen.get(&c) {
                    errors.push((
                        item.span,
                        format!("name `{name}` clashes with `{other}` (names are compared without `_` and case)"),
                    ));
                } else {
                    seen.insert(c, (false, name));
                }
            }
            for r in &env.routes {
                let c = canonical(&r.name.name);
                match seen.get(&c) {
                    Some((true, _)) => {}
                    Some((false, other)) => errors.push((
                        r.name.span,
                        format!(
                            "route `{}` clashes with `{other}` (names are compared without `_`, `/` and case)",
                            r.name.name
                        ),
                    )),
                    None => {
                        seen.insert(c, (true, &r.name.name));
                    }
                }
            }
        }
        for (span, msg) in errors {
            self.diags.error(span, msg);
        }
    }

    fn check_imports(&mut self) {
        let mut errors = Vec::new();
        let known: BTreeSet<String> = self.envs.keys().cloned().collect();
        for (ns, env) in &self.envs {
            for (imp, span) in &env.imports {
                if imp == ns {
                    errors.push((*span, format!("namespace `{ns}` cannot import itself")));
                } else if !known.contains(imp) {
                    errors.push((*span, format!("unknown namespace `{imp}`")));
                }
            }
        }
        // Circular imports: report each cycle once, at an import that closes it.
        let graph: BTreeMap<&str, Vec<(&str, Span)>> = self
            .envs
            .iter()
            .map(|(ns, env)| {
                (
                    ns.as_str(),
                    env.imports
                        .iter()
                        .filter(|(i, _)| known.contains(*i) && *i != ns)
                        .map(|(i, s)| (i.as_str(), *s))
                        .collect(),
                )
            })
            .collect();
        let mut state: BTreeMap<&str, u8> = BTreeMap::new(); // 1 = visiting, 2 = done
        for start in graph.keys() {
            let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
            if state.get(start).copied().unwrap_or(0) != 0 {
                continue;
            }
            state.insert(start, 1);
            while let Some((node, idx)) = stack.pop() {
                let edges = &graph[node];
                if idx < edges.len() {
                    stack.push((node, idx + 1));
                    let (next, span) = edges[idx];
                    match state.get(next).copied().unwrap_or(0) {
                        0 => {
                            state.insert(next, 1);
                            stack.push((next, 0));
                        }
                        1 => errors.push((
                            span,
                            format!("circular import: `{node}` imports `{next}`, which imports `{node}` (directly or through other namespaces)"),
                        )),
                        _ => {}
                    }
                } else {
                    state.insert(node, 2);
                }
            }
        }
        for (span, msg) in errors {
            self.diags.error(span, msg);
        }
    }
}

fn item_span(item: &Item) -> Span {
    match item {
        Item::Namespace(n, _) | Item::Import(n) => n.span,
        Item::Alias(a) => a.span,
        Item::Struct(s) => s.span,
        Item::Union(u) => u.span,
        Item::Patch(PatchDef::Struct(s)) => s.span,
        Item::Patch(PatchDef::Union(u)) => u.span,
        Item::Route(r) => r.span,
        Item::Annotation(a) => a.span,
        Item::AnnotationType(a) => a.span,
    }
}
