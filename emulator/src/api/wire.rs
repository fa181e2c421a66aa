//! What goes on the wire in every answer: the refusal type, plain-text and JSON bodies,
//! Dropbox's error envelope and `error_summary`, injected faults' answers, and
//! header-safe JSON.
//!
//! Generated types are written with `dropbox_api::json`, the codec the clients use; only
//! answers that are not Stone types (the token endpoint, the v1 API's OpenAPI types) go
//! through serde ([`serde_response`]).

use axum::response::{IntoResponse, Response};
use dropbox_api::auth::{AuthError, RateLimitError, RateLimitReason};
use dropbox_api::json::{self, Json};
use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER};
use serde::Serialize;

use crate::faults::RateLimitKind;

/// `Dropbox-API-Arg`.
pub(crate) const API_ARG: HeaderName = HeaderName::from_static("dropbox-api-arg");
/// `Dropbox-API-Result`.
pub(crate) const API_RESULT: HeaderName = HeaderName::from_static("dropbox-api-result");

/// The HTTP answer the emulator sends when it refuses a request, in Dropbox's format
/// (not to be confused with `dropbox_api::ApiError`, the client-side view of a 409
/// envelope).
#[derive(Debug)]
pub(crate) enum Refusal {
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

impl Refusal {
    /// A 409 from a generated route error union.
    pub(crate) fn route<E: Json>(e: &E) -> Refusal {
        match to_value(e) {
            Ok(v) => Refusal::Route(v),
            Err(err) => internal(format!("cannot encode route error: {err}")),
        }
    }
}

/// A 500.
pub(crate) fn internal(msg: impl std::fmt::Display) -> Refusal {
    tracing::error!(error = %msg, "internal error");
    Refusal::Status(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Internal Server Error".into(),
    )
}

impl From<std::io::Error> for Refusal {
    fn from(e: std::io::Error) -> Self {
        internal(e)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::BadRequest(m) => text(StatusCode::BAD_REQUEST, &m),
            Refusal::Status(s, m) => text(s, &m),
            Refusal::Auth(e) => envelope(StatusCode::UNAUTHORIZED, &e),
            Refusal::Route(v) => envelope_value(StatusCode::CONFLICT, v),
            Refusal::RateLimited(e) => {
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

/// A JSON response of a generated type, written by the clients' codec.
pub(crate) fn json_response<T: Json>(status: StatusCode, value: &T) -> Response {
    json_bytes(status, json::to_vec(value))
}

/// A 200 JSON result of a generated type.
pub(crate) fn ok<T: Json>(value: &T) -> Response {
    json_response(StatusCode::OK, value)
}

/// A JSON response of a type that is not a Stone type (the token endpoint's answers, the
/// v1 API's OpenAPI types), written by serde.
pub(crate) fn serde_response<T: Serialize>(status: StatusCode, value: &T) -> Response {
    json_bytes(status, serde_json::to_vec(value))
}

fn json_bytes<E: std::fmt::Display>(status: StatusCode, bytes: Result<Vec<u8>, E>) -> Response {
    match bytes {
        Ok(bytes) => {
            let mut r = (status, bytes).into_response();
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r
        }
        Err(e) => internal(format!("cannot encode response: {e}")).into_response(),
    }
}

/// A generated value as a JSON tree (for the envelope and its `error_summary`), written by
/// the clients' codec.
fn to_value<T: Json>(value: &T) -> Result<serde_json::Value, json::Error> {
    json::from_slice(&json::to_vec(value)?)
}

fn envelope<E: Json>(status: StatusCode, e: &E) -> Response {
    match to_value(e) {
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
    Refusal::RateLimited(RateLimitError::new(reason).with_retry_after(retry_after)).into_response()
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
pub(crate) fn header_safe_json<T: Json>(value: &T) -> Result<HeaderValue, Refusal> {
    let s = json::to_string(value).map_err(internal)?;
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
