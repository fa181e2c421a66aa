//! Validation code: the constraints of the spec checked before a request is sent.

use std::cell::RefCell;
use std::collections::BTreeMap;

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::ir::{Api, DataType, TypeKey, UserType};

/// Which types have something to check, memoised over the whole API.
#[derive(Default)]
pub struct NeedsValidation {
    memo: RefCell<BTreeMap<TypeKey, bool>>,
}

impl NeedsValidation {
    /// Whether values of a user type can be invalid (constraints somewhere inside, or the
    /// catch-all of an open union, which cannot be sent).
    pub fn type_needs(&self, api: &Api, key: &TypeKey) -> bool {
        if let Some(v) = self.memo.borrow().get(key) {
            return *v;
        }
        // Assume "no" while in progress to cut cycles; a cycle adds nothing new.
        self.memo.borrow_mut().insert(key.clone(), false);
        let v = match api.get(key) {
            Some(UserType::Struct(s)) => match &s.subtypes {
                Some(sub) => {
                    sub.catch_all || sub.entries.iter().any(|(_, k)| self.type_needs(api, k))
                }
                None => api
                    .all_fields(s)
                    .iter()
                    .any(|f| self.value_needs(api, &f.ty)),
            },
            Some(UserType::Union(u)) => {
                api.union_is_open(u)
                    || api
                        .all_members(u)
                        .iter()
                        .any(|m| self.value_needs(api, &m.ty))
            }
            Some(UserType::Alias(a)) => self.value_needs(api, &a.ty),
            None => false,
        };
        self.memo.borrow_mut().insert(key.clone(), v);
        v
    }

    /// Whether a value of this data type can be invalid.
    pub fn value_needs(&self, api: &Api, ty: &DataType) -> bool {
        match ty {
            DataType::String(c) => {
                c.min_length.is_some() || c.max_length.is_some() || c.pattern.is_some()
            }
            DataType::Int { min, max, .. } => min.is_some() || max.is_some(),
            DataType::Float { .. } => true,
            DataType::List {
                item,
                min_items,
                max_items,
            } => min_items.is_some() || max_items.is_some() || self.value_needs(api, item),
            DataType::Map { value, .. } => self.value_needs(api, value),
            DataType::Nullable(inner) => self.value_needs(api, inner),
            DataType::Named(k) => self.type_needs(api, k),
            DataType::Void | DataType::Boolean | DataType::Bytes | DataType::Timestamp { .. } => {
                false
            }
        }
    }
}

/// The patterns of one module, each compiled once in a `static`.
#[derive(Default)]
pub struct Patterns {
    list: RefCell<Vec<String>>,
}

impl Patterns {
    /// The static holding `pattern` (added on first use).
    pub fn name(&self, pattern: &str) -> proc_macro2::Ident {
        let mut list = self.list.borrow_mut();
        let i = match list.iter().position(|p| p == pattern) {
            Some(i) => i,
            None => {
                list.push(pattern.to_string());
                list.len() - 1
            }
        };
        format_ident!("PATTERN_{}", i)
    }

    /// The `static` items for every pattern used.
    pub fn statics(&self) -> TokenStream {
        let mut out = TokenStream::new();
        for (i, p) in self.list.borrow().iter().enumerate() {
            let name = format_ident!("PATTERN_{}", i);
            out.extend(quote! {
                static #name: rt::validate::Pattern = rt::validate::Pattern::new(#p);
            });
        }
        out
    }
}

/// Statements checking `value` (an expression of type `&T`): each check is an expression
/// of type `Result<(), ValidationError>` turned into a statement by `wrap` (which adds the
/// field context and `?`). Empty when the type has nothing to check.
pub fn checks(
    api: &Api,
    needs: &NeedsValidation,
    patterns: &Patterns,
    ty: &DataType,
    value: TokenStream,
    wrap: &dyn Fn(TokenStream) -> TokenStream,
) -> TokenStream {
    match ty {
        DataType::String(c) => {
            let mut out = TokenStream::new();
            if c.min_length.is_some() || c.max_length.is_some() {
                let min = opt_u64(c.min_length);
                let max = opt_u64(c.max_length);
                out.extend(wrap(
                    quote!(rt::validate::check_str_len(#value, #min, #max)),
                ));
            }
            if let Some(p) = &c.pattern {
                let name = patterns.name(p);
                out.extend(wrap(quote!(#name.check(#value))));
            }
            out
        }
        DataType::Int { min, max, .. } if min.is_some() || max.is_some() => {
            let min = opt_int(*min);
            let max = opt_int(*max);
            wrap(quote!(rt::validate::check_range(#value, #min, #max)))
        }
        DataType::Float { min, max, .. } => {
            let mut out = wrap(quote!(rt::validate::Validate::validate(#value)));
            if min.is_some() || max.is_some() {
                let min = opt_float(*min);
                let max = opt_float(*max);
                out.extend(wrap(quote!(rt::validate::check_range(#value, #min, #max))));
            }
            out
        }
        DataType::List {
            item,
            min_items,
            max_items,
        } => {
            let mut out = TokenStream::new();
            if min_items.is_some() || max_items.is_some() {
                let min = opt_u64(*min_items);
                let max = opt_u64(*max_items);
                out.extend(wrap(quote!(rt::validate::check_items(#value, #min, #max))));
            }
            let inner = checks(api, needs, patterns, item, quote!(item), &|e| quote!(#e?;));
            if !inner.is_empty() {
                out.extend(wrap(quote! {
                    rt::validate::each(#value, |item| {
                        #inner
                        Ok(())
                    })
                }));
            }
            out
        }
        DataType::Map { value: vt, .. } => {
            let inner = checks(api, needs, patterns, vt, quote!(item), &|e| quote!(#e?;));
            if inner.is_empty() {
                return inner;
            }
            wrap(quote! {
                rt::validate::each_value(#value, |item| {
                    #inner
                    Ok(())
                })
            })
        }
        DataType::Nullable(inner) => {
            let inner = checks(api, needs, patterns, inner, quote!(present), wrap);
            if inner.is_empty() {
                return inner;
            }
            quote! {
                if let Some(present) = #value {
                    #inner
                }
            }
        }
        DataType::Named(k) => match api.get(k) {
            Some(UserType::Alias(a)) => checks(api, needs, patterns, &a.ty, value, wrap),
            Some(_) if needs.type_needs(api, k) => {
                wrap(quote!(rt::validate::Validate::validate(#value)))
            }
            _ => TokenStream::new(),
        },
        _ => TokenStream::new(),
    }
}

fn opt_u64(v: Option<u64>) -> TokenStream {
    match v {
        Some(v) => {
            let l = Literal::u64_unsuffixed(v);
            quote!(Some(#l))
        }
        None => quote!(None),
    }
}

fn opt_int(v: Option<i128>) -> TokenStream {
    match v {
        Some(v) => {
            let n = int_literal(v);
            quote!(Some(#n))
        }
        None => quote!(None),
    }
}

fn opt_float(v: Option<f64>) -> TokenStream {
    match v {
        Some(v) => {
            let n = float_literal(v);
            quote!(Some(#n))
        }
        None => quote!(None),
    }
}

/// An unsuffixed integer literal (a negative one as `-` and a literal).
pub fn int_literal(v: i128) -> TokenStream {
    let l = Literal::u128_unsuffixed(v.unsigned_abs());
    if v < 0 { quote!(-#l) } else { quote!(#l) }
}

/// An unsuffixed float literal (a negative one as `-` and a literal).
pub fn float_literal(v: f64) -> TokenStream {
    let l = Literal::f64_unsuffixed(v.abs());
    if v.is_sign_negative() {
        quote!(-#l)
    } else {
        quote!(#l)
    }
}

/// The types a request can carry: everything reachable from a route argument. Only these
/// get a `Validate` impl; results and errors are never sent.
pub fn sendable_types(api: &Api) -> std::collections::BTreeSet<TypeKey> {
    let mut out = std::collections::BTreeSet::new();
    let mut todo: Vec<DataType> = api.routes().map(|r| r.arg.clone()).collect();
    while let Some(ty) = todo.pop() {
        match ty {
            DataType::List { item, .. } => todo.push(*item),
            DataType::Map { value, .. } => todo.push(*value),
            DataType::Nullable(inner) => todo.push(*inner),
            DataType::Named(k) => {
                if !out.insert(k.clone()) {
                    continue;
                }
                match api.get(&k) {
                    Some(UserType::Alias(a)) => todo.push(a.ty.clone()),
                    Some(UserType::Struct(s)) => {
                        todo.extend(api.all_fields(s).iter().map(|f| f.ty.clone()));
                        if let Some(sub) = &s.subtypes {
                            todo.extend(
                                sub.entries.iter().map(|(_, k)| DataType::Named(k.clone())),
                            );
                        }
                    }
                    Some(UserType::Union(u)) => {
                        todo.extend(api.all_members(u).iter().map(|m| m.ty.clone()));
                    }
                    None => {}
                }
            }
            _ => {}
        }
    }
    out
}
