//! Resolver: from the syntax trees of all spec files to one [`Api`].
//!
//! Passes, in order: collect definitions per namespace and check names and imports
//! (`env`); resolve annotations (`annotations`); build types and check inheritance
//! (`types`); apply defaults (`values`); routes and their attributes (`routes`);
//! examples (`examples`); doc references (`docs`). Every pass records all the errors it
//! finds and carries on, so one run reports as much as possible.

mod annotations;
pub(crate) mod docs;
mod env;
mod examples;
mod routes;
mod types;
mod values;

use std::collections::BTreeMap;

use crate::diagnostics::Diagnostics;
use crate::ir::{self, Api, DataType, TypeKey, UserType};
use crate::source::{FileId, Span};
use crate::stone::ast::{self, SpecFile};

/// The name of the namespace that holds the route attribute schema.
pub const STONE_CFG: &str = "stone_cfg";

pub(crate) struct Resolver<'a> {
    pub(crate) diags: Diagnostics,
    envs: BTreeMap<String, env::NsEnv<'a>>,
    types: BTreeMap<TypeKey, UserType>,
    type_order: Vec<TypeKey>,
    /// `T?` written somewhere, with `T` (checked once aliases are known).
    nullable_sites: Vec<(Span, DataType)>,
    /// Map key types (must be strings).
    map_key_sites: Vec<(Span, DataType)>,
    /// Struct fields: their type and whether they have a default.
    struct_field_sites: Vec<(Span, DataType, bool)>,
    /// Field defaults, applied once union members are known.
    pending_defaults: Vec<(TypeKey, String, &'a ast::DefaultValue)>,
    annotation_classes: BTreeMap<(String, String), Option<annotations::AnnotationClass>>,
    route_schema: Option<ir::RouteSchema>,
    routes: BTreeMap<String, Vec<ir::Route>>,
    regex_cache: BTreeMap<String, Option<regex::Regex>>,
    /// Where the type of each enumerated subtype entry `(struct, tag)` is written.
    subtype_spans: BTreeMap<(TypeKey, String), Span>,
    /// Redactor uses `(span, annotated type, on an alias)`, checked once types are known.
    redactor_sites: Vec<(Span, DataType, bool)>,
    /// The docstring of each documented item, by the span the IR gives the item.
    doc_sites: BTreeMap<Span, &'a ast::Doc>,
}

/// Resolves parsed files into an [`Api`]. Returns the diagnostics alongside; the API is
/// only trustworthy when they are empty.
pub fn resolve(files: &[(FileId, SpecFile)]) -> (Api, Diagnostics) {
    let mut r = Resolver {
        diags: Diagnostics::new(),
        envs: BTreeMap::new(),
        types: BTreeMap::new(),
        type_order: Vec::new(),
        nullable_sites: Vec::new(),
        map_key_sites: Vec::new(),
        struct_field_sites: Vec::new(),
        pending_defaults: Vec::new(),
        annotation_classes: BTreeMap::new(),
        route_schema: None,
        routes: BTreeMap::new(),
        regex_cache: BTreeMap::new(),
        subtype_spans: BTreeMap::new(),
        redactor_sites: Vec::new(),
        doc_sites: BTreeMap::new(),
    };
    r.collect(files);
    r.resolve_annotation_defs();
    r.build_types();
    r.check_inheritance();
    r.check_type_sites();
    r.check_redactors();
    r.apply_defaults();
    r.build_route_schema();
    r.build_routes();
    r.build_examples();
    let api = r.assemble();
    let mut diags = r.diags;
    docs::check_doc_refs(&api, &r.doc_sites, &mut diags);
    examples::check_example_cycles(&api, &mut diags);
    (api, diags)
}

/// Follows aliases in a type map until the type is not an alias.
pub(crate) fn unalias<'b>(
    types: &'b BTreeMap<TypeKey, UserType>,
    ty: &'b DataType,
) -> &'b DataType {
    let mut ty = ty;
    for _ in 0..64 {
        match ty {
            DataType::Named(k) => match types.get(k) {
                Some(UserType::Alias(a)) => ty = &a.ty,
                _ => return ty,
            },
            _ => return ty,
        }
    }
    ty
}

impl<'a> Resolver<'a> {
    /// The normalised docstring of an item whose IR span is `owner`; remembers where the
    /// docstring is written, so that bad doc references can be reported there.
    fn doc_of(&mut self, owner: Span, doc: &'a Option<ast::Doc>) -> Option<String> {
        let doc = doc.as_ref()?;
        self.doc_sites.insert(owner, doc);
        Some(docs::unwrap_doc(&doc.text))
    }

    /// Every field of a struct in the type map, ancestors first.
    fn all_fields_of(&self, key: &TypeKey) -> Vec<&ir::Field> {
        let mut chain = Vec::new();
        let mut cur = Some(key);
        while let Some(k) = cur {
            match self.types.get(k) {
                Some(UserType::Struct(s))
                    if !chain.iter().any(|c: &&ir::Struct| c.key == s.key) =>
                {
                    chain.push(s);
                    cur = s.parent.as_ref();
                }
                _ => break,
            }
        }
        chain.iter().rev().flat_map(|s| s.fields.iter()).collect()
    }

    /// Every member of a union in the type map, ancestors first.
    fn all_members_of(&self, key: &TypeKey) -> Vec<&ir::Member> {
        let mut chain = Vec::new();
        let mut cur = Some(key);
        while let Some(k) = cur {
            match self.types.get(k) {
                Some(UserType::Union(u)) if !chain.iter().any(|c: &&ir::Union| c.key == u.key) => {
                    chain.push(u);
                    cur = u.parent.as_ref();
                }
                _ => break,
            }
        }
        chain.iter().rev().flat_map(|u| u.members.iter()).collect()
    }

    /// Moves everything into the final [`Api`].
    fn assemble(&mut self) -> Api {
        let mut api = Api {
            route_schema: self.route_schema.take(),
            ..Api::default()
        };
        for (name, env) in &self.envs {
            if name == STONE_CFG {
                continue;
            }
            let doc = if env.docs.is_empty() {
                None
            } else {
                Some(
                    env.docs
                        .iter()
                        .map(|d| format!("{}\n", docs::unwrap_doc(&d.text)))
                        .collect::<String>(),
                )
            };
            api.namespaces.insert(
                name.clone(),
                ir::Namespace {
                    name: name.clone(),
                    doc,
                    imports: env.imports.keys().cloned().collect(),
                    types: Vec::new(),
                    routes: self.routes.remove(name).unwrap_or_default(),
                },
            );
        }
        for key in std::mem::take(&mut self.type_order) {
            if let Some(ty) = self.types.remove(&key)
                && let Some(ns) = api.namespaces.get_mut(&key.namespace)
            {
                ns.types.push(ty);
            }
        }
        api.reindex();
        api
    }
}
