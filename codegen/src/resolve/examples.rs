//! Examples: every `example` block checked against its type (required fields, known fields,
//! value types, constraints, labels that exist) and resolved into the IR.

use std::collections::{BTreeMap, BTreeSet};

use super::values::{describe, describe_literal};
use super::{Resolver, unalias};
use crate::diagnostics::Diagnostics;
use crate::ir::{self, Api, DataType, ExampleValue, TypeKey, UserType};
use crate::source::Span;
use crate::stone::ast::{self, LiteralKind};

type Checked<T> = Result<T, (Span, String)>;

impl<'a> Resolver<'a> {
    /// Builds and checks the examples of every struct and union.
    pub(super) fn build_examples(&mut self) {
        // The AST examples of every type, patches merged into the labels they extend.
        let mut sources: BTreeMap<TypeKey, Vec<ast::Example>> = BTreeMap::new();
        for key in self.type_order.clone() {
            let env = &self.envs[&key.namespace];
            let Some(def) = env.defs.get(&key.name) else {
                continue;
            };
            let (own, patches): (&[ast::Example], Vec<&ast::Example>) = match def {
                super::env::Def::Struct { body, .. } => (
                    &body.examples,
                    env.struct_patches
                        .get(&key.name)
                        .into_iter()
                        .flatten()
                        .flat_map(|p| p.body.examples.iter())
                        .collect(),
                ),
                super::env::Def::Union { body, .. } => (
                    &body.examples,
                    env.union_patches
                        .get(&key.name)
                        .into_iter()
                        .flatten()
                        .flat_map(|p| p.body.examples.iter())
                        .collect(),
                ),
                super::env::Def::Alias(_) => continue,
            };
            let mut list: Vec<ast::Example> = Vec::new();
            for e in own {
                if list.iter().any(|x| x.label.name == e.label.name) {
                    self.diags.error(
                        e.label.span,
                        format!("example label `{}` is used twice", e.label.name),
                    );
                    continue;
                }
                list.push(e.clone());
            }
            for p in patches {
                match list.iter_mut().find(|x| x.label.name == p.label.name) {
                    Some(target) => target.fields.extend(p.fields.iter().cloned()),
                    None => self.diags.error(
                        p.label.span,
                        format!(
                            "a patch can only add fields to an existing example; `{}` has no example `{}`",
                            key.name, p.label.name
                        ),
                    ),
                }
            }
            sources.insert(key, list);
        }
        let labels: BTreeMap<TypeKey, BTreeSet<String>> = sources
            .iter()
            .map(|(k, v)| (k.clone(), v.iter().map(|e| e.label.name.clone()).collect()))
            .collect();
        for (key, list) in sources {
            let mut built = Vec::new();
            for e in &list {
                match self.build_example(&key, e, &labels) {
                    Ok(ex) => built.push(ex),
                    Err((span, msg)) => self.diags.error(
                        span,
                        format!("example `{}` of `{}`: {msg}", e.label.name, key.name),
                    ),
                }
            }
            match self.types.get_mut(&key) {
                Some(UserType::Struct(s)) => s.examples = built,
                Some(UserType::Union(u)) => u.examples = built,
                _ => {}
            }
        }
    }

    fn build_example(
        &mut self,
        key: &TypeKey,
        e: &ast::Example,
        labels: &BTreeMap<TypeKey, BTreeSet<String>>,
    ) -> Checked<ir::Example> {
        let mut seen = BTreeSet::new();
        for (name, _) in &e.fields {
            if !seen.insert(&name.name) {
                return Err((name.span, format!("`{}` is given twice", name.name)));
            }
        }
        let fields = match self.types.get(key) {
            Some(UserType::Struct(s)) if s.subtypes.is_some() => {
                let entries = s
                    .subtypes
                    .as_ref()
                    .map(|x| x.entries.clone())
                    .unwrap_or_default();
                let [(tag, value)] = e.fields.as_slice() else {
                    return Err((
                        e.span,
                        "an example of a struct with enumerated subtypes has exactly one line, `tag = label`".into(),
                    ));
                };
                let Some((_, sub)) = entries.iter().find(|(t, _)| *t == tag.name) else {
                    return Err((
                        tag.span,
                        format!("`{}` is not a subtype tag of `{}`", tag.name, key.name),
                    ));
                };
                let v = self.example_ref(&DataType::Named(sub.clone()), value, labels)?;
                vec![(tag.name.clone(), v)]
            }
            Some(UserType::Struct(_)) => {
                let all: Vec<ir::Field> = self.all_fields_of(key).into_iter().cloned().collect();
                let mut out = Vec::new();
                for (name, value) in &e.fields {
                    let Some(f) = all.iter().find(|f| f.name == name.name) else {
                        return Err((
                            name.span,
                            format!("`{}` has no field `{}`", key.name, name.name),
                        ));
                    };
                    out.push((name.name.clone(), self.example_value(&f.ty, value, labels)?));
                }
                for f in &all {
                    let required = f.default.is_none()
                        && !matches!(unalias(&self.types, &f.ty), DataType::Nullable(_));
                    if required && !seen.contains(&f.name) {
                        return Err((e.span, format!("required field `{}` is missing", f.name)));
                    }
                }
                out
            }
            Some(UserType::Union(_)) => {
                let members: Vec<ir::Member> =
                    self.all_members_of(key).into_iter().cloned().collect();
                let [(tag, value)] = e.fields.as_slice() else {
                    return Err((e.span, "a union example sets exactly one member".into()));
                };
                let Some(m) = members.iter().find(|m| m.name == tag.name && !m.catch_all) else {
                    return Err((
                        tag.span,
                        format!("`{}` has no member `{}`", key.name, tag.name),
                    ));
                };
                let v = if m.ty == DataType::Void {
                    match value {
                        ast::ExampleValue::Literal(l) if l.kind == LiteralKind::Null => {
                            ExampleValue::Null
                        }
                        other => {
                            return Err((
                                other.span(),
                                format!("void member `{}` takes `null`", tag.name),
                            ));
                        }
                    }
                } else {
                    self.example_value(&m.ty, value, labels)?
                };
                vec![(tag.name.clone(), v)]
            }
            _ => {
                return Err((
                    e.span,
                    "examples are only allowed on structs and unions".into(),
                ));
            }
        };
        Ok(ir::Example {
            label: e.label.name.clone(),
            doc: e.doc.as_ref().map(|d| super::docs::unwrap_doc(&d.text)),
            fields,
            span: e.label.span,
        })
    }

    /// A reference to an example of a struct or union (or a void member of a union).
    fn example_ref(
        &mut self,
        ty: &DataType,
        value: &ast::ExampleValue,
        labels: &BTreeMap<TypeKey, BTreeSet<String>>,
    ) -> Checked<ExampleValue> {
        let DataType::Named(key) = unalias(&self.types, ty).clone() else {
            return Err((value.span(), "expected a label".into()));
        };
        let ast::ExampleValue::Ref(label) = value else {
            return Err((
                value.span(),
                format!(
                    "a value of type `{}` must be written as the label of one of its examples",
                    key.name
                ),
            ));
        };
        if labels.get(&key).is_some_and(|l| l.contains(&label.name)) {
            return Ok(ExampleValue::Ref {
                ty: key,
                label: label.name.clone(),
            });
        }
        if matches!(self.types.get(&key), Some(UserType::Union(_)))
            && self
                .all_members_of(&key)
                .iter()
                .any(|m| m.name == label.name && m.ty == DataType::Void)
        {
            return Ok(ExampleValue::VoidTag {
                ty: key,
                tag: label.name.clone(),
            });
        }
        Err((
            label.span,
            format!("`{}` has no example labelled `{}`", key.name, label.name),
        ))
    }

    fn example_value(
        &mut self,
        ty: &DataType,
        value: &ast::ExampleValue,
        labels: &BTreeMap<TypeKey, BTreeSet<String>>,
    ) -> Checked<ExampleValue> {
        let resolved = unalias(&self.types, ty).clone();
        match (&resolved, value) {
            (DataType::Nullable(_), ast::ExampleValue::Literal(l))
                if l.kind == LiteralKind::Null =>
            {
                Ok(ExampleValue::Null)
            }
            (DataType::Nullable(inner), v) => self.example_value(inner, v, labels),
            (DataType::Named(_), v) => self.example_ref(&resolved, v, labels),
            (
                DataType::List {
                    item,
                    min_items,
                    max_items,
                },
                ast::ExampleValue::List(items, span),
            ) => {
                let n = items.len() as u64;
                if min_items.is_some_and(|m| n < m) || max_items.is_some_and(|m| n > m) {
                    return Err((
                        *span,
                        format!("a list of {n} items breaks the list's length limits"),
                    ));
                }
                let mut out = Vec::new();
                for i in items {
                    out.push(self.example_value(item, i, labels)?);
                }
                Ok(ExampleValue::List(out))
            }
            (DataType::Map { value: vt, .. }, ast::ExampleValue::Map(pairs, _)) => {
                let mut out = Vec::new();
                for (k, v) in pairs {
                    let ast::ExampleValue::Literal(ast::Literal {
                        kind: LiteralKind::Str(k),
                        ..
                    }) = k
                    else {
                        return Err((k.span(), "map keys must be strings".into()));
                    };
                    out.push((k.clone(), self.example_value(vt, v, labels)?));
                }
                Ok(ExampleValue::Map(out))
            }
            (_, ast::ExampleValue::Literal(l)) => match self.check_literal(&resolved, &l.kind) {
                Ok(v) => Ok(match v {
                    ir::Value::Null => ExampleValue::Null,
                    ir::Value::Bool(b) => ExampleValue::Bool(b),
                    ir::Value::Int(i) => {
                        if matches!(resolved, DataType::Float { .. }) {
                            ExampleValue::Float(i as f64)
                        } else {
                            ExampleValue::Int(i)
                        }
                    }
                    ir::Value::Float(f) => ExampleValue::Float(f),
                    ir::Value::String(s) | ir::Value::Tag(s) => ExampleValue::String(s),
                }),
                Err(msg) => Err((l.span, msg)),
            },
            (_, ast::ExampleValue::Ref(i)) => Err((
                i.span,
                format!(
                    "`{}` is a label, but the type is {}",
                    i.name,
                    describe(&resolved)
                ),
            )),
            (_, other) => Err((
                other.span(),
                format!(
                    "{} is not a valid {}",
                    match other {
                        ast::ExampleValue::List(..) => "a list".to_string(),
                        ast::ExampleValue::Map(..) => "a map".to_string(),
                        ast::ExampleValue::Literal(l) => describe_literal(&l.kind),
                        ast::ExampleValue::Ref(i) => format!("label `{}`", i.name),
                    },
                    describe(&resolved)
                ),
            )),
        }
    }
}

/// Examples that (directly or not) include themselves cannot be rendered; report them.
///
/// Works on the graph of references between examples (strongly connected components), so
/// the cost stays linear however much the examples share: rendering them to find cycles
/// could take exponential time.
pub(super) fn check_example_cycles(api: &Api, diags: &mut Diagnostics) {
    let mut index: BTreeMap<(&TypeKey, &str), usize> = BTreeMap::new();
    let mut nodes: Vec<(&TypeKey, &ir::Example)> = Vec::new();
    for ty in api.types() {
        for e in ty.examples() {
            index.insert((ty.key(), e.label.as_str()), nodes.len());
            nodes.push((ty.key(), e));
        }
    }
    let edges: Vec<Vec<usize>> = nodes
        .iter()
        .map(|(_, e)| {
            let mut out = Vec::new();
            let mut stack: Vec<&ExampleValue> = e.fields.iter().map(|(_, v)| v).collect();
            while let Some(v) = stack.pop() {
                match v {
                    ExampleValue::Ref { ty, label } => {
                        if let Some(&i) = index.get(&(ty, label.as_str())) {
                            out.push(i);
                        }
                    }
                    ExampleValue::List(items) => stack.extend(items),
                    ExampleValue::Map(pairs) => stack.extend(pairs.iter().map(|(_, v)| v)),
                    _ => {}
                }
            }
            out
        })
        .collect();
    let component = strongly_connected(&edges);
    let mut size = vec![0usize; nodes.len()];
    for &c in &component {
        size[c] += 1;
    }
    for (i, (key, e)) in nodes.iter().enumerate() {
        let cyclic = size[component[i]] > 1 || edges[i].contains(&i);
        if !cyclic {
            continue;
        }
        // The shortest way back to this example, for the message.
        let mut parent: BTreeMap<usize, usize> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([i]);
        'search: while let Some(n) = queue.pop_front() {
            for &m in &edges[n] {
                if component[m] != component[i] || parent.contains_key(&m) {
                    continue;
                }
                parent.insert(m, n);
                if m == i {
                    break 'search;
                }
                queue.push_back(m);
            }
        }
        let mut path = vec![i];
        let mut cur = i;
        while let Some(&p) = parent.get(&cur) {
            if p == i || path.len() > nodes.len() {
                break;
            }
            path.push(p);
            cur = p;
        }
        path.push(i);
        path.reverse();
        let shown: Vec<String> = path
            .iter()
            .map(|&n| format!("{}:{}", nodes[n].0.name, nodes[n].1.label))
            .collect();
        diags.error(
            e.span,
            format!(
                "example `{}` of `{}` refers to itself: {}",
                e.label,
                key.name,
                shown.join(" -> ")
            ),
        );
    }
}

/// Kosaraju's algorithm without recursion: the component number of every node.
fn strongly_connected(edges: &[Vec<usize>]) -> Vec<usize> {
    let n = edges.len();
    let mut order = Vec::with_capacity(n);
    let mut visited = vec![false; n];
    for start in 0..n {
        if visited[start] {
            continue;
        }
        visited[start] = true;
        let mut stack = vec![(start, 0usize)];
        while let Some((node, next)) = stack.pop() {
            if let Some(&m) = edges[node].get(next) {
                stack.push((node, next + 1));
                if !visited[m] {
                    visited[m] = true;
                    stack.push((m, 0));
                }
            } else {
                order.push(node);
            }
        }
    }
    let mut reverse = vec![Vec::new(); n];
    for (from, tos) in edges.iter().enumerate() {
        for &to in tos {
            reverse[to].push(from);
        }
    }
    let mut component = vec![usize::MAX; n];
    let mut count = 0;
    for &start in order.iter().rev() {
        if component[start] != usize::MAX {
            continue;
        }
        component[start] = count;
        let mut stack = vec![start];
        while let Some(node) = stack.pop() {
            for &m in &reverse[node] {
                if component[m] == usize::MAX {
                    component[m] = count;
                    stack.push(m);
                }
            }
        }
        count += 1;
    }
    component
}
