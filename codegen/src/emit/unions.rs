//! Unions: an enum per union, with Dropbox's tagged wire format and validation.

use proc_macro2::TokenStream;
use quote::quote;

use super::names::{ident, variant_name};
use super::validate::checks;
use super::{ModuleCx, docs};
use crate::ir::{DataType, Member, Union};

/// How a member's value sits in the union object.
enum Shape {
    /// No value: just the tag.
    Void,
    /// An ordinary struct whose fields sit beside `.tag`.
    Flattened { nullable: bool },
    /// Any other value, under a key named after the tag.
    Nested { nullable: bool },
}

impl ModuleCx<'_> {
    fn shape(&self, m: &Member) -> Shape {
        if m.ty == DataType::Void {
            return Shape::Void;
        }
        let nullable = self.api.is_nullable(&m.ty);
        let inner = match self.api.unalias(&m.ty) {
            DataType::Nullable(i) => i.as_ref(),
            other => other,
        };
        if self.types.flattened_struct(inner).is_some() {
            Shape::Flattened { nullable }
        } else {
            Shape::Nested { nullable }
        }
    }

    /// Emits a union as an enum.
    pub(super) fn emit_union(&self, u: &Union) -> TokenStream {
        let name = ident(&self.names.ty(&u.key));
        let stone_doc = format!(
            " Stone {} `{}.{}`.",
            if u.closed { "closed union" } else { "union" },
            u.key.namespace,
            u.key.name
        );
        let docs = self.docs(u.doc.as_deref(), Some(&u.key));
        let members = self.api.all_members(u);
        let open = members.iter().any(|m| m.catch_all);

        let mut variants = TokenStream::new();
        let mut encode_arms = TokenStream::new();
        let mut decode_arms = TokenStream::new();
        let mut validate_arms = TokenStream::new();
        let mut tags = Vec::new();
        let mut any_unchecked = false;
        // The catch-all goes last whatever its position in the member list.
        let ordered = members
            .iter()
            .filter(|m| !m.catch_all)
            .chain(members.iter().filter(|m| m.catch_all));
        for m in ordered {
            let v = ident(&variant_name(&m.name));
            let tag = m.name.as_str();
            let mdocs = if m.catch_all {
                quote!(#[doc = " A member this version of the spec does not know (the catch-all of an open union). It can be received but not sent."])
            } else {
                self.docs_or(m.doc.as_deref(), Some(&u.key), || match m.ty {
                    DataType::Void => format!("The `{tag}` tag."),
                    ref ty => format!("The `{tag}` tag, with a `{}`.", docs::stone_type(ty)),
                })
            };
            let deprecated = if m.annotations.deprecated {
                quote!(#[deprecated])
            } else {
                TokenStream::new()
            };
            if m.catch_all {
                variants.extend(quote!(#mdocs Other,));
                encode_arms.extend(quote!(#name::Other => out.void("other"),));
                decode_arms.extend(quote!(_ => rt::wire::other(map, #name::Other),));
                validate_arms.extend(quote!(#name::Other => Err(rt::validate::catch_all()),));
                continue;
            }
            tags.push(tag);
            let boxed = self.boxed.contains(&(u.key.clone(), m.name.clone()));
            let inner_dt = match self.api.unalias(&m.ty) {
                DataType::Nullable(i) => i.as_ref().clone(),
                other => other.clone(),
            };
            let (value_ref, opt_ref) = if boxed {
                (quote!(&**value), quote!(value.as_deref()))
            } else {
                (quote!(value), quote!(value.as_ref()))
            };
            // The variant's constructor, as the function pointer the decoders take.
            let (member, opt_member) = if boxed {
                (
                    quote!(|v| #name::#v(Box::new(v))),
                    quote!(|v| #name::#v(v.map(Box::new))),
                )
            } else {
                (quote!(#name::#v), quote!(#name::#v))
            };
            match self.shape(m) {
                Shape::Void => {
                    variants.extend(quote!(#mdocs #deprecated #v,));
                    encode_arms.extend(quote!(#name::#v => out.void(#tag),));
                    decode_arms.extend(quote!(#tag => rt::wire::void(map, #name::#v),));
                    any_unchecked = true;
                    continue;
                }
                Shape::Flattened { nullable } => {
                    let ty = self.types.rust_boxed(&m.ty, boxed);
                    variants.extend(quote!(#mdocs #deprecated #v(#ty),));
                    if nullable {
                        encode_arms
                            .extend(quote!(#name::#v(value) => out.flat_opt(#tag, #opt_ref),));
                        decode_arms.extend(quote!(#tag => rt::wire::flat_opt(map, #opt_member),));
                    } else {
                        encode_arms.extend(quote!(#name::#v(value) => out.flat(#tag, #value_ref),));
                        decode_arms.extend(quote!(#tag => rt::wire::flat(map, #member),));
                    }
                }
                Shape::Nested { nullable } => {
                    let ty = self.types.rust_boxed(&m.ty, boxed);
                    variants.extend(quote!(#mdocs #deprecated #v(#ty),));
                    let adapter = self.types.adapter(&inner_dt);
                    if nullable {
                        encode_arms.extend(quote! {
                            #name::#v(value) => out.nested_opt::<_, #adapter>(#tag, #opt_ref),
                        });
                        decode_arms.extend(quote! {
                            #tag => rt::wire::nested_opt::<_, _, #adapter, _>(map, #tag, #opt_member),
                        });
                    } else {
                        encode_arms.extend(quote! {
                            #name::#v(value) => out.nested::<_, #adapter>(#tag, #value_ref),
                        });
                        decode_arms.extend(quote! {
                            #tag => rt::wire::nested::<_, _, #adapter, _>(map, #tag, #member),
                        });
                    }
                }
            }
            let c = if self.sendable.contains(&u.key) {
                checks(
                    self.api,
                    &self.needs,
                    &self.patterns,
                    &m.ty,
                    quote!(value),
                    &|e| quote!(rt::validate::in_field(#e, #tag)?;),
                )
            } else {
                TokenStream::new()
            };
            if c.is_empty() {
                any_unchecked = true;
            } else {
                validate_arms.extend(quote! {
                    #name::#v(value) => {
                        #c
                        Ok(())
                    }
                });
            }
        }
        if !open {
            decode_arms.extend(quote!(_ => Err(rt::wire::unknown_tag(tag, &[#(#tags),*])),));
        }
        let validate_body = if validate_arms.is_empty() {
            quote!(Ok(()))
        } else if any_unchecked {
            quote! {
                match self {
                    #validate_arms
                    _ => Ok(()),
                }
            }
        } else {
            quote! {
                match self {
                    #validate_arms
                }
            }
        };
        let non_exhaustive = if open {
            quote!(#[non_exhaustive])
        } else {
            TokenStream::new()
        };
        let from_parent = self.union_from_parent(u);
        let encode = if members.is_empty() {
            quote! {
                let _ = out;
                match *self {}
            }
        } else {
            quote! {
                match self {
                    #encode_arms
                }
            }
        };
        // A union whose only member is the catch-all (the official spec has such errors)
        // decodes every tag to `Other`: no one-armed `match`.
        let decode_body = if open && tags.is_empty() {
            quote! {
                let _ = tag;
                rt::wire::other(map, #name::Other)
            }
        } else {
            quote! {
                match tag {
                    #decode_arms
                }
            }
        };
        let derive_default = TokenStream::new();
        let tagged = super::structs::tagged_impls(&name, decode_body, encode);
        let validate_impl = if self.sendable.contains(&u.key) {
            quote! {
                impl rt::validate::Validate for #name {
                    fn validate(&self) -> Result<(), rt::validate::ValidationError> {
                    #validate_body
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
            #derive_default
            #non_exhaustive
            pub enum #name {
                #variants
            }

            #from_parent

            #tagged

            #validate_impl
        }
    }

    /// `From<Parent> for Child`: every parent member exists in the child.
    fn union_from_parent(&self, u: &Union) -> TokenStream {
        let Some(parent) = u.parent.as_ref().and_then(|p| self.api.union_(p)) else {
            return TokenStream::new();
        };
        let name = ident(&self.names.ty(&u.key));
        let parent_path = self.names.path(&parent.key, self.ns);
        let mut arms = TokenStream::new();
        for m in self.api.all_members(parent) {
            let v = ident(&variant_name(&m.name));
            if m.catch_all {
                arms.extend(quote!(#parent_path::Other => #name::Other,));
            } else if m.ty == DataType::Void {
                arms.extend(quote!(#parent_path::#v => #name::#v,));
            } else {
                // The child may box a member the parent holds by value (or the reverse).
                let pb = self.boxed.contains(&(parent.key.clone(), m.name.clone()));
                let cb = self.boxed.contains(&(u.key.clone(), m.name.clone()));
                let value = match (pb, cb, self.api.is_nullable(&m.ty)) {
                    (false, true, false) => quote!(Box::new(value)),
                    (true, false, false) => quote!(*value),
                    (false, true, true) => quote!(value.map(Box::new)),
                    (true, false, true) => quote!(value.map(|v| *v)),
                    _ => quote!(value),
                };
                arms.extend(quote!(#parent_path::#v(value) => #name::#v(#value),));
            }
        }
        quote! {
            impl From<#parent_path> for #name {
                fn from(value: #parent_path) -> Self {
                    match value {
                        #arms
                    }
                }
            }
        }
    }
}
