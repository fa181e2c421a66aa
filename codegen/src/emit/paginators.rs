//! Paginators: for each route pair that [`crate::pagination`] finds, `X_pages` (a stream
//! of pages from an argument), `X_pages_from` (from a saved cursor) and, when the page has
//! one list field, `X_stream` (a stream of its items).

use proc_macro2::TokenStream;
use quote::quote;

use super::ModuleCx;
use super::names::{field_name, ident, route_fn_name};
use super::routes::{auth_trait, preview_gate};
use crate::ir::DataType;
use crate::pagination::{More, Paginator};

impl ModuleCx<'_> {
    /// The paginators of this namespace.
    pub(super) fn emit_paginators(&self) -> TokenStream {
        let mut out = TokenStream::new();
        for p in self
            .paginators
            .iter()
            .filter(|p| p.first.namespace == self.ns)
        {
            out.extend(self.emit_paginator(p));
        }
        out
    }

    fn emit_paginator(&self, p: &Paginator<'_>) -> TokenStream {
        let first_fn = route_fn_name(p.first);
        let next_fn = route_fn_name(p.next);
        let (first_id, next_id) = (ident(&first_fn), ident(&next_fn));
        let pages = ident(&format!("{first_fn}_pages"));
        let pages_from = ident(&format!("{first_fn}_pages_from"));
        let auth = auth_trait(p.first.auth);
        let arg_ty = self.types.rust(&p.first.arg);
        let page_ty = self.types.rust(&DataType::Named(p.page.clone()));
        let next_arg_ty = self.types.rust(&DataType::Named(p.next_arg.clone()));
        let error = |ty: &DataType| match ty {
            DataType::Void => quote!(crate::Error<rt::NoError>),
            other => {
                let e = self.types.rust(other);
                quote!(crate::Error<#e>)
            }
        };
        let (first_err, next_err) = (error(&p.first.error), error(&p.next.error));
        let item_ty = quote!(Result<#page_ty, rt::PageError<#first_err, #next_err>>);
        let cursor = ident(&field_name("cursor"));
        let more = match (&p.more, p.cursor_optional) {
            (More::Flag(flag), false) => {
                let flag = ident(&field_name(flag));
                quote!(|page: &#page_ty| page.#flag.then(|| page.#cursor.clone()))
            }
            (More::Flag(flag), true) => {
                let flag = ident(&field_name(flag));
                quote!(|page: &#page_ty| if page.#flag { page.#cursor.clone() } else { None })
            }
            (More::CursorPresent, _) => quote!(|page: &#page_ty| page.#cursor.clone()),
        };
        let next = quote! {
            move |cursor: rt::Str| async move {
                #next_id(client, &#next_arg_ty::new(cursor)).await
            }
        };
        let until = match &p.more {
            More::Flag(flag) => format!("while `{flag}` is set"),
            More::CursorPresent => "while a page has a cursor".to_string(),
        };
        let ns = &p.first.namespace;
        let doc_pages = format!(
            " Every page of `{ns}/{}`: the first from `arg`, then `{ns}/{}` with each page's cursor {until}. Each call has the client's retries and timeouts; an error is the stream's last item. Keep a page's `cursor` to resume with [`{pages_from}`].",
            p.first.name, p.next.name
        );
        let doc_from = format!(
            " The pages of `{ns}/{}` from a cursor a page of [`{pages}`] gave: the listing resumed where it stopped.",
            p.next.name
        );
        // A paginator over a preview route is as unstable as the route.
        let gate = preview_gate(p.first.is_preview || p.next.is_preview);
        let mut out = quote! {
            #[doc = #doc_pages]
            #gate
            pub fn #pages<'a>(
                client: &'a impl #auth,
                arg: &'a #arg_ty,
            ) -> impl rt::Stream<Item = #item_ty> + 'a {
                rt::pages(Some(#first_id(client, arg)), None, #next, #more)
            }

            #[doc = #doc_from]
            #gate
            pub fn #pages_from<'a>(
                client: &'a impl #auth,
                cursor: impl Into<rt::Str>,
            ) -> impl rt::Stream<Item = #item_ty> + 'a {
                rt::pages(None::<::std::future::Ready<_>>, Some(cursor.into()), #next, #more)
            }
        };
        if let Some((field, item)) = &p.items {
            let stream = ident(&format!("{first_fn}_stream"));
            let field_id = ident(&field_name(field));
            let item_rust = self.types.rust(item);
            let doc = format!(
                " Every item of `{field}` on every page of [`{pages}`], in order; an error is the stream's last item."
            );
            out.extend(quote! {
                #[doc = #doc]
                #gate
                pub fn #stream<'a>(
                    client: &'a impl #auth,
                    arg: &'a #arg_ty,
                ) -> impl rt::Stream<Item = Result<#item_rust, rt::PageError<#first_err, #next_err>>> + 'a {
                    rt::items(#pages(client, arg), |page: #page_ty| page.#field_id)
                }
            });
        }
        out
    }
}
