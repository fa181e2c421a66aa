//! The Dropbox wire protocol: routing, argument decoding, authentication and error
//! responses, with the generated `dropbox-api` types on the wire.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use dropbox_api::Validate;
use dropbox_api::auth::{AuthError, RateLimitError, RateLimitReason};
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use http::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::faults::RateLimitKind;
use crate::oauth::TokenState;
use crate::state::Shared;

mod control;
mod convert;
mod files;
mod legacy;
mod oauth;

pub(crate) use files::resume_job;

/// `Dropbox-API-Arg`.
pub(crate) const API_ARG: HeaderName = HeaderName::from_static("dropbox-api-arg");
/// `Dropbox-API-Result`.
pub(crate) const API_RESULT: HeaderName = HeaderName::from_static("dropbox-api-result");

/// The v2 routes the emulator serves (URL path below `/2/`).
const ROUTES: &[&str] = &[
    "files/upload",
    "files/upload_session/start",
    "files/upload_session/start_batch",
    "files/upload_session/append",
    "files/upload_session/append_v2",
    "files/upload_session/append_batch",
    "files/upload_session/finish",
    "files/upload_session/finish_batch",
    "files/upload_session/finish_batch_v2",
    "files/upload_session/finish_batch/check",
    "files/get_temporary_upload_link",
    "files/get_metadata",
    "files/download",
    "files/delete_v2",
    "files/create_folder_v2",
    "files/list_folder",
    "files/list_folder/continue",
    // Served by `oauth::revoke` (its own axum route), listed for the route label.
    "auth/token/revoke",
];

/// Whether `/2/{route}` is served.
pub(crate) fn is_known_route(route: &str) -> bool {
    ROUTES.contains(&route)
}

/// Builds the router.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/2/{*route}", any(v2))
        .route("/apitul/1/{id}", any(files::consume_upload_link))
        .route("/1/chunked_upload", any(legacy::chunked_upload))
        .route(
            "/1/commit_chunked_upload/{*path}",
            any(legacy::commit_chunked_upload),
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

/// An error answer in Dropbox's format.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// 400, plain text.
    BadRequest(String),
    /// 401, `AuthError` envelope.
    Auth(AuthError),
    /// 409, route error envelope (the serialized error union).
    Route(serde_json::Value),
    /// 429, `RateLimitError` envelope plus `Retry-After`.
    RateLimited(RateLimitError),
    /// Any other status with a plain-text body.
    Status(StatusCode, String),
}

impl ApiError {
    /// A 409 from a generated route error union.
    pub(crate) fn route<E: Serialize>(e: &E) -> ApiError {
        match serde_json::to_value(e) {
            Ok(v) => ApiError::Route(v),
            Err(err) => internal(format!("cannot encode route error: {err}")),
        }
    }
}

/// A 500.
pub(crate) fn internal(msg: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %msg, "internal error");
    ApiError::Status(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Internal Server Error".into(),
    )
}

impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> Self {
        internal(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::BadRequest(m) => text(StatusCode::BAD_REQUEST, &m),
            ApiError::Status(s, m) => text(s, &m),
            ApiError::Auth(e) => envelope(StatusCode::UNAUTHORIZED, &e),
            ApiError::Route(v) => envelope_value(StatusCode::CONFLICT, v),
            ApiError::RateLimited(e) => {
                let retry = e.retry_after;
                let mut r = envelope(StatusCode::TOO_MANY_REQUESTS, &e);
                r.headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(retry));
                r
            }
        }
    }
}

/// A plain-text response.
pub(crate) fn text(status: StatusCode, body: &str) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// A JSON response.
pub(crate) fn json_response<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => {
            let mut r = (status, bytes).into_response();
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r
        }
        Err(e) => internal(format!("cannot encode response: {e}")).into_response(),
    }
}

/// A 200 JSON result.
pub(crate) fn ok<T: Serialize>(value: &T) -> Response {
    json_response(StatusCode::OK, value)
}

fn envelope<E: Serialize>(status: StatusCode, e: &E) -> Response {
    match serde_json::to_value(e) {
        Ok(v) => envelope_value(status, v),
        Err(err) => internal(format!("cannot encode error: {err}")).into_response(),
    }
}

fn envelope_value(status: StatusCode, error: serde_json::Value) -> Response {
    let body = serde_json::json!({
        "error_summary": error_summary(&error),
        "error": error,
    });
    json_response(status, &body)
}

/// Dropbox's `error_summary`: the tags from the outside in, joined by `/`, then `/...`.
pub(crate) fn error_summary(error: &serde_json::Value) -> String {
    format!("{}/...", dropbox_api::tags::tags_of(error).join("/"))
}

/// The answer of an injected 500 or 503.
pub(crate) fn injected_status(code: u16) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    text(
        status,
        "Injected fault: the emulator was told to fail this call.",
    )
}

/// The answer of an injected 429.
pub(crate) fn injected_rate_limit(retry_after: u64, kind: RateLimitKind) -> Response {
    let reason = match kind {
        RateLimitKind::TooManyRequests => RateLimitReason::TooManyRequests,
        RateLimitKind::TooManyWriteOperations => RateLimitReason::TooManyWriteOperations,
    };
    ApiError::RateLimited(RateLimitError::new(reason).with_retry_after(retry_after)).into_response()
}

/// How a route carries its argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Rpc,
    Upload,
    Download,
}

fn style_of(route: &str) -> Style {
    match route {
        "files/upload"
        | "files/upload_session/start"
        | "files/upload_session/append"
        | "files/upload_session/append_v2"
        | "files/upload_session/append_batch"
        | "files/upload_session/finish" => Style::Upload,
        "files/download" => Style::Download,
        _ => Style::Rpc,
    }
}

/// A checked request to a v2 route: its name, headers and body.
pub(crate) struct Call {
    pub(crate) route: &'static str,
    pub(crate) headers: HeaderMap,
    pub(crate) query: Option<String>,
    pub(crate) body: Body,
}

impl Call {
    /// `Content-Length`, when the client sent one.
    pub(crate) fn declared_len(&self) -> Option<u64> {
        self.headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
    }

    fn prefix(&self) -> String {
        format!("Error in call to API function \"{}\"", self.route)
    }

    /// Decodes and validates the JSON body of an rpc route.
    pub(crate) async fn rpc_arg<T: DeserializeOwned + Validate>(
        &mut self,
        limit: u64,
    ) -> Result<T, ApiError> {
        let body = std::mem::take(&mut self.body);
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
            ApiError::BadRequest(format!(
                "{}: request body: could not read the body (too large or cut short)",
                self.prefix()
            ))
        })?;
        decode(&self.prefix(), "request body", &bytes)
    }

    /// Decodes and validates the `Dropbox-API-Arg` header (or the `arg` URL parameter).
    pub(crate) fn header_arg<T: DeserializeOwned + Validate>(&self) -> Result<T, ApiError> {
        if let Some(v) = self.headers.get(API_ARG) {
            let Ok(s) = std::str::from_utf8(v.as_bytes()) else {
                return Err(ApiError::BadRequest(format!(
                    "{}: HTTP header \"Dropbox-API-Arg\": not valid UTF-8",
                    self.prefix()
                )));
            };
            return decode(
                &self.prefix(),
                "HTTP header \"Dropbox-API-Arg\"",
                s.as_bytes(),
            );
        }
        if let Some(q) = &self.query {
            for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
                if k == "arg" {
                    return decode(&self.prefix(), "URL parameter \"arg\"", v.as_bytes());
                }
            }
        }
        Err(ApiError::BadRequest(format!(
            "{}: Must provide HTTP header \"Dropbox-API-Arg\" or URL parameter \"arg\".",
            self.prefix()
        )))
    }

    /// The request body as a stream of chunks.
    pub(crate) fn take_stream(&mut self) -> axum::body::BodyDataStream {
        std::mem::take(&mut self.body).into_data_stream()
    }
}

fn decode<T: DeserializeOwned + Validate>(
    prefix: &str,
    source: &str,
    bytes: &[u8],
) -> Result<T, ApiError> {
    let value: T = serde_json::from_slice(bytes).map_err(|e| {
        let what = if e.is_syntax() || e.is_eof() {
            "could not decode input as JSON".to_string()
        } else {
            e.to_string()
        };
        ApiError::BadRequest(format!("{prefix}: {source}: {what}"))
    })?;
    value
        .validate()
        .map_err(|e| ApiError::BadRequest(format!("{prefix}: {source}: {e}")))?;
    Ok(value)
}

fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_ascii_lowercase())
}

fn media_type(ct: &str) -> &str {
    ct.split(';').next().unwrap_or("").trim()
}

/// Checks the Content-Type against the route style.
fn check_content_type(route: &str, style: Style, headers: &HeaderMap) -> Result<(), ApiError> {
    let ct = content_type(headers);
    let ok = match (style, ct.as_deref()) {
        (Style::Rpc, Some(ct)) => {
            media_type(ct) == "application/json" || ct == "text/plain; charset=dropbox-cors-hack"
        }
        (Style::Rpc, None) => false,
        (Style::Upload, Some(ct)) => {
            media_type(ct) == "application/octet-stream"
                || ct == "text/plain; charset=dropbox-cors-hack"
        }
        (Style::Upload, None) => false,
        (Style::Download, None) => true,
        (Style::Download, Some(ct)) => {
            ct.is_empty()
                || media_type(ct) == "text/plain"
                || media_type(ct) == "application/octet-stream"
        }
    };
    if ok {
        return Ok(());
    }
    let expected = match style {
        Style::Rpc => "\"application/json\", \"application/json; charset=utf-8\"",
        Style::Upload => "\"application/octet-stream\"",
        Style::Download => "\"text/plain\", \"application/octet-stream\" (or none)",
    };
    let got = ct
        .map(|c| format!("{c:?}"))
        .unwrap_or_else(|| "missing".into());
    Err(ApiError::BadRequest(format!(
        "Error in call to API function \"{route}\": Bad HTTP \"Content-Type\" header: {got}. Expecting one of {expected}."
    )))
}

/// Checks the bearer token.
pub(crate) fn authenticate(
    shared: &Shared,
    route: &str,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let Some(v) = headers.get(AUTHORIZATION) else {
        return Err(ApiError::BadRequest(format!(
            "Error in call to API function \"{route}\": Must provide HTTP header \"Authorization\" or URL parameter \"authorization\"."
        )));
    };
    let token = v
        .to_str()
        .ok()
        .and_then(|s| {
            let (scheme, rest) = s.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .filter(|t| !t.is_empty());
    // The header's value is a secret: never echo it.
    let Some(token) = token else {
        return Err(ApiError::BadRequest(format!(
            "Error in call to API function \"{route}\": Invalid authorization value in HTTP header \"Authorization\". Expecting \"Bearer <oauth2-access-token>\"."
        )));
    };
    match shared.oauth.check(token) {
        TokenState::Valid => Ok(()),
        TokenState::Expired => Err(ApiError::Auth(AuthError::ExpiredAccessToken)),
        TokenState::Invalid => Err(ApiError::Auth(AuthError::InvalidAccessToken)),
    }
}

async fn v2(
    State(shared): State<Arc<Shared>>,
    Path(route): Path<String>,
    req: Request,
) -> Response {
    let Some(route) = ROUTES.iter().copied().find(|r| *r == route) else {
        return not_found().await;
    };
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
    let style = style_of(route);
    if let Err(e) = check_content_type(route, style, &parts.headers) {
        return e.into_response();
    }
    let call = Call {
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

/// Runs a handler as its own task, so a client that goes away mid-request cannot cancel it
/// half-way (between appending and recording the new offset, or between committing and
/// forgetting the session): it always runs to completion and cleans up after itself.
pub(crate) async fn detached<F>(handler: F) -> Response
where
    F: Future<Output = Response> + Send + 'static,
{
    match tokio::spawn(handler).await {
        Ok(r) => r,
        Err(e) => internal(format!("handler failed: {e}")).into_response(),
    }
}

/// JSON for a `Dropbox-API-Result` header: every character outside printable ASCII is
/// written as a `\uXXXX` escape (surrogate pairs above U+FFFF), as Dropbox does, with the
/// runtime's escaping (one place for the rule).
pub(crate) fn header_safe_json<T: Serialize>(value: &T) -> Result<HeaderValue, ApiError> {
    let s = serde_json::to_string(value).map_err(internal)?;
    HeaderValue::from_str(&dropbox_api::header::escape_header_json(&s)).map_err(internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries() {
        let v = serde_json::json!({".tag": "lookup_failed", "lookup_failed": {".tag": "incorrect_offset", "correct_offset": 5}});
        assert_eq!(error_summary(&v), "lookup_failed/incorrect_offset/...");
        let v = serde_json::json!({".tag": "path", "reason": {".tag": "conflict", "conflict": {".tag": "file"}}, "upload_session_id": "x"});
        assert_eq!(error_summary(&v), "path/conflict/file/...");
        let v =
            serde_json::json!({"reason": {".tag": "too_many_write_operations"}, "retry_after": 1});
        assert_eq!(error_summary(&v), "too_many_write_operations/...");
        let v = serde_json::json!({".tag": "invalid_access_token"});
        assert_eq!(error_summary(&v), "invalid_access_token/...");
    }

    #[test]
    fn header_json_is_ascii() {
        let v = serde_json::json!({"name": "ü😀\u{7f}"});
        let h = header_safe_json(&v).unwrap();
        assert_eq!(
            h.to_str().unwrap(),
            r#"{"name":"\u00fc\ud83d\ude00\u007f"}"#
        );
        let back: serde_json::Value = serde_json::from_str(h.to_str().unwrap()).unwrap();
        assert_eq!(back, v);
    }
}
