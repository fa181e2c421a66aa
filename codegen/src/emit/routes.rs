//! Routes: one `async fn` per route, and a `routes` module of static route descriptions.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::ModuleCx;
use super::names::{ident, route_fn_name};
use crate::ir::{Auth, DataType, Host, Route, Style};

/// The runtime marker trait for an `auth` attribute, for route function signatures.
pub(super) fn auth_trait(auth: Auth) -> TokenStream {
    match auth {
        Auth::User => quote!(rt::auth::UserAuth),
        Auth::Team => quote!(rt::auth::TeamAuth),
        Auth::App => quote!(rt::auth::AppAuth),
        Auth::NoAuth => quote!(rt::auth::NoAuth),
        Auth::AppOrUser => quote!(rt::auth::AppOrUserAuth),
        Auth::AppOrTeam => quote!(rt::auth::AppOrTeamAuth),
    }
}

/// The runtime marker type of an `auth` attribute, the parameter of `rt::route::Route`.
fn auth_kind(auth: Auth) -> TokenStream {
    match auth {
        Auth::User => quote!(rt::auth::User),
        Auth::Team => quote!(rt::auth::Team),
        Auth::App => quote!(rt::auth::App),
        Auth::NoAuth => quote!(rt::auth::Anyone),
        Auth::AppOrUser => quote!(rt::auth::AppOrUser),
        Auth::AppOrTeam => quote!(rt::auth::AppOrTeam),
    }
}

impl ModuleCx<'_> {
    /// The constant naming a route's static description.
    fn route_const(r: &Route) -> proc_macro2::Ident {
        format_ident!("{}", route_fn_name(r).to_uppercase())
    }

    /// Emits the `routes` module with one `RouteSpec` per route.
    pub(super) fn route_specs(&self) -> TokenStream {
        let Some(ns) = self.api.namespaces.get(self.ns) else {
            return TokenStream::new();
        };
        if ns.routes.is_empty() {
            return TokenStream::new();
        }
        let mut consts = TokenStream::new();
        let mut all = TokenStream::new();
        for r in &ns.routes {
            let c = Self::route_const(r);
            let cfg = preview_cfg(r);
            all.extend(quote!(#cfg #c.spec(),));
            let namespace = &r.namespace;
            let name = &r.name;
            let version = r.version;
            let path = r.url_path();
            let host = match r.host {
                Host::Api => quote!(rt::route::Host::Api),
                Host::Content => quote!(rt::route::Host::Content),
                Host::Notify => quote!(rt::route::Host::Notify),
            };
            let style = match r.style {
                Style::Rpc => quote!(rt::route::Style::Rpc),
                Style::Upload => quote!(rt::route::Style::Upload),
                Style::Download => quote!(rt::route::Style::Download),
            };
            let auth = r.auth.as_str();
            let kind = auth_kind(r.auth);
            let idempotent = r.is_read_only();
            let doc = format!(" `{name}` version {version}.");
            consts.extend(quote! {
                #[doc = #doc]
                #cfg
                pub const #c: rt::route::Route<#kind> = rt::route::Route::new(rt::route::RouteSpec {
                    namespace: #namespace,
                    name: #name,
                    version: #version,
                    path: #path,
                    host: #host,
                    style: #style,
                    auth: #auth,
                    idempotent: #idempotent,
                });
            });
        }
        quote! {
            /// Static descriptions of this namespace's routes (URL path, host, style, auth).
            pub mod routes {
                #[allow(unused_imports)]
                use ::dropbox_api_runtime::__private as rt;
                #consts
                /// Every route of this namespace, in spec order (preview routes only with
                /// the `preview` feature).
                pub const ALL: &[rt::route::RouteSpec] = &[#all];
            }
        }
    }

    /// Emits the function of one route.
    pub(super) fn emit_route(&self, r: &Route) -> TokenStream {
        let f = ident(&route_fn_name(r));
        let c = Self::route_const(r);
        let auth = auth_trait(r.auth);
        let docs = self.docs(r.doc.as_deref(), None);
        let label = if r.version > 1 {
            format!("{}:{}", r.name, r.version)
        } else {
            r.name.clone()
        };
        let summary = format!(
            " Route `{}/{label}`: `POST {}` on the {} host ({} style, auth `{}`).",
            r.namespace,
            r.url_path(),
            r.host,
            r.style,
            r.auth
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
        let body = match r.style {
            Style::Upload => quote! {
                pub fn #f<'a>(
                    client: &'a impl #auth,
                    #arg_param
                    body: impl Into<rt::Body>,
                ) -> impl ::std::future::Future<Output = Result<#result, crate::Error<#error>>> + 'a {
                    rt::upload(client, &routes::#c, #arg_expr, body.into())
                }
            },
            Style::Download => quote! {
                pub fn #f<'a>(
                    client: &'a impl #auth,
                    #arg_param
                    range: Option<rt::ByteRange>,
                ) -> impl ::std::future::Future<Output = Result<rt::Download<#result>, crate::Error<#error>>> + 'a {
                    rt::download(client, &routes::#c, #arg_expr, range)
                }
            },
            Style::Rpc => quote! {
                pub fn #f<'a>(
                    client: &'a impl #auth,
                    #arg_param
                ) -> impl ::std::future::Future<Output = Result<#result, crate::Error<#error>>> + 'a {
                    rt::rpc(client, &routes::#c, #arg_expr)
                }
            },
        };
        quote! {
            #docs
            #[doc = ""]
            #[doc = #summary]
            #cfg
            #deprecated
            #body
        }
    }
}

fn preview_cfg(r: &Route) -> TokenStream {
    preview_gate(r.is_preview)
}

/// `#[cfg(feature = "preview")]` for an item that uses a preview route.
pub(super) fn preview_gate(preview: bool) -> TokenStream {
    if preview {
        quote!(#[cfg(feature = "preview")])
    } else {
        TokenStream::new()
    }
}
