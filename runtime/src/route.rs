//! Static description of one API route, emitted by the generator for every route.

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
