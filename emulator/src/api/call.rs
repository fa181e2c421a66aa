//! A checked request to a v2 route and the checks every route shares: the bearer token,
//! the `Content-Type` for the route's style, and decoding of the route's argument.

use axum::body::Body;
use dropbox_api::Validate;
use dropbox_api::auth::AuthError;
use dropbox_api::json::{self, ErrorKind};
use dropbox_api::route::{RouteSpec, Style};
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap};

use super::wire::{API_ARG, Refusal};
use crate::oauth::TokenState;
use crate::state::Shared;

/// A checked request to a v2 route: its description, name, headers and body.
pub(crate) struct Call {
    /// The route's generated description.
    pub(crate) spec: &'static RouteSpec,
    /// Its name as Dropbox writes it in messages (the URL path below `/2/`).
    pub(crate) route: &'static str,
    /// The request headers.
    pub(crate) headers: HeaderMap,
    /// The URL query (for the `arg` parameter).
    pub(crate) query: Option<String>,
    /// The request body (taken by the handler).
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
    pub(crate) async fn rpc_arg<T: json::Json + Validate>(
        &mut self,
        limit: u64,
    ) -> Result<T, Refusal> {
        let body = std::mem::take(&mut self.body);
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
            Refusal::BadRequest(format!(
                "{}: request body: could not read the body (too large or cut short)",
                self.prefix()
            ))
        })?;
        decode(&self.prefix(), "request body", &bytes)
    }

    /// Decodes and validates the `Dropbox-API-Arg` header (or the `arg` URL parameter).
    pub(crate) fn header_arg<T: json::Json + Validate>(&self) -> Result<T, Refusal> {
        if let Some(v) = self.headers.get(API_ARG) {
            let Ok(s) = std::str::from_utf8(v.as_bytes()) else {
                return Err(Refusal::BadRequest(format!(
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
        Err(Refusal::BadRequest(format!(
            "{}: Must provide HTTP header \"Dropbox-API-Arg\" or URL parameter \"arg\".",
            self.prefix()
        )))
    }

    /// The request body as a stream of chunks.
    pub(crate) fn take_stream(&mut self) -> axum::body::BodyDataStream {
        std::mem::take(&mut self.body).into_data_stream()
    }
}

fn decode<T: json::Json + Validate>(
    prefix: &str,
    source: &str,
    bytes: &[u8],
) -> Result<T, Refusal> {
    let value: T = json::from_slice(bytes).map_err(|e| {
        let what = if is_not_json(&e) {
            "could not decode input as JSON".to_string()
        } else {
            e.to_string()
        };
        Refusal::BadRequest(format!("{prefix}: {source}: {what}"))
    })?;
    value
        .validate()
        .map_err(|e| Refusal::BadRequest(format!("{prefix}: {source}: {e}")))?;
    Ok(value)
}

/// Whether the input is not JSON at all (as opposed to JSON of the wrong shape), which
/// Dropbox answers without details.
fn is_not_json(e: &json::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Eof
            | ErrorKind::Syntax { .. }
            | ErrorKind::TrailingCharacters
            | ErrorKind::InvalidUtf8
            | ErrorKind::RecursionLimit
    )
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
pub(crate) fn check_content_type(
    route: &str,
    style: Style,
    headers: &HeaderMap,
) -> Result<(), Refusal> {
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
    Err(Refusal::BadRequest(format!(
        "Error in call to API function \"{route}\": Bad HTTP \"Content-Type\" header: {got}. Expecting one of {expected}."
    )))
}

/// Checks the bearer token.
pub(crate) fn authenticate(
    shared: &Shared,
    route: &str,
    headers: &HeaderMap,
) -> Result<(), Refusal> {
    let Some(v) = headers.get(AUTHORIZATION) else {
        return Err(Refusal::BadRequest(format!(
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
        return Err(Refusal::BadRequest(format!(
            "Error in call to API function \"{route}\": Invalid authorization value in HTTP header \"Authorization\". Expecting \"Bearer <oauth2-access-token>\"."
        )));
    };
    match shared.oauth.check(token) {
        TokenState::Valid => Ok(()),
        TokenState::Expired => Err(Refusal::Auth(AuthError::ExpiredAccessToken)),
        TokenState::Invalid => Err(Refusal::Auth(AuthError::InvalidAccessToken)),
    }
}
