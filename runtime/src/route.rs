//! Static description of one API route, emitted by the generator for every route.

use std::marker::PhantomData;

/// Which Dropbox host serves a route (the `host` attribute of the spec).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Host {
    /// `api.dropboxapi.com`: RPC endpoints.
    Api,
    /// `content.dropboxapi.com`: uploads and downloads.
    Content,
    /// `notify.dropboxapi.com`: long polling.
    Notify,
}

/// How a route carries its argument and result (the `style` attribute of the spec).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Style {
    /// JSON argument in the body, JSON result in the body.
    Rpc,
    /// JSON argument in `Dropbox-API-Arg`, raw bytes in the body, JSON result in the body.
    Upload,
    /// JSON argument in `Dropbox-API-Arg`, JSON result in `Dropbox-API-Result`, raw bytes in the body.
    Download,
}

/// Static facts about one route, used by the transport to build the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouteSpec {
    /// Stone namespace, for example `files`.
    pub namespace: &'static str,
    /// Route name as written in the spec, for example `upload_session/append`.
    pub name: &'static str,
    /// Route version (1 unless the spec says `name:N`).
    pub version: u32,
    /// URL path below the host, for example `/2/files/upload_session/append_v2`.
    pub path: &'static str,
    /// Host serving the route.
    pub host: Host,
    /// Request and response style.
    pub style: Style,
    /// The `auth` attribute as written in the spec, for example `"app, user"`.
    pub auth: &'static str,
    /// Whether the route only reads, so that a request whose answer was lost may be sent
    /// again (`LostAnswer::RetryIdempotent`, the default): the generator sets it
    /// for routes whose OAuth scope is a read scope (`files.metadata.read`,
    /// `sharing.read`, ..., `sessions.list`).
    pub idempotent: bool,
}

/// A route whose auth type the compiler knows: what the generated `routes::X` constants
/// are. `A` is one of the auth markers of [`crate::auth`] ([`User`](crate::auth::User),
/// [`Team`](crate::auth::Team), ...), and only a client that [`Grants`](crate::auth::Grants)
/// it can call the route, so a `UserClient` cannot call a team route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Route<A> {
    spec: RouteSpec,
    auth: PhantomData<fn() -> A>,
}

impl<A: crate::auth::AuthKind> Route<A> {
    /// The typed route of `spec`, for generated code. `spec.auth` must be `A`'s attribute
    /// (`"user"` for [`User`](crate::auth::User), ...): in a `const`, as the generator writes
    /// them, a mismatch does not compile.
    ///
    /// ```compile_fail
    /// use dropbox_api_runtime::auth::User;
    /// use dropbox_api_runtime::route::{Host, Route, RouteSpec, Style};
    /// const TEAM_AS_USER: Route<User> = Route::new(RouteSpec {
    ///     namespace: "team", name: "members/list", version: 1, path: "/2/team/members/list",
    ///     host: Host::Api, style: Style::Rpc, auth: "team", idempotent: true,
    /// });
    /// let _ = TEAM_AS_USER;
    /// ```
    pub const fn new(spec: RouteSpec) -> Self {
        assert!(
            same(spec.auth.as_bytes(), A::AUTH.as_bytes()),
            "the route's auth attribute is not that of its marker type"
        );
        Route {
            spec,
            auth: PhantomData,
        }
    }
}

impl<A> Route<A> {
    /// The route's description.
    pub const fn spec(&self) -> RouteSpec {
        self.spec
    }
}

impl<A> std::ops::Deref for Route<A> {
    type Target = RouteSpec;

    fn deref(&self) -> &RouteSpec {
        &self.spec
    }
}

const fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}
