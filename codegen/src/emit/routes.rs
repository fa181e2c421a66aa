//! Routes: one `async fn` per route, and a `routes` module of static route descriptions.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::docs::{DocContext, doc_attrs};
use super::names::{ident, route_fn_name};
use super::{EmitError, ModuleCx};
use crate::ir::{DataType, Route};

/// The runtime marker trait for an `auth` attribute.
fn auth_trait(auth: &str) -> Result<TokenStream, EmitError> {
    let mut parts: Vec<&str> = auth.split(',').map(str::trim).collect();
    parts.sort_unstable();
    Ok(match parts.as_slice() {
        ["user"] => quote!(rt::auth::UserAuth),
        ["team"] => quote!(rt::auth::TeamAuth),
        ["app"] => quote!(rt::auth::AppAuth),
        ["noauth"] => quote!(rt::auth::NoAuth),
        ["app", "user"] => quote!(rt::auth::AppOrUserAuth),
        ["app", "team"] => quote!(rt::auth::AppOrTeamAuth),
        _ => return Err(EmitError::Unsupported(format!("route auth `{auth}`"))),
    })
}

impl ModuleCx<'_> {
    /// The constant naming a route's static description.
    fn route_const(r: &Route) -> proc_macro2::Ident {
        format_ident!("{}", route_fn_name(r).to_uppercase())
    }

    /// Emits the `routes` module with one `RouteSpec` per route.
    pub(super) fn route_specs(&self) -> Result<TokenStream, EmitError> {
        let Some(ns) = self.api.namespaces.get(self.ns) else {
            return Ok(TokenStream::new());
        };
        if ns.routes.is_empty() {
            return Ok(TokenStream::new());
        }
        let mut consts = TokenStream::new();
        for r in &ns.routes {
            let c = Self::route_const(r);
            let namespace = &r.namespace;
            let name = &r.name;
            let version = r.version;
            let path = r.url_path();
            let host = match r.host() {
                "api" => quote!(rt::route::Host::Api),
                "content" => quote!(rt::route::Host::Content),
                "notify" => quote!(rt::route::Host::Notify),
                other => return Err(EmitError::Unsupported(format!("route host `{other}`"))),
            };
            let style = match r.style() {
                "rpc" => quote!(rt::route::Style::Rpc),
                "upload" => quote!(rt::route::Style::Upload),
                "download" => quote!(rt::route::Style::Download),
                other => return Err(EmitError::Unsupported(format!("route style `{other}`"))),
            };
            let auth = r.auth();
            let idempotent = r.is_read_only();
            let doc = format!(" `{name}` version {version}.");
            let cfg = preview_cfg(r);
            consts.extend(quote! {
                #[doc = #doc]
                #cfg
                pub const #c: rt::route::RouteSpec = rt::route::RouteSpec {
                    namespace: #namespace,
                    name: #name,
                    version: #version,
                    path: #path,
                    host: #host,
                    style: #style,
                    auth: #auth,
                    idempotent: #idempotent,
                };
            });
        }
        Ok(quote! {
            /// Static descriptions of this namespace's routes (URL path, host, style, auth).
            pub mod routes {
                #[allow(unused_imports)]
                use ::dropbox_api_runtime as rt;
                #consts
            }
        })
    }

    /// Emits the function of one route.
    pub(super) fn emit_route(&self, r: &Route) -> Result<TokenStream, EmitError> {
        let f = ident(&route_fn_name(r));
        let c = Self::route_const(r);
        let auth = auth_trait(r.auth())?;
        let docs = doc_attrs(
            self.api,
            self.names,
            r.doc.as_deref(),
            DocContext {
                ns: self.ns,
                ty: None,
            },
        );
        let label = if r.version > 1 {
            format!("{}:{}", r.name, r.version)
        } else {
            r.name.clone()
        };
        let summary = format!(
            " Route `{}/{label}`: `POST {}` on the {} host ({} style, auth `{}`).",
            r.namespace,
            r.url_path(),
            r.host(),
            r.style(),
            r.auth()
        );
        let deprecated = match &r.deprecated {
            None => TokenStream::new(),
            Some(None) => quote!(#[deprecated]),
            Some(Some((name, version))) => {
                let by = self
                    .api
                    .namespaces
                    .get(self.ns)
                    .and_then(|n| {
                        n.routes
                            .iter()
                            .find(|x| &x.name == name && x.version == *version)
                    })
                    .map(route_fn_name)
                    .unwrap_or_else(|| name.clone());
                let note = format!("use `{by}` instead");
                quote!(#[deprecated(note = #note)])
            }
        };
        let cfg = preview_cfg(r);
        let result = self.types.rust(&r.result);
        let error = match &r.error {
            DataType::Void => quote!(rt::NoError),
            other => self.types.rust(other),
        };
        let has_arg = r.arg != DataType::Void;
        let arg_ty = self.types.rust(&r.arg);
        let arg_param = if has_arg {
            quote!(arg: &'a #arg_ty,)
        } else {
            TokenStream::new()
        };
        let arg_expr = if has_arg { quote!(arg) } else { quote!(&()) };
        // A plain fn returning the runtime's future: the generated crate compiles no state
        // machine per route, and callers `.await` it exactly like an `async fn`.
        let body = match r.style() {
            "upload" => quote! {
                pub fn #f<'a>(
                    client: &'a impl #auth,
                    #arg_param
                    body: impl Into<rt::Body>,
                ) -> impl ::std::future::Future<Output = Result<#result, crate::Error<#error>>> + 'a {
                    client.transport().upload(&routes::#c, #arg_expr, body.into())
                }
            },
            "download" => quote! {
                pub fn #f<'a>(
                    client: &'a impl #auth,
                    #arg_param
                    range: Option<rt::ByteRange>,
                ) -> impl ::std::future::Future<Output = Result<rt::Download<#result>, crate::Error<#error>>> + 'a {
                    client.transport().download(&routes::#c, #arg_expr, range)
                }
            },
            _ => quote! {
                pub fn #f<'a>(
                    client: &'a impl #auth,
                    #arg_param
                ) -> impl ::std::future::Future<Output = Result<#result, crate::Error<#error>>> + 'a {
                    client.transport().rpc(&routes::#c, #arg_expr)
                }
            },
        };
        Ok(quote! {
            #docs
            #[doc = ""]
            #[doc = #summary]
            #cfg
            #deprecated
            #body
        })
    }
}

fn preview_cfg(r: &Route) -> TokenStream {
    if r.attr_bool("is_preview") == Some(true) {
        quote!(#[cfg(feature = "preview")])
    } else {
        TokenStream::new()
    }
}
