//! The v2 route table, from the generated route descriptions
//! (`dropbox_api::<namespace>::routes`, type [`RouteSpec`]).
//!
//! A path below `/2/` is one of three things:
//!
//! - a route the emulator serves: its [`RouteSpec`] gives the style (how the argument and
//!   the result travel), which decides the `Content-Type` check and the dispatch;
//! - a route the generated crate describes but the emulator does not serve: HTTP 400 with
//!   the plain-text body `Error in call to API function "ns/route": the emulator does not
//!   implement this route`. A 400 is what Dropbox answers for a call it will not carry
//!   out as sent, every client treats it as permanent (the runtime never retries it,
//!   unlike a 5xx such as 501), and the body names the route;
//! - anything else: Dropbox's 404 `Unknown API function or endpoint.`.

use axum::response::Response;
use dropbox_api::files::routes as files;
use dropbox_api::route::RouteSpec;
use http::StatusCode;

use super::wire::text;

/// The routes the emulator serves, in the order of the spec.
const EMULATED: &[RouteSpec] = &[
    files::UPLOAD.spec(),
    files::UPLOAD_SESSION_START.spec(),
    files::UPLOAD_SESSION_START_BATCH.spec(),
    files::UPLOAD_SESSION_APPEND.spec(),
    files::UPLOAD_SESSION_APPEND_V2.spec(),
    files::UPLOAD_SESSION_APPEND_BATCH.spec(),
    files::UPLOAD_SESSION_FINISH.spec(),
    files::UPLOAD_SESSION_FINISH_BATCH.spec(),
    files::UPLOAD_SESSION_FINISH_BATCH_V2.spec(),
    files::UPLOAD_SESSION_FINISH_BATCH_CHECK.spec(),
    files::GET_TEMPORARY_UPLOAD_LINK.spec(),
    files::GET_METADATA.spec(),
    files::DOWNLOAD.spec(),
    files::DELETE_V2.spec(),
    files::CREATE_FOLDER_V2.spec(),
    files::LIST_FOLDER.spec(),
    files::LIST_FOLDER_CONTINUE.spec(),
];

/// Every route the generated crate describes, by namespace (the namespaces of the
/// `dropbox-api` features the emulator enables).
const DESCRIBED: &[&[RouteSpec]] = dropbox_api::ROUTES;

/// The v2 routes the emulator serves, as the generated crate describes them (in spec
/// order). The legacy v1 chunked upload, temporary upload links and `/oauth2/token` are
/// served too but have no [`RouteSpec`].
///
/// ```
/// let served: Vec<&str> = dbx_emulator::emulated_routes().map(|r| r.path).collect();
/// assert!(served.contains(&dropbox_api::files::routes::UPLOAD.path));
/// ```
pub fn emulated_routes() -> impl Iterator<Item = &'static RouteSpec> {
    EMULATED.iter()
}

/// Whether the emulator serves `route`.
pub fn is_emulated(route: &RouteSpec) -> bool {
    EMULATED.contains(route)
}

/// What a path below `/2/` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// A route the emulator serves.
    Emulated(&'static RouteSpec),
    /// A route of the generated crate the emulator does not serve.
    NotEmulated(&'static RouteSpec),
    /// No such route.
    Unknown,
}

/// Looks up `/2/{route}`.
pub(crate) fn lookup(route: &str) -> Lookup {
    resolve(route, EMULATED, DESCRIBED.iter().flat_map(|ns| ns.iter()))
}

/// Looks `route` (the path below `/2/`) up in a table.
fn resolve(
    route: &str,
    emulated: &'static [RouteSpec],
    described: impl IntoIterator<Item = &'static RouteSpec>,
) -> Lookup {
    if let Some(spec) = emulated.iter().find(|r| name(r) == route) {
        return Lookup::Emulated(spec);
    }
    match described.into_iter().find(|r| name(r) == route) {
        Some(spec) => Lookup::NotEmulated(spec),
        None => Lookup::Unknown,
    }
}

/// The name of `/2/{route}` for stats, logs and fault globs, when the generated crate
/// describes the route (served or not).
pub(crate) fn known_name(route: &str) -> Option<&'static str> {
    match lookup(route) {
        Lookup::Emulated(spec) | Lookup::NotEmulated(spec) => Some(name(spec)),
        Lookup::Unknown => None,
    }
}

/// A route's name as Dropbox writes it in messages: its URL path below `/2/`
/// (`files/upload_session/append_v2`).
pub(crate) fn name(spec: &'static RouteSpec) -> &'static str {
    spec.path.strip_prefix("/2/").unwrap_or(spec.path)
}

/// The answer to a call of a route the emulator does not serve (see the module
/// documentation).
pub(crate) fn not_emulated(spec: &'static RouteSpec) -> Response {
    text(
        StatusCode::BAD_REQUEST,
        &format!(
            "Error in call to API function \"{}\": the emulator does not implement this route",
            name(spec)
        ),
    )
}

#[cfg(test)]
mod tests {
    use dropbox_api::route::{Host, Style};

    use super::*;

    /// A route the spec could describe but the emulator does not serve.
    static COPY: RouteSpec = RouteSpec {
        namespace: "files",
        name: "copy",
        version: 2,
        path: "/2/files/copy_v2",
        host: Host::Api,
        style: Style::Rpc,
        auth: "user",
        idempotent: false,
    };

    #[test]
    fn served_described_and_unknown_paths() {
        let described = || EMULATED.iter().chain([&COPY]);
        assert_eq!(
            resolve("files/upload", EMULATED, described()),
            Lookup::Emulated(&files::UPLOAD)
        );
        assert_eq!(
            resolve("files/list_folder/continue", EMULATED, described()),
            Lookup::Emulated(&files::LIST_FOLDER_CONTINUE)
        );
        assert_eq!(
            resolve("files/copy_v2", EMULATED, described()),
            Lookup::NotEmulated(&COPY)
        );
        assert_eq!(
            resolve("files/copy_v3", EMULATED, described()),
            Lookup::Unknown
        );
        assert_eq!(
            resolve("/2/files/upload", EMULATED, described()),
            Lookup::Unknown
        );
        // The real table: every served route is described by the generated crate. On our
        // spec slice the two are the same set; on the whole official API (vendored into
        // `specs/`) the rest is described but not emulated.
        let all: Vec<&RouteSpec> = DESCRIBED.iter().flat_map(|ns| ns.iter()).collect();
        assert!(EMULATED.iter().all(|r| all.contains(&r)));
        if all.iter().any(|r| r.path == COPY.path) {
            assert!(matches!(
                lookup("files/copy_v2"),
                Lookup::NotEmulated(r) if r.path == COPY.path
            ));
        } else {
            assert_eq!(all.len(), EMULATED.len());
            assert_eq!(lookup("files/copy_v2"), Lookup::Unknown);
        }
        for spec in emulated_routes() {
            assert_eq!(lookup(name(spec)), Lookup::Emulated(spec));
            assert!(is_emulated(spec));
        }
        assert!(!is_emulated(&COPY));
    }

    #[tokio::test]
    async fn an_unemulated_route_is_a_plain_400_naming_it() {
        let r = not_emulated(&COPY);
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            r.headers()[http::header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
        let body = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
        assert_eq!(
            &body[..],
            b"Error in call to API function \"files/copy_v2\": the emulator does not implement this route"
        );
    }
}
