//! Struct families: many structs of a namespace with the very same field list (the 631
//! `*Type` structs of `team_log` hold just a `description`) are emitted as one generic struct
//! and a type alias per struct of the spec.
//!
//! ```text
//! pub struct DescriptionType<K> { pub description: String, _member: PhantomData<fn() -> K> }
//! pub type AppLinkTeamType = DescriptionType<family::AppLinkTeamType>;
//! ```
//!
//! Every struct keeps its name, its docs, its constructor and setters, and stays a distinct
//! type (the marker `K` differs); `Debug` prints the struct's own name and decode errors name
//! it, through [`Member`](dropbox_api_runtime::__private::family::Member) on the marker. The compiler checks
//! the family's impls once instead of once per struct, which is most of the build time of
//! the full spec's `team_log`.

use std::collections::{BTreeMap, BTreeSet};

use heck::ToUpperCamelCase;
use proc_macro2::TokenStream;
use quote::quote;

use super::ModuleCx;
use super::names::{Names, ident};
use super::structs::StructParts;
use crate::ir::{Api, Struct, TypeKey, UserType};

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
}

/// The families of one namespace.
#[derive(Debug, Default)]
pub(crate) struct Families {
    families: Vec<Family>,
    by_member: BTreeMap<TypeKey, usize>,
}

impl Families {
    /// Finds the families of namespace `ns`: eligible structs grouped by field list, groups
    /// of at least [`MIN_FAMILY`].
    pub(crate) fn find(
        api: &Api,
        names: &Names,
        ns: &str,
        boxed: &BTreeSet<(TypeKey, String)>,
        sendable: &BTreeSet<TypeKey>,
    ) -> Families {
        let Some(namespace) = api.namespaces.get(ns) else {
            return Families::default();
        };
        let mut groups: BTreeMap<String, Vec<TypeKey>> = BTreeMap::new();
        let mut order: Vec<String> = Vec::new();
        for t in &namespace.types {
            let UserType::Struct(s) = t else { continue };
            if !eligible(s, boxed) {
                continue;
            }
            let key = field_list_key(s, sendable.contains(&s.key));
            let members = groups.entry(key.clone()).or_default();
            if members.is_empty() {
                order.push(key);
            }
            members.push(s.key.clone());
        }
        let mut taken: BTreeSet<String> =
            namespace.types.iter().map(|t| names.ty(t.key())).collect();
        let mut found = Families::default();
        for key in order {
            let Some(members) = groups.remove(&key) else {
                continue;
            };
            if members.len() < MIN_FAMILY {
                continue;
            }
            let Some(first) = api.struct_(&members[0]) else {
                continue;
            };
            let name = family_name(first, &members, &taken);
            taken.insert(name.clone());
            let index = found.families.len();
            for m in &members {
                found.by_member.insert(m.clone(), index);
            }
            found.families.push(Family { name, members });
        }
        found
    }

    /// The family a struct belongs to.
    pub(crate) fn family_of(&self, key: &TypeKey) -> Option<&Family> {
        self.by_member.get(key).map(|&i| &self.families[i])
    }

    /// Every family, in source order of their first members.
    pub(crate) fn families(&self) -> &[Family] {
        &self.families
    }
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

/// `{Fields}{Suffix}`: the field names in UpperCamelCase (`Empty` for none) and the last
/// word all members' names share (`Type`, `Details`), made unique in the namespace.
fn family_name(first: &Struct, members: &[TypeKey], taken: &BTreeSet<String>) -> String {
    let fields: String = if first.fields.is_empty() {
        "Empty".into()
    } else {
        first
            .fields
            .iter()
            .map(|f| f.name.to_upper_camel_case())
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
        let alias_item = quote! {
            #docs
            pub type #alias = #generic<family::#alias>;
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

    /// The generic struct of a family, from the field list of its first member.
    fn emit_family_struct(&self, first: &Struct, family: &Family) -> TokenStream {
        let name = ident(&family.name);
        let parts = self.struct_parts(first);
        let StructParts {
            decls,
            params,
            inits,
            setters,
            wire_names,
            encodes,
            slots,
            pattern,
            builds,
            field_idents,
            ..
        } = &parts;
        let doc = format!(
            " The field list of {} structs of the spec, each a type alias `{}<family::Name>` (the first is [`{}`]). The marker in [`family`] keeps the structs distinct types and gives `Debug` and decode errors the struct's own name.",
            family.members.len(),
            family.name,
            self.names.ty(&first.key),
        );
        let new_doc = parts.new_doc(&family.name);
        let default_impl = if params.is_empty() {
            quote! {
                impl<K> Default for #name<K> {
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
        quote! {
            #[doc = #doc]
            #[non_exhaustive]
            pub struct #name<K> {
                #decls
                _member: ::std::marker::PhantomData<fn() -> K>,
            }

            impl<K> #name<K> {
                #[doc = #new_doc]
                pub fn new(#(#params),*) -> Self {
                    #name { #(#inits,)* _member: ::std::marker::PhantomData }
                }
                #setters
            }

            #default_impl

            impl<K: rt::family::Member> ::std::fmt::Debug for #name<K> {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.debug_struct(K::NAME)
                        #(.field(#debug_names, &self.#field_idents))*
                        .finish()
                }
            }

            impl<K> Clone for #name<K> {
                fn clone(&self) -> Self {
                    #name { #(#field_idents: ::std::clone::Clone::clone(&self.#field_idents),)* _member: ::std::marker::PhantomData }
                }
            }

            impl<K> PartialEq for #name<K> {
                #eq
            }

            impl<K> ::serde::Serialize for #name<K> {
                fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    rt::wire::Encoder::new(serializer)
                        #(#encodes)*
                        .end()
                }
            }

            impl<'de, K: rt::family::Member> ::serde::Deserialize<'de> for #name<K> {
                fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    match rt::wire::decode_struct::<_, #slots>(
                        deserializer,
                        K::NAME,
                        &[#(#wire_names),*],
                    ) {
                        Ok(#pattern) => Ok(#name { #(#builds,)* _member: ::std::marker::PhantomData }),
                        Err(e) => Err(e),
                    }
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
