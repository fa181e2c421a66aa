//! Struct families: many structs of a namespace with the same field list (the 631 `*Type`
//! structs of `team_log` hold just a `description`; 99 of its `*Details` structs hold a
//! `new_value` and a `previous_value` of some policy type) are emitted as one generic struct
//! and a type alias per struct of the spec.
//!
//! ```text
//! pub struct DescriptionType<K> { pub description: String, _member: PhantomData<fn() -> K> }
//! pub type AppLinkTeamType = DescriptionType<family::AppLinkTeamType>;
//!
//! pub struct NewValuePreviousValueDetails<T, K> { pub new_value: T, pub previous_value: Option<T>, .. }
//! pub type AccountCaptureChangePolicyDetails =
//!     NewValuePreviousValueDetails<AccountCapturePolicy, family::AccountCaptureChangePolicyDetails>;
//! ```
//!
//! Structs whose fields are the same in everything but docs form an exact family; among the
//! rest, structs whose fields differ only in the types of fields that need no wire adapter
//! form a generic family, whose differing field types become type parameters (one parameter
//! per group of fields that have the same type in every member). Every struct keeps its name,
//! its docs (a generic family's alias also lists its fields' own docs), its constructor and
//! setters, and stays a distinct type (the marker `K` differs); `Debug` prints the struct's
//! own name and decode errors name it, through
//! [`Member`](dropbox_api_runtime::__private::family::Member) on the marker. The compiler
//! checks the family's impls once instead of once per struct, which is most of the build time
//! of the full spec's `team_log`.

use std::collections::{BTreeMap, BTreeSet};

use heck::ToUpperCamelCase;
use proc_macro2::TokenStream;
use quote::quote;

use super::ModuleCx;
use super::names::{Names, ident};
use super::structs::{FieldOverride, StructParts};
use super::types::TypeMapper;
use crate::ir::{Api, DataType, Field, Struct, TypeKey, UserType};

/// The fewest structs sharing a field list that become a family; smaller groups stay
/// ordinary structs, which read more simply.
pub(crate) const MIN_FAMILY: usize = 10;

/// Structs emitted as one generic struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Family {
    /// The generic struct's name.
    pub name: String,
    /// The structs, in source order.
    pub members: Vec<TypeKey>,
    /// The type parameters before the marker (none for an exact family), in field order.
    pub params: Vec<TypeParam>,
}

/// A type parameter of a generic family: the fields whose (inner) type it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TypeParam {
    /// `T`, or `T1`, `T2`, ... when there are several.
    pub name: String,
    /// The fields, in field order; in every member they have the same type.
    pub fields: Vec<String>,
}

/// The families of one namespace.
#[derive(Debug, Default)]
pub(crate) struct Families {
    families: Vec<Family>,
    by_member: BTreeMap<TypeKey, usize>,
}

impl Families {
    /// Finds the families of namespace `ns`: eligible structs grouped by field list, groups
    /// of at least [`MIN_FAMILY`]; then the remaining ones grouped by field list with the
    /// types of adapter-free fields left out.
    pub(crate) fn find(
        api: &Api,
        names: &Names,
        ns: &str,
        boxed: &BTreeSet<(TypeKey, String)>,
        sendable: &BTreeSet<TypeKey>,
        types: &TypeMapper<'_>,
    ) -> Families {
        let Some(namespace) = api.namespaces.get(ns) else {
            return Families::default();
        };
        let structs: Vec<&Struct> = namespace
            .types
            .iter()
            .filter_map(|t| match t {
                UserType::Struct(s) if eligible(s, boxed) => Some(s),
                _ => None,
            })
            .collect();
        let mut taken: BTreeSet<String> =
            namespace.types.iter().map(|t| names.ty(t.key())).collect();
        let mut found = Families::default();

        let exact = group(&structs, |s| {
            Some(field_list_key(s, sendable.contains(&s.key)))
        });
        for members in exact {
            found.add(api, members, None, &mut taken);
        }

        let rest: Vec<&Struct> = structs
            .into_iter()
            .filter(|s| !found.by_member.contains_key(&s.key) && !sendable.contains(&s.key))
            .collect();
        let shaped = group(&rest, |s| Some(shape_key(s, boxed, types)));
        for members in shaped {
            let Some(structs) = members
                .iter()
                .map(|k| api.struct_(k))
                .collect::<Option<Vec<_>>>()
            else {
                continue;
            };
            let params = type_params(&structs, boxed, types);
            found.add(api, members, Some(params), &mut taken);
        }
        found
    }

    fn add(
        &mut self,
        api: &Api,
        members: Vec<TypeKey>,
        generic: Option<Vec<TypeParam>>,
        taken: &mut BTreeSet<String>,
    ) {
        let params = generic.clone().unwrap_or_default();
        let generic = generic.is_some();
        let Some(first) = members.first().and_then(|k| api.struct_(k)) else {
            return;
        };
        let name = family_name(first, &members, generic, taken);
        taken.insert(name.clone());
        let index = self.families.len();
        for m in &members {
            self.by_member.insert(m.clone(), index);
        }
        self.families.push(Family {
            name,
            members,
            params,
        });
    }

    /// The family a struct belongs to.
    pub(crate) fn family_of(&self, key: &TypeKey) -> Option<&Family> {
        self.by_member.get(key).map(|&i| &self.families[i])
    }

    /// Every family, in the order found (exact families first), each in source order.
    pub(crate) fn families(&self) -> &[Family] {
        &self.families
    }
}

/// The groups of at least [`MIN_FAMILY`] structs with the same key (structs without a key
/// join none), in source order of their first members.
fn group(structs: &[&Struct], key: impl Fn(&Struct) -> Option<String>) -> Vec<Vec<TypeKey>> {
    let mut groups: BTreeMap<String, Vec<TypeKey>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for s in structs {
        let Some(k) = key(s) else { continue };
        let members = groups.entry(k.clone()).or_default();
        if members.is_empty() {
            order.push(k);
        }
        members.push(s.key.clone());
    }
    order
        .into_iter()
        .filter_map(|k| groups.remove(&k))
        .filter(|members| members.len() >= MIN_FAMILY)
        .collect()
}

/// A struct can join a family when nothing in its code depends on its own identity: no
/// inheritance either way, no boxed (recursive) field, no doc reference to its own fields.
fn eligible(s: &Struct, boxed: &BTreeSet<(TypeKey, String)>) -> bool {
    s.parent.is_none()
        && s.subtypes.is_none()
        && s.fields.iter().all(|f| {
            !boxed.contains(&(s.key.clone(), f.name.clone()))
                && !f.doc.as_deref().unwrap_or("").contains(":field:")
        })
}

/// Everything about a struct's fields that reaches the emitted code, as one string.
fn field_list_key(s: &Struct, sendable: bool) -> String {
    let fields: Vec<_> = s
        .fields
        .iter()
        .map(|f| (&f.name, &f.ty, &f.default, &f.doc, &f.annotations))
        .collect();
    format!("{sendable:?} {fields:?}")
}

/// The type a field of a generic family may leave to a type parameter: the field's type, or
/// the inner type of a `T?` field, when it is written as its serde form (no wire adapter), is
/// not a string (whose constructor takes `impl Into<Str>`) and the field has no default.
fn parameter_type<'a>(
    s: &Struct,
    f: &'a Field,
    boxed: &BTreeSet<(TypeKey, String)>,
    types: &TypeMapper<'_>,
) -> Option<&'a DataType> {
    if f.default.is_some() || boxed.contains(&(s.key.clone(), f.name.clone())) {
        return None;
    }
    let inner = match &f.ty {
        DataType::Nullable(inner) => inner.as_ref(),
        other if types.api.is_nullable(other) => return None,
        other => other,
    };
    let plain = !matches!(
        types.api.unalias(inner),
        DataType::String(_) | DataType::Void | DataType::Nullable(_)
    ) && types.adapter_opt(inner).is_none();
    plain.then_some(inner)
}

/// A struct's field list with the types that may become type parameters left out, and
/// without docs.
fn shape_key(s: &Struct, boxed: &BTreeSet<(TypeKey, String)>, types: &TypeMapper<'_>) -> String {
    let fields: Vec<String> = s
        .fields
        .iter()
        .map(|f| {
            let nullable = matches!(f.ty, DataType::Nullable(_));
            match parameter_type(s, f, boxed, types) {
                Some(_) => format!("{} {nullable} * {:?}", f.name, f.annotations),
                None => format!("{} {:?} {:?} {:?}", f.name, f.ty, f.default, f.annotations),
            }
        })
        .collect();
    format!("{fields:?}")
}

/// The type parameters of a generic family: its parameter-capable fields whose type differs
/// between members, one parameter for each group of fields that have the same type in every
/// member.
fn type_params(
    members: &[&Struct],
    boxed: &BTreeSet<(TypeKey, String)>,
    types: &TypeMapper<'_>,
) -> Vec<TypeParam> {
    let Some(first) = members.first() else {
        return Vec::new();
    };
    // Per field (by position: members share the field list), its type in every member.
    let column = |i: usize| -> Option<Vec<&DataType>> {
        members
            .iter()
            .map(|s| parameter_type(s, s.fields.get(i)?, boxed, types))
            .collect()
    };
    let mut groups: Vec<(Vec<&DataType>, Vec<String>)> = Vec::new();
    for (i, f) in first.fields.iter().enumerate() {
        let Some(col) = column(i) else { continue };
        if col.iter().all(|t| *t == col[0]) {
            continue;
        }
        match groups.iter_mut().find(|(c, _)| *c == col) {
            Some((_, fields)) => fields.push(f.name.clone()),
            None => groups.push((col, vec![f.name.clone()])),
        }
    }
    let many = groups.len() > 1;
    groups
        .into_iter()
        .enumerate()
        .map(|(i, (_, fields))| TypeParam {
            name: if many {
                format!("T{}", i + 1)
            } else {
                "T".into()
            },
            fields,
        })
        .collect()
}

/// `{Fields}{Suffix}`: the field names in UpperCamelCase (`Empty` for none) and the last
/// word all members' names share (`Type`, `Details`), made unique in the namespace. In a
/// generic family's name an optional field reads `Maybe{Field}`, since members may differ
/// from another family only in that (`NewValueMaybePreviousValueDetails<T, K>`).
fn family_name(
    first: &Struct,
    members: &[TypeKey],
    generic: bool,
    taken: &BTreeSet<String>,
) -> String {
    let fields: String = if first.fields.is_empty() {
        "Empty".into()
    } else {
        first
            .fields
            .iter()
            .map(|f| {
                let name = f.name.to_upper_camel_case();
                if generic && matches!(f.ty, DataType::Nullable(_)) {
                    format!("Maybe{name}")
                } else {
                    name
                }
            })
            .collect()
    };
    let suffix = common_last_word(members).unwrap_or_else(|| "Fields".into());
    let base = format!("{fields}{suffix}");
    if !taken.contains(&base) {
        return base;
    }
    let fallback = format!("{base}Family");
    let mut candidate = fallback.clone();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{fallback}{n}");
        n += 1;
    }
    candidate
}

/// The last UpperCamelCase word of every member's name, when they all end in the same one.
fn common_last_word(members: &[TypeKey]) -> Option<String> {
    let last = |name: &str| -> String {
        let start = name
            .char_indices()
            .filter(|(_, c)| c.is_ascii_uppercase())
            .map(|(i, _)| i)
            .next_back()
            .unwrap_or(0);
        name[start..].to_string()
    };
    let word = last(&members.first()?.name);
    (!word.is_empty() && members.iter().all(|m| last(&m.name) == word)).then_some(word)
}

impl ModuleCx<'_> {
    /// Emits a struct of a family: its type alias, preceded by the family's generic struct
    /// when it is the first member.
    pub(super) fn emit_family_member(&self, s: &Struct, family: &Family) -> TokenStream {
        let alias = ident(&self.names.ty(&s.key));
        let generic = ident(&family.name);
        let docs = self.struct_docs(s);
        let field_docs = if family.params.is_empty() {
            TokenStream::new()
        } else {
            self.member_field_docs(s)
        };
        // The member's own type for each parameter (the inner type of a `T?` field).
        let args = family.params.iter().map(|p| {
            let ty = s
                .fields
                .iter()
                .find(|f| p.fields.first() == Some(&f.name))
                .map(|f| match &f.ty {
                    DataType::Nullable(inner) => self.types.rust(inner),
                    other => self.types.rust(other),
                })
                .unwrap_or_else(|| quote!(()));
            quote!(#ty,)
        });
        let alias_item = quote! {
            #docs
            #field_docs
            pub type #alias = #generic<#(#args)* family::#alias>;
        };
        if family.members.first() == Some(&s.key) {
            let generic = self.emit_family_struct(s, family);
            quote! {
                #generic
                #alias_item
            }
        } else {
            alias_item
        }
    }

    /// A `# Fields` section for the alias of a generic family's member: each field's own docs
    /// (the generic struct's field docs are the same for every member).
    fn member_field_docs(&self, s: &Struct) -> TokenStream {
        let mut text = String::from("\n# Fields\n");
        for f in &s.fields {
            let doc = match f.doc.as_deref() {
                Some(d) if !d.trim().is_empty() => super::docs::render(
                    self.api,
                    &self.names,
                    d,
                    super::docs::DocContext {
                        ns: self.ns,
                        ty: Some(&s.key),
                        in_scope: true,
                    },
                ),
                _ => String::new(),
            };
            // Continuation lines of a list item are indented.
            let doc = doc
                .lines()
                .map(|l| {
                    if l.is_empty() {
                        String::new()
                    } else {
                        format!("  {l}")
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            text.push_str(&format!(
                "\n- `{}` (`{}`):\n{doc}",
                f.name,
                super::docs::stone_type(&f.ty)
            ));
        }
        super::docs::attrs(&text)
    }

    /// The generic struct of a family, from the field list of its first member.
    fn emit_family_struct(&self, first: &Struct, family: &Family) -> TokenStream {
        let name = ident(&family.name);
        let members: Vec<&Struct> = family
            .members
            .iter()
            .filter_map(|k| self.api.struct_(k))
            .collect();
        // Fields standing for a parameter, and fields whose docs differ between members, get
        // docs that hold for every member.
        let mut overrides: BTreeMap<String, FieldOverride> = BTreeMap::new();
        for p in &family.params {
            for f in &p.fields {
                overrides.insert(
                    f.clone(),
                    FieldOverride {
                        param: Some(ident(&p.name)),
                        doc: None,
                    },
                );
            }
        }
        for (i, f) in first.fields.iter().enumerate() {
            let same_doc = members
                .iter()
                .all(|m| m.fields.get(i).map(|g| &g.doc) == Some(&f.doc));
            if !same_doc || overrides.contains_key(&f.name) {
                let doc = match overrides.get(&f.name).and_then(|o| o.param.as_ref()) {
                    Some(p) => format!(
                        "The `{}` field, of type `{p}`: what it holds is in the docs of each type alias.",
                        f.name
                    ),
                    None => format!(
                        "The `{}` field: what it holds is in the docs of each type alias.",
                        f.name
                    ),
                };
                overrides.entry(f.name.clone()).or_default().doc = Some(doc);
            }
        }
        let parts = self.struct_parts_with(first, &overrides);
        let StructParts {
            decls,
            params,
            inits,
            setters,
            encodes,
            builds,
            field_idents,
            ..
        } = &parts;
        let decode = parts.decode(
            quote!(K::NAME),
            quote!(#name { #(#builds,)* _member: ::std::marker::PhantomData }),
        );
        let type_params: Vec<proc_macro2::Ident> =
            family.params.iter().map(|p| ident(&p.name)).collect();
        let doc = if type_params.is_empty() {
            format!(
                " The field list of {} structs of the spec, each a type alias `{}<family::Name>` (the first is [`{}`]). The marker in [`family`] keeps the structs distinct types and gives `Debug` and decode errors the struct's own name.",
                family.members.len(),
                family.name,
                self.names.ty(&first.key),
            )
        } else {
            let list = family
                .params
                .iter()
                .map(|p| {
                    let fields: Vec<String> = p.fields.iter().map(|f| format!("`{f}`")).collect();
                    format!("`{}` ({})", p.name, fields.join(", "))
                })
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                " The field list of {} structs of the spec that differ only in the types of some fields: each is a type alias `{}<{}, family::Name>` (the first is [`{}`]), the types its own. Type parameters: {list}. The marker in [`family`] keeps the structs distinct types and gives `Debug` and decode errors the struct's own name.",
                family.members.len(),
                family.name,
                type_params
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                self.names.ty(&first.key),
            )
        };
        let new_doc = parts.new_doc(&family.name);
        let default_impl = if params.is_empty() {
            quote! {
                impl<#(#type_params,)* K> Default for #name<#(#type_params,)* K> {
                    fn default() -> Self {
                        Self::new()
                    }
                }
            }
        } else {
            TokenStream::new()
        };
        let debug_names: Vec<String> = field_idents
            .iter()
            .map(|i| i.to_string().trim_start_matches("r#").to_string())
            .collect();
        let eq = if field_idents.is_empty() {
            quote! {
                fn eq(&self, _other: &Self) -> bool {
                    true
                }
            }
        } else {
            quote! {
                fn eq(&self, other: &Self) -> bool {
                    #(self.#field_idents == other.#field_idents)&&*
                }
            }
        };
        let validate_impl = if self.sendable.contains(&first.key) {
            let body = parts.validate_body();
            quote! {
                impl<K> rt::validate::Validate for #name<K> {
                    fn validate(&self) -> Result<(), rt::validate::ValidationError> {
                        #body
                    }
                }
            }
        } else {
            TokenStream::new()
        };
        let t = &type_params;
        quote! {
            #[doc = #doc]
            #[non_exhaustive]
            pub struct #name<#(#t,)* K> {
                #decls
                _member: ::std::marker::PhantomData<fn() -> K>,
            }

            impl<#(#t,)* K> #name<#(#t,)* K> {
                #[doc = #new_doc]
                pub fn new(#(#params),*) -> Self {
                    #name { #(#inits,)* _member: ::std::marker::PhantomData }
                }
                #setters
            }

            #default_impl

            impl<#(#t: ::std::fmt::Debug,)* K: rt::family::Member> ::std::fmt::Debug for #name<#(#t,)* K> {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.debug_struct(K::NAME)
                        #(.field(#debug_names, &self.#field_idents))*
                        .finish()
                }
            }

            impl<#(#t: Clone,)* K> Clone for #name<#(#t,)* K> {
                fn clone(&self) -> Self {
                    #name { #(#field_idents: ::std::clone::Clone::clone(&self.#field_idents),)* _member: ::std::marker::PhantomData }
                }
            }

            impl<#(#t: PartialEq,)* K> PartialEq for #name<#(#t,)* K> {
                #eq
            }

            impl<#(#t: rt::wire::Wire,)* K: rt::family::Member> rt::wire::Record for #name<#(#t,)* K> {
                #decode

                fn encode_fields<F: rt::wire::FieldSink>(&self, out: F) -> F {
                    out #(#encodes)*
                }
            }

            impl<#(#t: rt::wire::Wire,)* K: rt::family::Member> ::serde::Serialize for #name<#(#t,)* K> {
                fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    rt::wire::serialize_record(self, serializer)
                }
            }

            impl<'de, #(#t: rt::wire::Wire,)* K: rt::family::Member> ::serde::Deserialize<'de> for #name<#(#t,)* K> {
                fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    rt::wire::deserialize_record(deserializer)
                }
            }

            #validate_impl
        }
    }

    /// The `family` module: one marker per struct of a family (empty when there is none).
    pub(super) fn emit_family_markers(&self) -> TokenStream {
        let mut markers = TokenStream::new();
        for family in self.families.families() {
            for key in &family.members {
                let name = self.names.ty(key);
                let id = ident(&name);
                let doc = format!(" Marks [`{name}`](super::{name}).");
                markers.extend(quote! {
                    #[doc = #doc]
                    pub enum #id {}

                    impl super::rt::family::Member for #id {
                        const NAME: &'static str = #name;
                    }
                });
            }
        }
        if markers.is_empty() {
            return markers;
        }
        quote! {
            /// Markers that tell apart the structs of a family (structs sharing one field
            /// list, emitted as one generic struct).
            pub mod family {
                #markers
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{CrateCx, SerdeStyle, types};
    use super::*;

    /// The families of namespace `t` of a spec.
    fn families(spec: &str) -> Vec<Family> {
        let api = crate::load_str(&[("t.stone", spec)]).unwrap();
        let krate = CrateCx::new(&api, SerdeStyle::default()).unwrap();
        let formats = types::custom_formats(&api, "t");
        let types = TypeMapper {
            api: &api,
            names: &krate.names,
            ns: "t",
            formats: &formats,
        };
        Families::find(
            &api,
            &krate.names,
            "t",
            &krate.boxed,
            &krate.sendable,
            &types,
        )
        .families
    }

    /// `n` structs `S0Details` ... with the fields `body` writes for member `i`.
    fn spec(n: usize, body: impl Fn(usize) -> String) -> String {
        let mut out = String::from("namespace t\n\n");
        for i in 0..n {
            out.push_str(&format!("union U{i}\n    a\n    b\n\n"));
        }
        for i in 0..n {
            out.push_str(&format!("struct S{i}Details\n{}\n", body(i)));
        }
        out
    }

    fn param(name: &str, fields: &[&str]) -> TypeParam {
        TypeParam {
            name: name.into(),
            fields: fields.iter().map(|f| f.to_string()).collect(),
        }
    }

    #[test]
    fn fields_of_the_same_type_in_every_member_share_one_parameter() {
        let found = families(&spec(10, |i| {
            format!(
                "    new_value U{i}\n    previous_value U{i}?\n    reason U{}\n    count UInt64\n",
                (i + 1) % 10
            )
        }));
        assert_eq!(found.len(), 1, "{found:?}");
        let f = &found[0];
        assert_eq!(f.name, "NewValueMaybePreviousValueReasonCountDetails");
        assert_eq!(f.members.len(), 10);
        // `count` is a UInt64 in every member: it stays concrete.
        assert_eq!(
            f.params,
            [
                param("T1", &["new_value", "previous_value"]),
                param("T2", &["reason"])
            ]
        );
    }

    #[test]
    fn structs_whose_fields_differ_only_in_docs_form_a_family_without_parameters() {
        let found = families(&spec(10, |i| {
            format!("    event_uuid String\n        \"Event {i}.\"\n    kind U0\n")
        }));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].name, "EventUuidKindDetails");
        assert!(found[0].params.is_empty());
    }

    #[test]
    fn strings_timestamps_and_defaults_never_become_parameters() {
        // Each member differs from the others only in a field that cannot be a parameter,
        // so no two members share a shape: no family at all.
        for body in [
            |i: usize| format!("    new_value String(max_length={})\n", i + 1),
            |i: usize| format!("    when Timestamp(\"%Y-%m-%d %H:{i}\")\n"),
            |i: usize| format!("    count UInt64 = {i}\n"),
        ] {
            let found = families(&spec(10, body));
            assert!(found.is_empty(), "{found:?}");
        }
    }

    #[test]
    fn too_few_members_make_no_family() {
        let found = families(&spec(MIN_FAMILY - 1, |i| format!("    new_value U{i}\n")));
        assert!(found.is_empty(), "{found:?}");
        let found = families(&spec(MIN_FAMILY, |i| format!("    new_value U{i}\n")));
        assert_eq!(found[0].name, "NewValueDetails");
        assert_eq!(found[0].params, [param("T", &["new_value"])]);
    }
}
