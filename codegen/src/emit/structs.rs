//! Structs: the type, its constructor and setters, its wire format and its validation.
//! A struct with enumerated subtypes becomes an enum over its subtypes (see [`polymorphic`]).

use std::collections::BTreeMap;

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::names::{field_name, ident, variant_name};
use super::validate::{checks, float_literal, int_literal};
use super::{ModuleCx, docs};
use crate::ir::{DataType, Struct, Value};

/// How a generic family's struct changes a field of its first member (see
/// [`super::families`]).
#[derive(Debug, Default)]
pub(super) struct FieldOverride {
    /// The type parameter the field's type (the inner type of a `T?` field) becomes.
    pub param: Option<Ident>,
    /// Docs in place of the field's own.
    pub doc: Option<String>,
}

/// The pieces of an ordinary struct's code, built from its fields; shared by a single
/// struct and by a family emitted as one generic struct (see [`super::families`]).
pub(super) struct StructParts {
    /// Field declarations (with docs and attributes).
    pub decls: TokenStream,
    /// Constructor parameters (the required fields).
    pub params: Vec<TokenStream>,
    /// Constructor field initialisers.
    pub inits: Vec<TokenStream>,
    /// `with_*` setters.
    pub setters: TokenStream,
    /// Wire names in field order.
    pub wire_names: Vec<String>,
    /// One `Encoder` call per field.
    pub encodes: Vec<TokenStream>,
    /// The nested tuple of decoding slots.
    pub slots: TokenStream,
    /// The nested tuple pattern binding the decoded values.
    pub pattern: TokenStream,
    /// `field: value` for the struct literal after decoding.
    pub builds: Vec<TokenStream>,
    /// Validation statements (empty when nothing is checked).
    pub validations: TokenStream,
    /// Rust field names, for hand-written `Debug`, `Clone` and `PartialEq`.
    pub field_idents: Vec<proc_macro2::Ident>,
}

impl StructParts {
    /// The `decode` of `rt::wire::Record`: one `Source::read` naming the slot types, the
    /// struct's name (`name`, an expression) and its fields' wire names, then the struct
    /// literal `make`; a `match` rather than `?`, which costs the type checker a `From`
    /// conversion per use.
    pub fn decode(&self, name: TokenStream, make: TokenStream) -> TokenStream {
        let StructParts {
            slots,
            pattern,
            wire_names,
            ..
        } = self;
        quote! {
            fn decode<S: rt::wire::Source>(source: S) -> Result<Self, S::Error> {
                match source.read::<#slots>(#name, &[#(#wire_names),*]) {
                    Ok(#pattern) => Ok(#make),
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// The doc of `new`.
    pub fn new_doc(&self, type_name: &str) -> String {
        if self.params.is_empty() {
            format!(" Creates a `{type_name}` with every field at its default.")
        } else {
            format!(
                " A new `{type_name}` from its required fields; optional fields start unset and defaulted ones at their defaults."
            )
        }
    }

    /// The body of `Validate::validate`.
    pub fn validate_body(&self) -> TokenStream {
        let validations = &self.validations;
        if validations.is_empty() {
            quote!(Ok(()))
        } else {
            quote! {
                #validations
                Ok(())
            }
        }
    }
}

impl ModuleCx<'_> {
    /// Emits an ordinary struct.
    pub(super) fn emit_struct(&self, s: &Struct) -> TokenStream {
        if s.subtypes.is_some() {
            return self.polymorphic(s);
        }
        if let Some(family) = self.families.family_of(&s.key) {
            return self.emit_family_member(s, family);
        }
        let name = ident(&self.names.ty(&s.key));
        let type_name = self.names.ty(&s.key);
        let docs = self.struct_docs(s);
        let parts = self.struct_parts(s);
        let StructParts {
            decls,
            params,
            inits,
            setters,
            encodes,
            builds,
            ..
        } = &parts;
        let new_doc = parts.new_doc(&type_name);
        let decode = parts.decode(quote!(#type_name), quote!(#name { #(#builds),* }));
        let default_impl = if params.is_empty() {
            quote! {
                impl Default for #name {
                    fn default() -> Self {
                        Self::new()
                    }
                }
            }
        } else {
            TokenStream::new()
        };
        let parent_from = self.struct_upcast(s);
        let validate_impl = if self.sendable.contains(&s.key) {
            let body = parts.validate_body();
            quote! {
                impl rt::validate::Validate for #name {
                    fn validate(&self) -> Result<(), rt::validate::ValidationError> {
                        #body
                    }
                }
            }
        } else {
            TokenStream::new()
        };
        let record = quote! {
            impl rt::wire::Record for #name {
                #decode

                fn encode_fields<F: rt::wire::FieldSink>(&self, out: F) -> F {
                    out #(#encodes)*
                }
            }
        };
        let (derives, serde_impls) = if self.serde_derive {
            (
                quote!(#[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize)]),
                self.derive_defaults(s),
            )
        } else {
            (
                quote!(#[derive(Debug, Clone, PartialEq)]),
                quote! {
                    impl ::serde::Serialize for #name {
                        fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                            rt::wire::serialize_record(self, serializer)
                        }
                    }

                    impl<'de> ::serde::Deserialize<'de> for #name {
                        fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                            rt::wire::deserialize_record(deserializer)
                        }
                    }
                },
            )
        };
        quote! {
            #docs
            #derives
            #[non_exhaustive]
            pub struct #name {
                #decls
            }

            impl #name {
                #[doc = #new_doc]
                pub fn new(#(#params),*) -> Self {
                    #name { #(#inits),* }
                }
                #setters
            }

            #default_impl
            #parent_from

            #record

            #serde_impls

            #validate_impl
        }
    }

    /// A struct's docs: the spec's docstring, then the Stone name.
    pub(super) fn struct_docs(&self, s: &Struct) -> TokenStream {
        let docs = self.docs(s.doc.as_deref(), Some(&s.key));
        let stone_doc = format!(" Stone struct `{}.{}`.", s.key.namespace, s.key.name);
        if docs.is_empty() {
            quote!(#[doc = #stone_doc])
        } else {
            quote! {
                #docs
                #[doc = ""]
                #[doc = #stone_doc]
            }
        }
    }

    /// Builds the per-field pieces of an ordinary struct.
    pub(super) fn struct_parts(&self, s: &Struct) -> StructParts {
        self.struct_parts_with(s, &BTreeMap::new())
    }

    /// Builds the per-field pieces with some fields changed (a generic family's struct).
    pub(super) fn struct_parts_with(
        &self,
        s: &Struct,
        overrides: &BTreeMap<String, FieldOverride>,
    ) -> StructParts {
        let fields = self.api.all_fields(s);
        let mut decls = TokenStream::new();
        let mut params = Vec::new();
        let mut inits = Vec::new();
        let mut setters = TokenStream::new();
        let mut wire_names = Vec::new();
        let mut encodes = Vec::new();
        let mut slots = Vec::new();
        let mut locals = Vec::new();
        let mut builds = Vec::new();
        let mut validations = TokenStream::new();
        let mut field_idents = Vec::new();

        for f in fields.iter() {
            let fname = ident(&field_name(&f.name));
            field_idents.push(fname.clone());
            let wire = f.name.as_str();
            let boxed = self.boxed.contains(&(s.key.clone(), f.name.clone()));
            let over = overrides.get(&f.name);
            // A generic family's type parameter, standing for the type (or the inner type of a
            // `T?` field), which needs no adapter and is not a string.
            let param = over.and_then(|o| o.param.as_ref());
            let nullable = matches!(f.ty, DataType::Nullable(_)) || self.api.is_nullable(&f.ty);
            let ty = match param {
                Some(p) if nullable => quote!(Option<#p>),
                Some(p) => quote!(#p),
                None => self.types.rust_boxed(&f.ty, boxed),
            };
            let fdocs = match over.and_then(|o| o.doc.as_deref()) {
                Some(doc) => docs::attrs(doc),
                None => self.docs_or(f.doc.as_deref(), Some(&s.key), || {
                    format!("The `{wire}` field: `{}`.", docs::stone_type(&f.ty))
                }),
            };
            let deprecated = if f.annotations.deprecated {
                quote!(#[deprecated])
            } else {
                TokenStream::new()
            };
            let serde_attrs = if self.serde_derive {
                self.derive_field_attrs(s, f, nullable, boxed)
            } else {
                TokenStream::new()
            };
            decls.extend(quote! {
                #fdocs
                #deprecated
                #serde_attrs
                pub #fname: #ty,
            });

            // Constructor and setters.
            let is_string =
                param.is_none() && matches!(self.api.unalias(&f.ty), DataType::String(_));
            let setter = ident(&format!("with_{}", field_name(&f.name)));
            let setter_doc = format!(" Sets `{wire}`.");
            if nullable {
                let inner_dt = match self.api.unalias(&f.ty) {
                    DataType::Nullable(i) => i.as_ref().clone(),
                    other => other.clone(),
                };
                let inner = match param {
                    Some(p) => quote!(#p),
                    None => self.types.rust(&inner_dt),
                };
                let inner_is_string =
                    param.is_none() && matches!(self.api.unalias(&inner_dt), DataType::String(_));
                let wrap = if boxed {
                    quote!(Some(Box::new(value)))
                } else {
                    quote!(Some(value))
                };
                let (param, conv) = if inner_is_string {
                    (
                        quote!(impl Into<rt::Str>),
                        quote!(let value = value.into();),
                    )
                } else {
                    (inner, TokenStream::new())
                };
                setters.extend(quote! {
                    #[doc = #setter_doc]
                    pub fn #setter(mut self, value: #param) -> Self {
                        #conv
                        self.#fname = #wrap;
                        self
                    }
                });
                inits.push(quote!(#fname: None));
            } else if let Some(default) = &f.default {
                let expr = self.default_expr(&f.ty, default);
                let value = if boxed { quote!(Box::new(#expr)) } else { expr };
                inits.push(quote!(#fname: #value));
                let plain = self.types.rust(&f.ty);
                let (param, conv) = if is_string {
                    (quote!(impl Into<rt::Str>), quote!(value.into()))
                } else {
                    (plain, quote!(value))
                };
                let conv = if boxed { quote!(Box::new(#conv)) } else { conv };
                setters.extend(quote! {
                    #[doc = #setter_doc]
                    pub fn #setter(mut self, value: #param) -> Self {
                        self.#fname = #conv;
                        self
                    }
                });
            } else {
                let plain = match param {
                    Some(p) => quote!(#p),
                    None => self.types.rust(&f.ty),
                };
                if is_string {
                    params.push(quote!(#fname: impl Into<rt::Str>));
                    inits.push(quote!(#fname: #fname.into()));
                } else if boxed {
                    params.push(quote!(#fname: #plain));
                    inits.push(quote!(#fname: Box::new(#fname)));
                } else {
                    params.push(quote!(#fname: #plain));
                    inits.push(quote!(#fname));
                }
            }

            // Wire format: one encoder call and one decoding slot per field.
            wire_names.push(wire.to_string());
            let local = quote::format_ident!("value_{}", field_name(&f.name));
            if nullable {
                let inner_dt = match self.api.unalias(&f.ty) {
                    DataType::Nullable(i) => i.as_ref().clone(),
                    other => other.clone(),
                };
                let inner = match param {
                    Some(p) => quote!(#p),
                    None if boxed => {
                        let t = self.types.rust(&inner_dt);
                        quote!(Box<#t>)
                    }
                    None => self.types.rust(&inner_dt),
                };
                let adapter = param.map_or_else(|| self.types.adapter_opt(&inner_dt), |_| None);
                match boxed_adapter(adapter, boxed) {
                    Some(a) => {
                        encodes.push(quote!(.optional_adapted::<#a, _>(#wire, &self.#fname)));
                        slots.push(quote!(rt::wire::Optional<#inner, #a>));
                    }
                    None => {
                        encodes.push(quote!(.optional(#wire, &self.#fname)));
                        slots.push(quote!(rt::wire::Optional<#inner>));
                    }
                }
            } else {
                let adapter = param.map_or_else(|| self.types.adapter_opt(&f.ty), |_| None);
                let slot_ty = match boxed_adapter(adapter, boxed) {
                    Some(a) => {
                        encodes.push(quote!(.adapted::<#a, _>(#wire, &self.#fname)));
                        quote!(<#ty, #a>)
                    }
                    None => {
                        encodes.push(quote!(.field(#wire, &self.#fname)));
                        quote!(<#ty>)
                    }
                };
                match &f.default {
                    Some(default) => {
                        // Absent decodes as `None`; the literal supplies the default, built
                        // only when needed unless it is a constant.
                        let expr = self.default_expr(&f.ty, default);
                        let expr = if boxed { quote!(Box::new(#expr)) } else { expr };
                        slots.push(quote!(rt::wire::Defaulted #slot_ty));
                        let build = match default {
                            // `""` is the default value of strings, bytes and (failing to
                            // parse) timestamps alike.
                            Value::String(s) if s.is_empty() && !boxed => {
                                quote!(#fname: #local.unwrap_or_default())
                            }
                            // A string constant costs nothing to build.
                            Value::String(_)
                                if !boxed
                                    && matches!(self.api.unalias(&f.ty), DataType::String(_)) =>
                            {
                                quote!(#fname: #local.unwrap_or(#expr))
                            }
                            Value::String(_) => quote!(#fname: #local.unwrap_or_else(|| #expr)),
                            _ if boxed => quote!(#fname: #local.unwrap_or_else(|| #expr)),
                            _ => quote!(#fname: #local.unwrap_or(#expr)),
                        };
                        builds.push(build);
                    }
                    None => slots.push(quote!(rt::wire::Required #slot_ty)),
                }
            }
            if f.default.is_none() || nullable {
                builds.push(quote!(#fname: #local));
            }
            locals.push(quote!(#local));

            // Validation.
            if self.sendable.contains(&s.key) {
                validations.extend(checks(
                    self.api,
                    &self.needs,
                    &self.patterns,
                    &f.ty,
                    quote!(&self.#fname),
                    &|e| quote!(rt::validate::in_field(#e, #wire)?;),
                ));
            }
        }

        StructParts {
            decls,
            params,
            inits,
            setters,
            wire_names,
            encodes,
            slots: nest(&slots),
            pattern: nest(&locals),
            builds,
            validations,
            field_idents,
        }
    }

    /// Serde attributes of a field in [`SerdeStyle::Derive`](super::SerdeStyle::Derive) mode.
    fn derive_field_attrs(
        &self,
        s: &Struct,
        f: &crate::ir::Field,
        nullable: bool,
        boxed: bool,
    ) -> TokenStream {
        let wire = f.name.as_str();
        let mut out = TokenStream::new();
        if field_name(wire) != wire {
            out.extend(quote!(#[serde(rename = #wire)]));
        }
        let (adapter_ty, adapted) = match self.api.unalias(&f.ty) {
            DataType::Nullable(inner) => (
                self.types.adapter(inner),
                self.types.adapter(inner).to_string() != quote!(rt::wire::Plain).to_string(),
            ),
            other => (
                self.types.adapter(other),
                self.types.adapter(other).to_string() != quote!(rt::wire::Plain).to_string(),
            ),
        };
        if nullable {
            out.extend(quote!(#[serde(default, skip_serializing_if = "Option::is_none")]));
            if adapted && !boxed {
                let ser =
                    format!("rt::wire::serialize_with::<_, rt::wire::OptionOf<{adapter_ty}>, _>");
                let de =
                    format!("rt::wire::deserialize_with::<_, rt::wire::OptionOf<{adapter_ty}>, _>");
                out.extend(quote!(#[serde(serialize_with = #ser, deserialize_with = #de)]));
            }
        } else {
            if f.default.is_some() {
                let path = format!("default_{}_{}", field_name(&s.key.name), field_name(wire));
                out.extend(quote!(#[serde(default = #path)]));
            }
            if adapted && !boxed {
                let ser = format!("rt::wire::serialize_with::<_, {adapter_ty}, _>");
                let de = format!("rt::wire::deserialize_with::<_, {adapter_ty}, _>");
                out.extend(quote!(#[serde(serialize_with = #ser, deserialize_with = #de)]));
            }
        }
        out
    }

    /// Default-value functions for [`SerdeStyle::Derive`](super::SerdeStyle::Derive) mode.
    fn derive_defaults(&self, s: &Struct) -> TokenStream {
        let mut out = TokenStream::new();
        for f in self.api.all_fields(s) {
            let Some(default) = &f.default else { continue };
            if self.api.is_nullable(&f.ty) {
                continue;
            }
            let boxed = self.boxed.contains(&(s.key.clone(), f.name.clone()));
            let name = quote::format_ident!(
                "default_{}_{}",
                field_name(&s.key.name),
                field_name(&f.name)
            );
            let ty = self.types.rust_boxed(&f.ty, boxed);
            let expr = self.default_expr(&f.ty, default);
            let expr = if boxed { quote!(Box::new(#expr)) } else { expr };
            out.extend(quote! {
                fn #name() -> #ty {
                    #expr
                }
            });
        }
        out
    }

    /// A subtype of a polymorphic struct converts into its parent enum.
    fn struct_upcast(&self, s: &Struct) -> TokenStream {
        let Some(parent) = s.parent.as_ref().and_then(|p| self.api.struct_(p)) else {
            return TokenStream::new();
        };
        let Some(sub) = &parent.subtypes else {
            return TokenStream::new();
        };
        let Some((tag, _)) = sub.entries.iter().find(|(_, k)| *k == s.key) else {
            return TokenStream::new();
        };
        let name = ident(&self.names.ty(&s.key));
        let parent_path = self.names.path(&parent.key, self.ns);
        let variant = ident(&variant_name(tag));
        let boxed = self
            .boxed
            .contains(&(parent.key.clone(), format!("#{tag}")));
        let value = if boxed {
            quote!(Box::new(value))
        } else {
            quote!(value)
        };
        quote! {
            impl From<#name> for #parent_path {
                fn from(value: #name) -> Self {
                    #parent_path::#variant(#value)
                }
            }
        }
    }

    /// The Rust expression of a default value for a field of type `ty`.
    pub(super) fn default_expr(&self, ty: &DataType, value: &Value) -> TokenStream {
        let resolved = self.api.unalias(ty);
        match (value, resolved) {
            (Value::Bool(b), _) => quote!(#b),
            (Value::Int(i), DataType::Float { .. }) => float_literal(*i as f64),
            (Value::Int(i), _) => int_literal(*i),
            (Value::Float(f), _) => float_literal(*f),
            (Value::String(s), DataType::Timestamp { format }) => {
                quote!(rt::wire::parse_timestamp(#s, #format).unwrap_or_default())
            }
            (Value::String(s), DataType::Bytes) => quote!(#s.as_bytes().to_vec()),
            (Value::String(s), _) => quote!(rt::Str::from_static(#s)),
            (Value::Tag(tag), DataType::Named(k)) => {
                let path = self.names.path(k, self.ns);
                let v = ident(&variant_name(tag));
                quote!(#path::#v)
            }
            (Value::Null, _) | (Value::Tag(_), _) => quote!(Default::default()),
        }
    }

    /// Emits a struct with enumerated subtypes as an enum over its subtypes.
    fn polymorphic(&self, s: &Struct) -> TokenStream {
        let Some(sub) = &s.subtypes else {
            return TokenStream::new();
        };
        let name = ident(&self.names.ty(&s.key));
        let stone_doc = format!(
            " Stone struct `{}.{}` with enumerated subtypes: `.tag` on the wire names the subtype.",
            s.key.namespace, s.key.name
        );
        let docs = self.docs(s.doc.as_deref(), Some(&s.key));
        let mut variants = TokenStream::new();
        let mut encode_arms = TokenStream::new();
        let mut decode_arms = TokenStream::new();
        let mut validate_arms = TokenStream::new();
        let mut tags = Vec::new();
        for (tag, key) in &sub.entries {
            let v = ident(&variant_name(tag));
            let boxed = self.boxed.contains(&(s.key.clone(), format!("#{tag}")));
            let path = self.names.path(key, self.ns);
            let payload = if boxed {
                quote!(Box<#path>)
            } else {
                quote!(#path)
            };
            let vdoc = format!(" A `{}` (tag `{tag}`).", self.names.ty(key));
            variants.extend(quote! {
                #[doc = #vdoc]
                #v(#payload),
            });
            let inner = if boxed {
                quote!(&**value)
            } else {
                quote!(value)
            };
            encode_arms.extend(quote! {
                #name::#v(value) => out.flat(#tag, #inner),
            });
            let member = if boxed {
                quote!(|v| #name::#v(Box::new(v)))
            } else {
                quote!(#name::#v)
            };
            decode_arms.extend(quote!(#tag => rt::wire::flat(map, #member),));
            if self.needs.type_needs(self.api, key) {
                validate_arms.extend(quote!(#name::#v(value) => rt::validate::in_field(rt::validate::Validate::validate(value), #tag),));
            } else {
                validate_arms.extend(quote!(#name::#v(_) => Ok(()),));
            }
            tags.push(tag.as_str());
        }
        let (other_variant, other_encode, other_decode, other_validate, non_exhaustive) =
            if sub.catch_all {
                (
                    quote! {
                        /// A subtype this version of the spec does not know.
                        Other,
                    },
                    quote! {
                        #name::Other => out.unencodable("an unknown subtype"),
                    },
                    quote!(_ => rt::wire::other(map, #name::Other),),
                    quote!(#name::Other => Err(rt::validate::catch_all()),),
                    quote!(#[non_exhaustive]),
                )
            } else {
                (
                    TokenStream::new(),
                    TokenStream::new(),
                    quote!(_ => Err(rt::wire::unknown_tag(tag, &[#(#tags),*])),),
                    TokenStream::new(),
                    TokenStream::new(),
                )
            };
        let accessors = self.common_accessors(s, sub.catch_all);
        let tagged = tagged_impls(
            &name,
            quote! {
                match tag {
                    #decode_arms
                    #other_decode
                }
            },
            quote! {
                match self {
                    #encode_arms
                    #other_encode
                }
            },
        );
        let validate_impl = if self.sendable.contains(&s.key) {
            quote! {
                impl rt::validate::Validate for #name {
                    fn validate(&self) -> Result<(), rt::validate::ValidationError> {
                    match self {
                        #validate_arms
                        #other_validate
                    }
                    }
                }
            }
        } else {
            TokenStream::new()
        };
        quote! {
            #docs
            #[doc = ""]
            #[doc = #stone_doc]
            #[derive(Debug, Clone, PartialEq)]
            #non_exhaustive
            pub enum #name {
                #variants
                #other_variant
            }

            #accessors

            #tagged

            #validate_impl
        }
    }

    /// Getters for the fields every subtype shares (those of the polymorphic struct itself).
    fn common_accessors(&self, s: &Struct, open: bool) -> TokenStream {
        let Some(sub) = &s.subtypes else {
            return TokenStream::new();
        };
        let name = ident(&self.names.ty(&s.key));
        let mut methods = TokenStream::new();
        for f in &s.fields {
            let fname = ident(&field_name(&f.name));
            let ty = self.types.rust(&f.ty);
            let doc = format!(" The `{}` field, whichever the subtype.", f.name);
            let arms: Vec<TokenStream> = sub
                .entries
                .iter()
                .map(|(tag, _)| {
                    let v = ident(&variant_name(tag));
                    if open {
                        quote!(#name::#v(value) => Some(&value.#fname))
                    } else {
                        quote!(#name::#v(value) => &value.#fname)
                    }
                })
                .collect();
            if open {
                methods.extend(quote! {
                    #[doc = #doc]
                    #[doc = " `None` for a subtype this version of the spec does not know."]
                    pub fn #fname(&self) -> Option<&#ty> {
                        match self {
                            #(#arms,)*
                            #name::Other => None,
                        }
                    }
                });
            } else {
                methods.extend(quote! {
                    #[doc = #doc]
                    pub fn #fname(&self) -> &#ty {
                        match self {
                            #(#arms,)*
                        }
                    }
                });
            }
        }
        if methods.is_empty() {
            return methods;
        }
        quote! {
            impl #name {
                #methods
            }
        }
    }
}

/// The impls of a union or polymorphic struct: its `rt::wire::Tagged` description (the
/// bodies of `decode_tagged` and `encode_tagged`), and the serde and JSON-codec impls that
/// use it.
pub(super) fn tagged_impls(name: &Ident, decode: TokenStream, encode: TokenStream) -> TokenStream {
    quote! {
        impl rt::wire::Tagged for #name {

            fn decode_tagged<M: rt::wire::Members>(tag: &str, map: &mut M) -> Result<Self, M::Error> {
                #decode
            }

            fn encode_tagged<U: rt::wire::UnionSink>(&self, out: U) -> U::Done {
                #encode
            }
        }

        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                rt::wire::serialize_tagged(self, serializer)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                rt::wire::deserialize_tagged(deserializer)
            }
        }

        impl rt::json::Json for #name {
            #[inline]
            fn decode(r: &mut rt::json::Reader<'_>) -> Result<Self, rt::json::Error> {
                rt::wire::read_tagged(r)
            }

            #[inline]
            fn encode(&self, w: &mut rt::json::Writer) {
                rt::wire::write_tagged(self, w)
            }
        }
    }
}

/// The adapter of a field: a boxed field (one that breaks a recursive type) is read and
/// written through `Boxed`, around the value's own adapter if it has one.
fn boxed_adapter(adapter: Option<TokenStream>, boxed: bool) -> Option<TokenStream> {
    match (adapter, boxed) {
        (Some(a), true) => Some(quote!(rt::wire::Boxed<#a>)),
        (None, true) => Some(quote!(rt::wire::Boxed)),
        (a, false) => a,
    }
}

/// Nests items as pairs ending in unit: `[a, b, c]` -> `(a, (b, (c, ())))`.
pub(super) fn nest(items: &[TokenStream]) -> TokenStream {
    items
        .iter()
        .rev()
        .fold(quote!(()), |rest, item| quote!((#item, #rest)))
}
