//! The Dropbox wire protocol: routing, argument decoding, authentication and error
//! responses, with the generated `dropbox-api` types on the wire.
//!
//! - [`routes`] holds the v2 route table from the generated route descriptions, and the
//!   answer to routes the emulator does not serve (HTTP 400 naming the route).
//! - [`call`] holds a checked v2 request and the checks every route shares.
//! - [`wire`] holds the answers (refusals, envelopes, plain text, JSON).
//! - [`files`] holds the `files` routes; [`v1`], the legacy v1 chunked upload; [`control`],
//!   `/oauth2/token` and `/__emulator/`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use http::{Method, StatusCode};

use crate::state::Shared;

mod call;
mod control;
pub(crate) mod convert;
mod files;
mod oauth;
pub(crate) mod routes;
mod v1;
mod wire;

pub(crate) use files::resume_job;
pub(crate) use wire::{injected_rate_limit, injected_status};

use call::{Call, authenticate, check_content_type};
use routes::Lookup;
use wire::{detached, text};

/// Builds the router.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/2/{*route}", any(v2))
        .route("/apitul/1/{id}", any(files::consume_upload_link))
        .route("/1/chunked_upload", any(v1::chunked_upload))
        .route(
            "/1/commit_chunked_upload/{*path}",
            any(v1::commit_chunked_upload),
        )
        .route("/oauth2/authorize", any(oauth::authorize))
        .route("/oauth2/token", any(oauth::token))
        .route("/2/auth/token/revoke", any(oauth::revoke))
        .route(
            "/__emulator/faults",
            get(control::faults_get)
                .post(control::faults_add)
                .put(control::faults_replace)
                .delete(control::faults_clear),
        )
        .route(
            "/__emulator/faults/{id}",
            axum::routing::delete(control::faults_remove),
        )
        .route(
            "/__emulator/stats",
            get(control::stats_get).delete(control::stats_reset),
        )
        .route(
            "/__emulator/clock",
            get(control::clock_get).post(control::clock_advance),
        )
        .fallback(not_found)
        .with_state(shared)
}

async fn not_found() -> Response {
    text(StatusCode::NOT_FOUND, "Unknown API function or endpoint.")
}

async fn v2(
    State(shared): State<Arc<Shared>>,
    Path(route): Path<String>,
    req: Request,
) -> Response {
    let spec = match routes::lookup(&route) {
        Lookup::Emulated(spec) => spec,
        Lookup::NotEmulated(spec) => return routes::not_emulated(spec),
        Lookup::Unknown => return not_found().await,
    };
    let route = routes::name(spec);
    let (parts, body) = req.into_parts();
    if parts.method != Method::POST {
        return text(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("Error in call to API function \"{route}\": Use POST."),
        );
    }
    if let Err(e) = authenticate(&shared, route, &parts.headers) {
        return e.into_response();
    }
    if let Err(e) = check_content_type(route, spec.style, &parts.headers) {
        return e.into_response();
    }
    let call = Call {
        spec,
        route,
        headers: parts.headers,
        query: parts.uri.query().map(str::to_string),
        body,
    };
    detached(async move {
        match files::dispatch(shared, call).await {
            Ok(r) => r,
            Err(e) => e.into_response(),
        }
    })
    .await
}
