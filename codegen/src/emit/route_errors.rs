//! Route errors: every type used as a route's error implements the runtime's `RouteError`,
//! which tells the request lifecycle whether the error means "try again later".
//!
//! A union is *transient-capable* when one of its members (inherited ones included) is
//! named `too_many_write_operations`, holds a `RateLimitError` struct, or holds another
//! transient-capable type (so `UploadSessionFinishError::Path(WriteError::TooManyWriteOperations)`
//! is found through `WriteError`); a struct is when one of its fields holds a
//! transient-capable type (`UploadError::Path(UploadWriteFailed { reason: WriteError::.. })`).
//! Such types get an `is_transient`/`retry_after` that looks exactly there; other route
//! error types keep the trait's defaults. Every one of them is also a `std::error::Error`
//! whose `Display` names its type and tag path (`UploadSessionFinishError: path/conflict/file`),
//! which `dropbox_api::Error::source()` returns.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::quote;

use super::ModuleCx;
use super::names::{field_name, ident, variant_name};
use crate::ir::{Api, DataType, Member, Struct, TypeKey, Union, UserType};

/// The member name Dropbox uses for write contention.
const WRITE_CONTENTION: &str = "too_many_write_operations";
/// The struct Dropbox uses for rate limits, with its `retry_after` field.
const RATE_LIMIT_STRUCT: &str = "RateLimitError";

/// The crate-wide analysis: which types implement `RouteError`, and which can be transient.
#[derive(Debug, Default)]
pub(crate) struct RouteErrors {
    /// Types that get an impl: route errors and the transient-capable unions they hold.
    implemented: BTreeSet<TypeKey>,
    /// Transient-capable unions.
    transient: BTreeSet<TypeKey>,
}

/// How a member makes its union transient.
enum Cause {
    /// A void `too_many_write_operations` (or one with a value).
    Contention,
    /// A `RateLimitError` value: transient, with its `retry_after`.
    RateLimit,
    /// A transient-capable union: ask it.
    Nested,
}

impl RouteErrors {
    /// Finds the route error types of `api` and the unions that can be transient.
    pub(crate) fn find(api: &Api) -> Self {
        let mut transient = BTreeSet::new();
        // Fixpoint: a union becomes transient-capable once a member's union is.
        loop {
            let mut grew = false;
            for t in api.types() {
                let capable = match t {
                    UserType::Union(u) => api
                        .all_members(u)
                        .iter()
                        .any(|m| cause(api, &transient, m).is_some()),
                    UserType::Struct(s) => {
                        s.subtypes.is_none()
                            && api
                                .all_fields(s)
                                .iter()
                                .any(|f| field_is_transient(api, &transient, &f.ty))
                    }
                    UserType::Alias(_) => false,
                };
                if capable && transient.insert(t.key().clone()) {
                    grew = true;
                }
            }
            if !grew {
                break;
            }
        }
        let mut implemented: BTreeSet<TypeKey> = transient.clone();
        for r in api.routes() {
            if let DataType::Named(key) = api.unalias(&r.error) {
                implemented.insert(key.clone());
            }
        }
        RouteErrors {
            implemented,
            transient,
        }
    }
}

/// The member's type as a named user type, through aliases and nullability.
fn named<'a>(api: &'a Api, ty: &'a DataType) -> Option<&'a TypeKey> {
    match api.unalias(ty) {
        DataType::Named(k) => Some(k),
        DataType::Nullable(inner) => match api.unalias(inner) {
            DataType::Named(k) => Some(k),
            _ => None,
        },
        _ => None,
    }
}

fn field_is_transient(api: &Api, transient: &BTreeSet<TypeKey>, ty: &DataType) -> bool {
    named(api, ty).is_some_and(|k| transient.contains(k))
}

fn cause(api: &Api, transient: &BTreeSet<TypeKey>, m: &Member) -> Option<Cause> {
    if m.catch_all {
        return None;
    }
    if m.name == WRITE_CONTENTION {
        return Some(Cause::Contention);
    }
    let key = named(api, &m.ty)?;
    if key.name == RATE_LIMIT_STRUCT && api.struct_(key).is_some() {
        return Some(Cause::RateLimit);
    }
    transient.contains(key).then_some(Cause::Nested)
}

impl ModuleCx<'_> {
    /// The `RouteError` impl of `key`, if it is a route error type or a transient-capable union.
    pub(super) fn emit_route_error(&self, key: &TypeKey) -> TokenStream {
        if !self.route_errors.implemented.contains(key) {
            return TokenStream::new();
        }
        let name = ident(&self.names.ty(key));
        let transient = self.route_errors.transient.contains(key);
        let methods = match self.api.get(key) {
            Some(UserType::Union(u)) if transient => self.transient_methods(u),
            Some(UserType::Struct(s)) if transient => self.transient_struct_methods(s),
            _ => TokenStream::new(),
        };
        let type_name = self.names.ty(key);
        quote! {
            impl rt::RouteError for #name {
                #methods
                fn as_any(&self) -> &dyn ::std::any::Any {
                    self
                }
                fn as_error(&self) -> Option<&(dyn ::std::error::Error + Send + Sync + 'static)> {
                    Some(self)
                }
            }
            impl ::std::fmt::Display for #name {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    rt::tags::fmt_route_error(#type_name, self, f)
                }
            }
            impl ::std::error::Error for #name {}
        }
    }

    /// A struct asks its transient-capable fields, in order.
    fn transient_struct_methods(&self, s: &Struct) -> TokenStream {
        let mut ask = Vec::new();
        let mut after = Vec::new();
        for f in self.api.all_fields(s) {
            if !field_is_transient(self.api, &self.route_errors.transient, &f.ty) {
                continue;
            }
            let name = ident(&field_name(&f.name));
            let boxed = self.boxed.contains(&(s.key.clone(), f.name.clone()));
            let nullable = self.api.is_nullable(&f.ty);
            let (t, a) = match (nullable, boxed) {
                (true, true) => (
                    quote!(self.#name.as_deref().is_some_and(rt::RouteError::is_transient)),
                    quote!(self.#name.as_deref().and_then(rt::RouteError::retry_after)),
                ),
                (true, false) => (
                    quote!(self.#name.as_ref().is_some_and(rt::RouteError::is_transient)),
                    quote!(self.#name.as_ref().and_then(rt::RouteError::retry_after)),
                ),
                (false, true) => (
                    quote!(rt::RouteError::is_transient(&*self.#name)),
                    quote!(rt::RouteError::retry_after(&*self.#name)),
                ),
                (false, false) => (
                    quote!(rt::RouteError::is_transient(&self.#name)),
                    quote!(rt::RouteError::retry_after(&self.#name)),
                ),
            };
            ask.push(t);
            after.push(a);
        }
        let mut after = after.into_iter();
        let first = after.next().unwrap_or_else(|| quote!(None));
        quote! {
            fn is_transient(&self) -> bool {
                #(#ask)||*
            }
            fn retry_after(&self) -> Option<::std::time::Duration> {
                #first #(.or_else(|| #after))*
            }
        }
    }

    fn transient_methods(&self, u: &Union) -> TokenStream {
        let name = ident(&self.names.ty(&u.key));
        let mut transient_arms = TokenStream::new();
        let mut after_arms = TokenStream::new();
        let members = self.api.all_members(u);
        let mut covered = 0;
        let mut after_covered = 0;
        // The patterns of members that are transient whatever they hold.
        let mut always = Vec::new();
        let mut any_nested = false;
        for m in &members {
            let Some(cause) = cause(self.api, &self.route_errors.transient, m) else {
                continue;
            };
            covered += 1;
            if !matches!(cause, Cause::Contention) {
                after_covered += 1;
            }
            let v = ident(&variant_name(&m.name));
            let boxed = self.boxed.contains(&(u.key.clone(), m.name.clone()));
            let nullable = self.api.is_nullable(&m.ty);
            let has_value = m.ty != DataType::Void;
            // `is_transient` and `retry_after` of the value, whatever its boxing and nullability.
            let (ask_transient, ask_after) = match (nullable, boxed) {
                (true, true) => (
                    quote!(value.as_deref().is_some_and(rt::RouteError::is_transient)),
                    quote!(value.as_deref().and_then(rt::RouteError::retry_after)),
                ),
                (true, false) => (
                    quote!(value.as_ref().is_some_and(rt::RouteError::is_transient)),
                    quote!(value.as_ref().and_then(rt::RouteError::retry_after)),
                ),
                (false, true) => (
                    quote!(rt::RouteError::is_transient(&**value)),
                    quote!(rt::RouteError::retry_after(&**value)),
                ),
                (false, false) => (
                    quote!(rt::RouteError::is_transient(value)),
                    quote!(rt::RouteError::retry_after(value)),
                ),
            };
            let rate_limit_after = match (nullable, boxed) {
                (true, true) => quote!(
                    value
                        .as_deref()
                        .map(|v| ::std::time::Duration::from_secs(v.retry_after))
                ),
                (true, false) => quote!(
                    value
                        .as_ref()
                        .map(|v| ::std::time::Duration::from_secs(v.retry_after))
                ),
                (false, _) => quote!(Some(::std::time::Duration::from_secs(value.retry_after))),
            };
            let pattern = if has_value {
                quote!(#name::#v(value))
            } else {
                quote!(#name::#v)
            };
            match cause {
                Cause::Contention => {
                    let pattern = if has_value {
                        quote!(#name::#v(_))
                    } else {
                        quote!(#name::#v)
                    };
                    transient_arms.extend(quote!(#pattern => true,));
                    always.push(pattern);
                }
                Cause::RateLimit => {
                    transient_arms.extend(quote!(#name::#v(_) => true,));
                    always.push(quote!(#name::#v(_)));
                    after_arms.extend(quote! {
                        #pattern => #rate_limit_after,
                    });
                }
                Cause::Nested => {
                    any_nested = true;
                    transient_arms.extend(quote! {
                        #pattern => #ask_transient,
                    });
                    after_arms.extend(quote! {
                        #pattern => #ask_after,
                    });
                }
            }
        }
        // A wildcard arm only where some variant is not matched.
        let all = members.len();
        let rest = |n: usize, value: TokenStream| {
            if n < all {
                quote!(_ => #value,)
            } else {
                TokenStream::new()
            }
        };
        let transient_rest = rest(covered, quote!(false));
        let after_rest = rest(after_covered, quote!(None));
        let retry_after = if after_arms.is_empty() {
            TokenStream::new()
        } else {
            quote! {
                fn retry_after(&self) -> Option<::std::time::Duration> {
                    match self {
                        #after_arms
                        #after_rest
                    }
                }
            }
        };
        let is_transient = if any_nested {
            quote! {
                match self {
                    #transient_arms
                    #transient_rest
                }
            }
        } else {
            quote!(matches!(self, #(#always)|*))
        };
        quote! {
            fn is_transient(&self) -> bool {
                #is_transient
            }
            #retry_after
        }
    }
}
