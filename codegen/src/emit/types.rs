//! How IR data types map to Rust types, which wire adapter each needs, and which
//! references must be boxed to break recursion.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::names::Names;
use crate::ir::{Api, DataType, FloatKind, IntKind, TypeKey, UserType};

/// Type mapping for one namespace module.
pub struct TypeMapper<'a> {
    pub(super) api: &'a Api,
    pub(super) names: &'a Names,
    /// The namespace being emitted.
    pub(super) ns: &'a str,
    /// Timestamp formats without a runtime marker, numbered in order of appearance.
    pub(super) formats: &'a BTreeMap<String, usize>,
}

impl TypeMapper<'_> {
    /// The Rust type of a data type.
    pub fn rust(&self, ty: &DataType) -> TokenStream {
        match ty {
            DataType::Void => quote!(()),
            DataType::Boolean => quote!(bool),
            DataType::Bytes => quote!(Vec<u8>),
            DataType::Int { kind, .. } => match kind {
                IntKind::Int32 => quote!(i32),
                IntKind::Int64 => quote!(i64),
                IntKind::UInt32 => quote!(u32),
                IntKind::UInt64 => quote!(u64),
            },
            DataType::Float { kind, .. } => match kind {
                FloatKind::Float32 => quote!(f32),
                FloatKind::Float64 => quote!(f64),
            },
            DataType::String(_) => quote!(rt::Str),
            DataType::Timestamp { .. } => quote!(rt::wire::Timestamp),
            DataType::List { item, .. } => {
                let item = self.rust(item);
                quote!(Vec<#item>)
            }
            DataType::Map { value, .. } => {
                let value = self.rust(value);
                quote!(::std::collections::BTreeMap<rt::Str, #value>)
            }
            DataType::Named(key) => self.names.path(key, self.ns),
            DataType::Nullable(inner) => {
                let inner = self.rust(inner);
                quote!(Option<#inner>)
            }
        }
    }

    /// The Rust type of a field or member, boxed when it closes a cycle.
    pub fn rust_boxed(&self, ty: &DataType, boxed: bool) -> TokenStream {
        if !boxed {
            return self.rust(ty);
        }
        match ty {
            DataType::Nullable(inner) => {
                let inner = self.rust(inner);
                quote!(Option<Box<#inner>>)
            }
            other => {
                let t = self.rust(other);
                quote!(Box<#t>)
            }
        }
    }

    /// Whether values of this type are written differently from their serde form
    /// (timestamps and bytes, at any depth, aliases followed).
    fn needs_adapter(&self, ty: &DataType) -> bool {
        match ty {
            DataType::Timestamp { .. } | DataType::Bytes => true,
            DataType::List { item, .. } => self.needs_adapter(item),
            DataType::Map { value, .. } => self.needs_adapter(value),
            DataType::Nullable(inner) => self.needs_adapter(inner),
            DataType::Named(key) => match self.api.get(key) {
                Some(UserType::Alias(a)) => self.needs_adapter(&a.ty),
                _ => false,
            },
            _ => false,
        }
    }

    /// The wire adapter for a data type (see `dropbox_api_runtime::__private::wire::Adapter`), or
    /// `None` when its serde form is its wire form.
    pub fn adapter_opt(&self, ty: &DataType) -> Option<TokenStream> {
        self.needs_adapter(ty).then(|| self.adapter(ty))
    }

    /// The wire adapter type for a data type (see `dropbox_api_runtime::__private::wire::Adapter`).
    pub fn adapter(&self, ty: &DataType) -> TokenStream {
        if !self.needs_adapter(ty) {
            return quote!(rt::wire::Plain);
        }
        match ty {
            DataType::Timestamp { format } => {
                let marker = self.format_marker(format);
                quote!(rt::wire::Ts<#marker>)
            }
            DataType::Bytes => quote!(rt::wire::Base64),
            DataType::List { item, .. } => {
                let a = self.adapter(item);
                quote!(rt::wire::VecOf<#a>)
            }
            DataType::Map { value, .. } => {
                let a = self.adapter(value);
                quote!(rt::wire::MapOf<#a>)
            }
            DataType::Nullable(inner) => {
                let a = self.adapter(inner);
                quote!(rt::wire::OptionOf<#a>)
            }
            DataType::Named(key) => match self.api.get(key) {
                Some(UserType::Alias(a)) => self.adapter(&a.ty),
                _ => quote!(rt::wire::Plain),
            },
            _ => quote!(rt::wire::Plain),
        }
    }

    /// The marker type naming a timestamp format.
    pub fn format_marker(&self, format: &str) -> TokenStream {
        match format {
            "%Y-%m-%dT%H:%M:%SZ" => quote!(rt::wire::DropboxTimestampFormat),
            "%Y-%m-%d" => quote!(rt::wire::DateFormat),
            other => {
                let n = self.formats.get(other).copied().unwrap_or(0);
                let id = format_ident!("TimestampFormat{}", n);
                quote!(#id)
            }
        }
    }

    /// Follows aliases.
    pub fn unalias<'t>(&'t self, ty: &'t DataType) -> &'t DataType {
        self.api.unalias(ty)
    }

    /// Whether a type is an ordinary struct (no enumerated subtypes), which a union member
    /// flattens beside `.tag`.
    pub fn flattened_struct(&self, ty: &DataType) -> Option<TypeKey> {
        match self.unalias(ty) {
            DataType::Named(k) => match self.api.get(k) {
                Some(UserType::Struct(s)) if s.subtypes.is_none() => Some(k.clone()),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Timestamp formats used in a namespace that have no runtime marker type.
pub fn custom_formats(api: &Api, ns: &str) -> BTreeMap<String, usize> {
    let mut found = BTreeSet::new();
    let mut visit = |ty: &DataType| collect_formats(ty, &mut found);
    if let Some(n) = api.namespaces.get(ns) {
        for t in &n.types {
            match t {
                UserType::Struct(s) => s.fields.iter().for_each(|f| visit(&f.ty)),
                UserType::Union(u) => u.members.iter().for_each(|m| visit(&m.ty)),
                UserType::Alias(a) => visit(&a.ty),
            }
        }
        for r in &n.routes {
            visit(&r.arg);
            visit(&r.result);
            visit(&r.error);
        }
    }
    // Formats reached through aliases of other namespaces are emitted here too.
    let mut all = BTreeSet::new();
    for t in api.types() {
        if let UserType::Alias(a) = t {
            collect_formats(&a.ty, &mut all);
        }
    }
    found.extend(all);
    found
        .into_iter()
        .filter(|f| f != "%Y-%m-%dT%H:%M:%SZ" && f != "%Y-%m-%d")
        .enumerate()
        .map(|(i, f)| (f, i))
        .collect()
}

fn collect_formats(ty: &DataType, out: &mut BTreeSet<String>) {
    match ty {
        DataType::Timestamp { format } => {
            out.insert(format.clone());
        }
        DataType::List { item, .. } => collect_formats(item, out),
        DataType::Map { value, .. } => collect_formats(value, out),
        DataType::Nullable(inner) => collect_formats(inner, out),
        _ => {}
    }
}

/// The edges `(type, field or member)` that must be boxed: those that embed a value of a
/// type in the same strongly connected component by value (not through a list or map).
pub fn boxed_edges(api: &Api) -> BTreeSet<(TypeKey, String)> {
    // Build the by-value graph.
    let mut graph: BTreeMap<TypeKey, Vec<(String, TypeKey)>> = BTreeMap::new();
    for t in api.types() {
        let mut edges = Vec::new();
        match t {
            UserType::Struct(s) => {
                for f in api.all_fields(s) {
                    if let Some(k) = by_value_target(api, &f.ty) {
                        edges.push((f.name.clone(), k));
                    }
                }
                if let Some(sub) = &s.subtypes {
                    for (tag, k) in &sub.entries {
                        edges.push((format!("#{tag}"), k.clone()));
                    }
                }
            }
            UserType::Union(u) => {
                for m in api.all_members(u) {
                    if let Some(k) = by_value_target(api, &m.ty) {
                        edges.push((m.name.clone(), k));
                    }
                }
            }
            UserType::Alias(_) => {}
        }
        graph.insert(t.key().clone(), edges);
    }
    let scc = tarjan(&graph);
    let mut out = BTreeSet::new();
    for (from, edges) in &graph {
        for (label, to) in edges {
            if scc.get(from) == scc.get(to) && scc.contains_key(from) {
                let self_loop = from == to;
                let cyclic = self_loop || scc_size(&scc, scc[from]) > 1;
                if cyclic {
                    out.insert((from.clone(), label.clone()));
                }
            }
        }
    }
    out
}

fn scc_size(scc: &BTreeMap<TypeKey, usize>, id: usize) -> usize {
    scc.values().filter(|v| **v == id).count()
}

/// The struct or union a field embeds by value, if any (aliases followed, `Option` is by
/// value, `Vec` and maps are not).
fn by_value_target(api: &Api, ty: &DataType) -> Option<TypeKey> {
    match ty {
        DataType::Nullable(inner) => by_value_target(api, inner),
        DataType::Named(k) => match api.get(k)? {
            UserType::Alias(a) => by_value_target(api, &a.ty),
            _ => Some(k.clone()),
        },
        _ => None,
    }
}

/// Tarjan's strongly connected components (iterative), as a map from node to component id.
fn tarjan(graph: &BTreeMap<TypeKey, Vec<(String, TypeKey)>>) -> BTreeMap<TypeKey, usize> {
    let keys: Vec<&TypeKey> = graph.keys().collect();
    let pos: BTreeMap<&TypeKey, usize> = keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    let n = keys.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut comp = vec![usize::MAX; n];
    let mut next_index = 0;
    let mut next_comp = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some((v, ei)) = work.pop() {
            if ei == 0 && index[v] == usize::MAX {
                index[v] = next_index;
                low[v] = next_index;
                next_index += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            let edges = &graph[keys[v]];
            if ei < edges.len() {
                work.push((v, ei + 1));
                let Some(&w) = pos.get(&edges[ei].1) else {
                    continue;
                };
                if index[w] == usize::MAX {
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                if low[v] == index[v] {
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        comp[w] = next_comp;
                        if w == v {
                            break;
                        }
                    }
                    next_comp += 1;
                }
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
            }
        }
    }
    keys.iter()
        .enumerate()
        .map(|(i, k)| ((*k).clone(), comp[i]))
        .collect()
}
