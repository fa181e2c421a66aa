//! Type references, built-in types with their arguments, and the IR of structs, unions and
//! aliases, with the inheritance rules of the reference implementation.

use std::collections::{BTreeMap, BTreeSet};

use super::env::{BUILTINS, Def};
use super::{Resolver, unalias};
use crate::ir::{self, DataType, FloatKind, IntKind, StringConstraints, TypeKey, UserType};
use crate::source::Span;
use crate::stone::ast::{self, ArgValue, LiteralKind, TypeRef};

/// What a type reference may name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RefKind {
    Struct,
    Union,
    Alias,
}

impl<'a> Resolver<'a> {
    /// Resolves a type reference written in namespace `ns`. Records a diagnostic and returns
    /// `None` when it cannot.
    pub(super) fn resolve_type_ref(&mut self, ns: &str, tr: &TypeRef) -> Option<DataType> {
        let base = if let Some(qual) = &tr.namespace {
            if qual.name != ns && !self.imports_of(ns).contains(&qual.name) {
                let msg = if self.envs.contains_key(&qual.name) {
                    format!(
                        "namespace `{}` is used but not imported by `{ns}`",
                        qual.name
                    )
                } else {
                    format!("unknown namespace `{}`", qual.name)
                };
                self.diags.error(qual.span, msg);
                return None;
            }
            self.user_type(&qual.name, tr)?
        } else if BUILTINS.contains(&tr.name.name.as_str()) {
            self.builtin(ns, tr)?
        } else {
            self.user_type(ns, tr)?
        };
        if tr.nullable {
            self.nullable_sites.push((tr.span, base.clone()));
            Some(DataType::Nullable(Box::new(base)))
        } else {
            Some(base)
        }
    }

    fn imports_of(&self, ns: &str) -> BTreeSet<String> {
        self.envs
            .get(ns)
            .map(|e| e.imports.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn ref_kind(&self, ns: &str, name: &str) -> Option<RefKind> {
        Some(match self.envs.get(ns)?.defs.get(name)? {
            Def::Struct { .. } => RefKind::Struct,
            Def::Union { .. } => RefKind::Union,
            Def::Alias(_) => RefKind::Alias,
        })
    }

    fn user_type(&mut self, ns: &str, tr: &TypeRef) -> Option<DataType> {
        if self.ref_kind(ns, &tr.name.name).is_none() {
            let msg = if tr.namespace.is_some() {
                format!("unknown type `{ns}.{}`", tr.name.name)
            } else {
                format!("unknown type `{}`", tr.name.name)
            };
            self.diags.error(tr.name.span, msg);
            return None;
        }
        if tr.args.is_some() {
            self.diags.error(
                tr.name.span,
                format!(
                    "`{}` is not a built-in type, so it takes no arguments",
                    tr.name.name
                ),
            );
            return None;
        }
        Some(DataType::Named(TypeKey::new(ns, &tr.name.name)))
    }

    /// Both bounds of a numeric type, once each was read (`Err` when reading it already
    /// reported an error); `min <= max` or an error at the type.
    fn ordered_bounds<T: PartialOrd + std::fmt::Display>(
        &mut self,
        span: crate::source::Span,
        min: Result<Option<T>, ()>,
        max: Result<Option<T>, ()>,
    ) -> Option<(Option<T>, Option<T>)> {
        let (Ok(min), Ok(max)) = (min, max) else {
            return None;
        };
        if let (Some(a), Some(b)) = (&min, &max)
            && a > b
        {
            self.diags
                .error(span, format!("min_value {a} is greater than max_value {b}"));
            return None;
        }
        Some((min, max))
    }

    /// Maps the arguments of a built-in to its parameter names (positional first).
    fn builtin_args<'t>(
        &mut self,
        tr: &'t TypeRef,
        params: &[&'static str],
    ) -> Option<BTreeMap<&'static str, (&'t ArgValue, Span)>> {
        let mut out = BTreeMap::new();
        let Some(args) = &tr.args else {
            return Some(out);
        };
        let mut ok = true;
        for (i, value) in args.positional.iter().enumerate() {
            match params.get(i) {
                Some(p) => {
                    out.insert(*p, (value, arg_span(value)));
                }
                None => {
                    self.diags.error(
                        arg_span(value),
                        format!(
                            "`{}` takes at most {} positional argument{}",
                            tr.name.name,
                            params.len(),
                            if params.len() == 1 { "" } else { "s" }
                        ),
                    );
                    ok = false;
                }
            }
        }
        for (key, value) in &args.keyword {
            match params.iter().find(|p| **p == key.name) {
                Some(p) if out.contains_key(p) => {
                    self.diags
                        .error(key.span, format!("argument `{}` given twice", key.name));
                    ok = false;
                }
                Some(p) => {
                    out.insert(*p, (value, key.span));
                }
                None => {
                    let expected = if params.is_empty() {
                        "it takes no arguments".to_string()
                    } else {
                        format!("expected one of {}", params.join(", "))
                    };
                    self.diags.error(
                        key.span,
                        format!(
                            "unknown argument `{}` for `{}`: {expected}",
                            key.name, tr.name.name
                        ),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    fn builtin(&mut self, ns: &str, tr: &TypeRef) -> Option<DataType> {
        let name = tr.name.name.as_str();
        Some(match name {
            "Boolean" | "Bytes" | "Void" => {
                self.builtin_args(tr, &[])?;
                match name {
                    "Boolean" => DataType::Boolean,
                    "Bytes" => DataType::Bytes,
                    _ => DataType::Void,
                }
            }
            "Int32" | "Int64" | "UInt32" | "UInt64" => {
                let kind = match name {
                    "Int32" => IntKind::Int32,
                    "Int64" => IntKind::Int64,
                    "UInt32" => IntKind::UInt32,
                    _ => IntKind::UInt64,
                };
                let args = self.builtin_args(tr, &["min_value", "max_value"])?;
                let (lo, hi) = kind.range();
                let mut bound = |key: &str| -> Result<Option<i128>, ()> {
                    let Some((value, span)) = args.get(key) else {
                        return Ok(None);
                    };
                    match literal_of(value) {
                        Some(LiteralKind::Int(v)) if (lo..=hi).contains(v) => Ok(Some(*v)),
                        Some(LiteralKind::Int(v)) => {
                            self.diags
                                .error(*span, format!("{key} {v} is outside the range of {name}"));
                            Err(())
                        }
                        _ => {
                            self.diags
                                .error(*span, format!("{key} of {name} must be an integer"));
                            Err(())
                        }
                    }
                };
                let (min, max) = (bound("min_value"), bound("max_value"));
                let (min, max) = self.ordered_bounds(tr.span, min, max)?;
                DataType::Int { kind, min, max }
            }
            "Float32" | "Float64" => {
                let kind = if name == "Float32" {
                    FloatKind::Float32
                } else {
                    FloatKind::Float64
                };
                let args = self.builtin_args(tr, &["min_value", "max_value"])?;
                let mut bound = |key: &str| -> Result<Option<f64>, ()> {
                    let Some((value, span)) = args.get(key) else {
                        return Ok(None);
                    };
                    match literal_of(value) {
                        Some(LiteralKind::Int(_) | LiteralKind::Float(_))
                            if kind == FloatKind::Float32
                                && literal_f64(value).abs() > f64::from(f32::MAX) =>
                        {
                            self.diags.error(
                                *span,
                                format!(
                                    "{key} {} is outside the range of {name}",
                                    literal_f64(value)
                                ),
                            );
                            Err(())
                        }
                        Some(LiteralKind::Int(v)) => Ok(Some(*v as f64)),
                        Some(LiteralKind::Float(v)) => Ok(Some(*v)),
                        _ => {
                            self.diags
                                .error(*span, format!("{key} of {name} must be a number"));
                            Err(())
                        }
                    }
                };
                let (min, max) = (bound("min_value"), bound("max_value"));
                let (min, max) = self.ordered_bounds(tr.span, min, max)?;
                DataType::Float { kind, min, max }
            }
            "String" => {
                let args = self.builtin_args(tr, &["min_length", "max_length", "pattern"])?;
                let mut c = StringConstraints::default();
                let mut ok = true;
                for (key, floor) in [("min_length", 0), ("max_length", 1)] {
                    if let Some((value, span)) = args.get(key) {
                        match literal_of(value) {
                            Some(LiteralKind::Int(v))
                                if *v >= floor && *v <= i128::from(u64::MAX) =>
                            {
                                let v = Some(*v as u64);
                                if key == "min_length" {
                                    c.min_length = v;
                                } else {
                                    c.max_length = v;
                                }
                            }
                            _ => {
                                self.diags.error(
                                    *span,
                                    format!("{key} must be an integer of at least {floor}"),
                                );
                                ok = false;
                            }
                        }
                    }
                }
                if let Some((value, span)) = args.get("pattern") {
                    match literal_of(value) {
                        Some(LiteralKind::Str(p)) => match check_pattern(p) {
                            Ok(()) => c.pattern = Some(p.clone()),
                            Err(e) => {
                                self.diags.error(
                                    *span,
                                    format!("pattern is not a valid regular expression: {e}"),
                                );
                                ok = false;
                            }
                        },
                        _ => {
                            self.diags.error(*span, "pattern must be a string");
                            ok = false;
                        }
                    }
                }
                if let (Some(a), Some(b)) = (c.min_length, c.max_length)
                    && a > b
                {
                    self.diags.error(
                        tr.span,
                        format!("min_length {a} is greater than max_length {b}"),
                    );
                    ok = false;
                }
                if !ok {
                    return None;
                }
                DataType::String(c)
            }
            "Timestamp" => {
                let args = self.builtin_args(tr, &["format"])?;
                match args.get("format").map(|(v, s)| (literal_of(v), *s)) {
                    Some((Some(LiteralKind::Str(f)), _)) => {
                        DataType::Timestamp { format: f.clone() }
                    }
                    Some((_, span)) => {
                        self.diags
                            .error(span, "the format of Timestamp must be a string");
                        return None;
                    }
                    None => {
                        self.diags.error(
                            tr.span,
                            "Timestamp needs a format, e.g. Timestamp(\"%Y-%m-%dT%H:%M:%SZ\")",
                        );
                        return None;
                    }
                }
            }
            "List" => {
                let args = self.builtin_args(tr, &["data_type", "min_items", "max_items"])?;
                let item = match args.get("data_type") {
                    Some((ArgValue::Type(t), _)) => self.resolve_type_ref(ns, t)?,
                    Some((ArgValue::Literal(_), span)) => {
                        self.diags
                            .error(*span, "the item type of a List must be a type");
                        return None;
                    }
                    None => {
                        self.diags
                            .error(tr.span, "List needs an item type, e.g. List(String)");
                        return None;
                    }
                };
                let mut bounds = [None, None];
                for (i, key) in ["min_items", "max_items"].iter().enumerate() {
                    if let Some((value, span)) = args.get(key) {
                        match literal_of(value) {
                            Some(LiteralKind::Int(v)) if *v >= 0 && *v <= i128::from(u64::MAX) => {
                                bounds[i] = Some(*v as u64)
                            }
                            _ => {
                                self.diags
                                    .error(*span, format!("{key} must be a non-negative integer"));
                                return None;
                            }
                        }
                    }
                }
                if let [Some(a), Some(b)] = bounds
                    && a > b
                {
                    self.diags.error(
                        tr.span,
                        format!("min_items {a} is greater than max_items {b}"),
                    );
                    return None;
                }
                DataType::List {
                    item: Box::new(item),
                    min_items: bounds[0],
                    max_items: bounds[1],
                }
            }
            "Map" => {
                let args = self.builtin_args(tr, &["key_data_type", "value_data_type"])?;
                let mut types = Vec::new();
                for key in ["key_data_type", "value_data_type"] {
                    match args.get(key) {
                        Some((ArgValue::Type(t), _)) => types.push(self.resolve_type_ref(ns, t)?),
                        Some((ArgValue::Literal(_), span)) => {
                            self.diags
                                .error(*span, format!("{key} of a Map must be a type"));
                            return None;
                        }
                        None => {
                            self.diags.error(
                                tr.span,
                                "Map needs a key and a value type, e.g. Map(String, Int64)",
                            );
                            return None;
                        }
                    }
                }
                let value = types.pop()?;
                let key = types.pop()?;
                self.map_key_sites.push((tr.span, key.clone()));
                DataType::Map {
                    key: Box::new(key),
                    value: Box::new(value),
                }
            }
            _ => return None,
        })
    }

    /// Builds the IR of every struct, union and alias (fields resolved, inheritance not yet
    /// checked).
    pub(super) fn build_types(&mut self) {
        let namespaces: Vec<String> = self.envs.keys().cloned().collect();
        for ns in namespaces {
            let order = self.envs[&ns].order.clone();
            for name in order {
                let Some(def) = self.envs[&ns].defs.get(&name).copied() else {
                    continue;
                };
                let key = TypeKey::new(&ns, &name);
                let ty = match def {
                    Def::Alias(a) => self.build_alias(&ns, a),
                    Def::Struct {
                        name,
                        body,
                        anonymous,
                    } => self.build_struct(&ns, name, body, anonymous),
                    Def::Union {
                        name,
                        body,
                        anonymous,
                    } => self.build_union(&ns, name, body, anonymous),
                };
                if let Some(ty) = ty {
                    self.types.insert(key.clone(), ty);
                    self.type_order.push(key);
                }
            }
        }
    }

    fn build_alias(&mut self, ns: &str, a: &'a ast::AliasDef) -> Option<UserType> {
        let ty = self.resolve_type_ref(ns, &a.target)?;
        let annotations = self.resolve_annotations(ns, &a.annotations, true, &ty);
        Some(UserType::Alias(ir::Alias {
            key: TypeKey::new(ns, &a.name.name),
            ty,
            doc: self.doc_of(a.name.span, &a.doc),
            annotations,
            span: a.name.span,
        }))
    }

    /// Resolves `extends` to a struct or union key of the expected kind.
    fn parent(&mut self, ns: &str, tr: &TypeRef, want: RefKind) -> Option<TypeKey> {
        let target_ns = tr
            .namespace
            .as_ref()
            .map_or(ns, |q| q.name.as_str())
            .to_string();
        let kind = self.ref_kind(&target_ns, &tr.name.name);
        let DataType::Named(key) = self.resolve_type_ref(ns, tr)? else {
            self.diags.error(
                tr.span,
                format!("cannot extend `{}`: it is a built-in type", tr.name.name),
            );
            return None;
        };
        if tr.nullable {
            self.diags
                .error(tr.span, "a parent type cannot be nullable");
            return None;
        }
        match kind {
            Some(k) if k == want => Some(key),
            Some(RefKind::Alias) => {
                self.diags.error(
                    tr.span,
                    format!("cannot extend `{}`: it is an alias", tr.name.name),
                );
                None
            }
            _ => {
                let (what, other) = if want == RefKind::Struct {
                    ("struct", "a struct")
                } else {
                    ("union", "a union")
                };
                self.diags.error(
                    tr.span,
                    format!(
                        "a {what} can only extend {other}, and `{}` is not",
                        tr.name.name
                    ),
                );
                None
            }
        }
    }

    fn build_struct(
        &mut self,
        ns: &str,
        name: &'a ast::Ident,
        body: &'a ast::StructBody,
        anonymous: bool,
    ) -> Option<UserType> {
        let key = TypeKey::new(ns, &name.name);
        let parent = match &body.extends {
            Some(tr) => Some(self.parent(ns, tr, RefKind::Struct)?),
            None => None,
        };
        let mut fields = Vec::new();
        let patches: Vec<&'a ast::StructDef> = self.envs[ns]
            .struct_patches
            .get(&name.name)
            .cloned()
            .unwrap_or_default();
        let all_ast_fields = body
            .fields
            .iter()
            .chain(patches.iter().flat_map(|p| p.body.fields.iter()));
        for f in all_ast_fields {
            let Some(tr) = &f.type_ref else { continue };
            let Some(ty) = self.resolve_type_ref(ns, tr) else {
                continue;
            };
            if fields.iter().any(|x: &ir::Field| x.name == f.name.name) {
                self.diags.error(
                    f.name.span,
                    format!("field `{}` is defined twice", f.name.name),
                );
                continue;
            }
            self.struct_field_sites
                .push((f.name.span, ty.clone(), f.default.is_some()));
            if let Some(d) = &f.default {
                self.pending_defaults
                    .push((key.clone(), f.name.name.clone(), d));
            }
            let annotations = self.resolve_annotations(ns, &f.annotations, false, &ty);
            fields.push(ir::Field {
                name: f.name.name.clone(),
                ty,
                default: None,
                doc: self.doc_of(f.name.span, &f.doc),
                annotations,
                span: f.name.span,
            });
        }
        let subtypes = body.subtypes.as_ref().map(|s| {
            let mut entries = Vec::new();
            for (tag, tr) in &s.entries {
                if entries.iter().any(|(t, _)| t == &tag.name) {
                    self.diags.error(
                        tag.span,
                        format!("subtype tag `{}` is used twice", tag.name),
                    );
                    continue;
                }
                if let Some(k) = self.parent(ns, tr, RefKind::Struct) {
                    self.subtype_spans
                        .insert((key.clone(), tag.name.clone()), tr.span);
                    entries.push((tag.name.clone(), k));
                }
            }
            ir::Subtypes {
                catch_all: !s.closed,
                entries,
            }
        });
        Some(UserType::Struct(ir::Struct {
            key,
            doc: self.doc_of(name.span, &body.doc),
            parent,
            fields,
            subtypes,
            examples: Vec::new(),
            anonymous,
            span: name.span,
        }))
    }

    fn build_union(
        &mut self,
        ns: &str,
        name: &'a ast::Ident,
        body: &'a ast::UnionBody,
        anonymous: bool,
    ) -> Option<UserType> {
        let key = TypeKey::new(ns, &name.name);
        let parent = match &body.extends {
            Some(tr) => Some(self.parent(ns, tr, RefKind::Union)?),
            None => None,
        };
        let patches: Vec<&'a ast::UnionDef> = self.envs[ns]
            .union_patches
            .get(&name.name)
            .cloned()
            .unwrap_or_default();
        for p in &patches {
            if p.body.closed != body.closed {
                self.diags.error(
                    p.name.span,
                    format!(
                        "patch of `{}` must say `{}` like the original",
                        name.name,
                        if body.closed { "union_closed" } else { "union" }
                    ),
                );
            }
        }
        let mut members: Vec<ir::Member> = Vec::new();
        for m in body
            .members
            .iter()
            .chain(patches.iter().flat_map(|p| p.body.members.iter()))
        {
            let ty = match &m.type_ref {
                None => DataType::Void,
                Some(tr) => {
                    let Some(ty) = self.resolve_type_ref(ns, tr) else {
                        continue;
                    };
                    if ty == DataType::Void {
                        self.diags.error(
                            tr.span,
                            format!(
                                "write a void member without a type (`{}` alone), not as `Void`",
                                m.name.name
                            ),
                        );
                        continue;
                    }
                    ty
                }
            };
            if members.iter().any(|x| x.name == m.name.name) {
                self.diags.error(
                    m.name.span,
                    format!("member `{}` is defined twice", m.name.name),
                );
                continue;
            }
            if m.name.name == "other" {
                // Reserved even in a closed union, as in the reference.
                self.diags.error(
                    m.name.span,
                    "`other` is reserved for the catch-all member of open unions; it cannot be defined",
                );
                continue;
            }
            let annotations = self.resolve_annotations(ns, &m.annotations, false, &ty);
            members.push(ir::Member {
                name: m.name.name.clone(),
                ty,
                doc: self.doc_of(m.name.span, &m.doc),
                annotations,
                catch_all: false,
                span: m.name.span,
            });
        }
        Some(UserType::Union(ir::Union {
            key,
            doc: self.doc_of(name.span, &body.doc),
            closed: body.closed,
            parent,
            members,
            examples: Vec::new(),
            anonymous,
            span: name.span,
        }))
    }

    /// Checks inheritance (cycles, redefined fields and members, enumerated subtypes,
    /// open/closed unions) and adds the catch-all `other` to open unions.
    pub(super) fn check_inheritance(&mut self) {
        let keys: Vec<TypeKey> = self.type_order.clone();
        let mut errors: Vec<(Span, String)> = Vec::new();
        let mut add_catch_all = Vec::new();
        for key in &keys {
            match self.types.get(key) {
                Some(UserType::Struct(s)) => self.check_struct(s, &mut errors),
                Some(UserType::Union(u)) => {
                    if let Some(open_parent) = self.check_union(u, &mut errors)
                        && !u.closed
                        && !open_parent
                    {
                        add_catch_all.push(key.clone());
                    }
                }
                _ => {}
            }
        }
        for key in add_catch_all {
            if let Some(UserType::Union(u)) = self.types.get_mut(&key) {
                u.members.push(ir::Member {
                    name: "other".into(),
                    ty: DataType::Void,
                    doc: None,
                    annotations: ir::Annotations::default(),
                    catch_all: true,
                    span: u.span,
                });
            }
        }
        for (span, msg) in errors {
            self.diags.error(span, msg);
        }
    }

    fn struct_chain(&self, s: &ir::Struct) -> Result<Vec<&ir::Struct>, ()> {
        let mut chain = Vec::new();
        let mut cur = s.parent.as_ref();
        while let Some(k) = cur {
            if k == &s.key || chain.len() > 256 {
                return Err(());
            }
            match self.types.get(k) {
                Some(UserType::Struct(p)) => {
                    if chain.iter().any(|c: &&ir::Struct| c.key == p.key) {
                        return Err(());
                    }
                    chain.push(p);
                    cur = p.parent.as_ref();
                }
                _ => break,
            }
        }
        Ok(chain)
    }

    fn check_struct(&self, s: &ir::Struct, errors: &mut Vec<(Span, String)>) {
        let Ok(ancestors) = self.struct_chain(s) else {
            errors.push((
                s.span,
                format!("struct `{}` inherits from itself", s.key.name),
            ));
            return;
        };
        for f in &s.fields {
            if let Some(a) = ancestors
                .iter()
                .find(|a| a.fields.iter().any(|x| x.name == f.name))
            {
                errors.push((
                    f.span,
                    format!(
                        "field `{}` is already defined by parent `{}`",
                        f.name, a.key.name
                    ),
                ));
            }
        }
        if let Some(parent) = ancestors.first() {
            if let Some(sub) = &parent.subtypes
                && !sub.entries.iter().any(|(_, k)| k == &s.key)
            {
                errors.push((
                    s.span,
                    format!(
                        "`{}` extends `{}`, which enumerates its subtypes, but is not listed among them",
                        s.key.name, parent.key.name
                    ),
                ));
            }
            if let Some(grand) = ancestors.get(1)
                && grand.subtypes.is_some()
            {
                errors.push((
                    s.span,
                    format!(
                        "`{}` cannot extend `{}`: it is a subtype of the polymorphic struct `{}`",
                        s.key.name, parent.key.name, grand.key.name
                    ),
                ));
            }
        }
        if let Some(sub) = &s.subtypes {
            if s.parent.is_some() {
                errors.push((
                    s.span,
                    format!(
                        "`{}` enumerates subtypes, so it cannot extend another struct",
                        s.key.name
                    ),
                ));
            }
            for (tag, k) in &sub.entries {
                // Duplicate tags were dropped (and reported) when the struct was built.
                let entry_span = self
                    .subtype_spans
                    .get(&(s.key.clone(), tag.clone()))
                    .copied()
                    .unwrap_or(s.span);
                if let Some(f) = s.fields.iter().find(|f| &f.name == tag) {
                    errors.push((
                        f.span,
                        format!("field `{tag}` clashes with the subtype tag of the same name"),
                    ));
                }
                match self.types.get(k) {
                    Some(UserType::Struct(c)) if c.parent.as_ref() == Some(&s.key) => {}
                    _ => errors.push((
                        entry_span,
                        format!(
                            "subtype `{}` of `{}` must extend `{}`",
                            k.name, s.key.name, s.key.name
                        ),
                    )),
                }
            }
        }
    }

    /// Returns whether the parent chain is open (`Some(true)`), closed or absent
    /// (`Some(false)`), or `None` after reporting an error.
    fn check_union(&self, u: &ir::Union, errors: &mut Vec<(Span, String)>) -> Option<bool> {
        let mut chain: Vec<&ir::Union> = Vec::new();
        let mut cur = u.parent.as_ref();
        while let Some(k) = cur {
            if k == &u.key || chain.len() > 256 || chain.iter().any(|c| &c.key == k) {
                errors.push((
                    u.span,
                    format!("union `{}` inherits from itself", u.key.name),
                ));
                return None;
            }
            match self.types.get(k) {
                Some(UserType::Union(p)) => {
                    chain.push(p);
                    cur = p.parent.as_ref();
                }
                _ => break,
            }
        }
        for m in &u.members {
            if let Some(a) = chain
                .iter()
                .find(|a| a.members.iter().any(|x| x.name == m.name))
            {
                errors.push((
                    m.span,
                    format!(
                        "member `{}` is already defined by parent `{}`",
                        m.name, a.key.name
                    ),
                ));
            }
        }
        let parent_open = chain.first().is_some_and(|p| !p.closed);
        if parent_open && u.closed {
            errors.push((
                u.span,
                format!(
                    "`{}` cannot be `union_closed`: its parent `{}` is open",
                    u.key.name, chain[0].key.name
                ),
            ));
        }
        if parent_open && u.members.iter().any(|m| m.name == "other") {
            // Already reported for open unions; a closed child of an open parent is an error.
        }
        Some(parent_open)
    }

    /// Checks the deferred nullable and map-key sites once aliases are known.
    pub(super) fn check_type_sites(&mut self) {
        let mut errors = Vec::new();
        for (span, inner) in &self.nullable_sites {
            match unalias(&self.types, inner) {
                DataType::Void => errors.push((*span, "`Void` cannot be nullable".to_string())),
                DataType::Nullable(_) => errors.push((
                    *span,
                    "this type is already nullable (through an alias); remove the `?`".to_string(),
                )),
                _ => {}
            }
        }
        for (span, key) in &self.map_key_sites {
            if !matches!(unalias(&self.types, key), DataType::String(_)) {
                errors.push((*span, "the key type of a Map must be a String".to_string()));
            }
        }
        for (span, ty, has_default) in &self.struct_field_sites {
            match unalias(&self.types, ty) {
                DataType::Void => {
                    errors.push((*span, "a struct field cannot have type `Void`".to_string()))
                }
                DataType::Nullable(_) if *has_default => errors.push((
                    *span,
                    "a nullable field cannot have a default (its default is already null)"
                        .to_string(),
                )),
                _ => {}
            }
        }
        // Alias cycles: report every alias whose chain comes back to it. (An alias that only
        // leads into a cycle is not itself part of it; the aliases of the cycle are reported.)
        for key in &self.type_order {
            if let Some(UserType::Alias(a)) = self.types.get(key) {
                let mut seen = BTreeSet::new();
                let mut ty = &a.ty;
                while let DataType::Named(k) = ty {
                    if k == key {
                        errors.push((
                            a.span,
                            format!("alias `{}` is part of a cycle of aliases", key.name),
                        ));
                        break;
                    }
                    if !seen.insert(k) {
                        break;
                    }
                    match self.types.get(k) {
                        Some(UserType::Alias(next)) => ty = &next.ty,
                        _ => break,
                    }
                }
            }
        }
        for (span, msg) in errors {
            self.diags.error(span, msg);
        }
    }
}

fn literal_of(v: &ArgValue) -> Option<&LiteralKind> {
    match v {
        ArgValue::Literal(l) => Some(&l.kind),
        ArgValue::Type(_) => None,
    }
}

/// The numeric value of an integer or float literal argument (0 otherwise).
fn literal_f64(v: &ArgValue) -> f64 {
    match literal_of(v) {
        Some(LiteralKind::Int(i)) => *i as f64,
        Some(LiteralKind::Float(f)) => *f,
        _ => 0.0,
    }
}

fn arg_span(v: &ArgValue) -> Span {
    match v {
        ArgValue::Literal(l) => l.span,
        ArgValue::Type(t) => t.span,
    }
}

/// Checks that a spec pattern is a regular expression Rust's `regex` crate accepts.
fn check_pattern(p: &str) -> Result<(), String> {
    regex_syntax::Parser::new()
        .parse(p)
        .map(|_| ())
        .map_err(|e| {
            e.to_string()
                .lines()
                .last()
                .unwrap_or("invalid")
                .trim()
                .to_string()
        })
}
