//! The OAuth 2 endpoints: `GET /oauth2/authorize` (approved at once by the emulator's one
//! user), `POST /oauth2/token`, and the `auth/token/revoke` route.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION};
use http::{HeaderValue, Method, StatusCode};

use super::call::authenticate;
use super::wire::{ok, serde_response, text};
use crate::oauth::OAuthError;
use crate::state::Shared;

/// `GET /oauth2/authorize?client_id=...&response_type=code&...`: what Dropbox's page does
/// once the user clicks "Allow", without the page. With a `redirect_uri`, a `302` to it
/// with `code` (and `state`); without one (the copy-paste flow), the code: as JSON
/// `{"code": ...}` when the request accepts `application/json`, else as a short text whose
/// last line is the code. A malformed request is a `400` with a plain-text reason.
pub(crate) async fn authorize(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    if req.method() != Method::GET && req.method() != Method::POST {
        return text(StatusCode::METHOD_NOT_ALLOWED, "Use GET.");
    }
    let params: HashMap<String, String> =
        url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let approval = match shared.oauth.approve_params(&params) {
        Ok(a) => a,
        Err(OAuthError::UnknownClient(_)) => {
            return text(StatusCode::BAD_REQUEST, "Invalid client_id.");
        }
        Err(e) => return text(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    if let Some(to) = approval.redirect {
        return match HeaderValue::from_str(&to) {
            Ok(v) => {
                let mut r = StatusCode::FOUND.into_response();
                r.headers_mut().insert(LOCATION, v);
                r
            }
            Err(_) => text(
                StatusCode::BAD_REQUEST,
                "redirect_uri is not a valid header value.",
            ),
        };
    }
    let wants_json = req
        .headers()
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    if wants_json {
        return ok(&serde_json::json!({ "code": approval.code }));
    }
    text(
        StatusCode::OK,
        &format!(
            "Access granted (dbx emulator). Enter this code into the app to finish:\n{}\n",
            approval.code
        ),
    )
}

/// `POST /oauth2/token` (form-encoded; client credentials in the form or as HTTP Basic).
pub(crate) async fn token(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    if req.method() != Method::POST {
        return text(StatusCode::METHOD_NOT_ALLOWED, "Use POST.");
    }
    let mut form: HashMap<String, String> =
        url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let basic = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            if !scheme.eq_ignore_ascii_case("basic") {
                return None;
            }
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest.trim())
                .ok()?;
            let s = String::from_utf8(decoded).ok()?;
            let (id, secret) = s.split_once(':')?;
            Some((id.to_string(), secret.to_string()))
        });
    let is_form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let body = match axum::body::to_bytes(req.into_body(), 64 * 1024).await {
        Ok(b) => b,
        Err(_) => return text(StatusCode::BAD_REQUEST, "The request body is too large."),
    };
    if is_form {
        form.extend(url::form_urlencoded::parse(&body).into_owned());
    }
    match shared.oauth.token(&form, basic) {
        Ok(t) => serde_response(StatusCode::OK, &t),
        Err(e) => serde_response(StatusCode::BAD_REQUEST, &e),
    }
}

/// `POST /2/auth/token/revoke`: disables the bearer token (and its refresh token and that
/// token's other access tokens). The argument is void: no body (as Dropbox's own examples
/// send it), or `null` as JSON. Answers `null`.
pub(crate) async fn revoke(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    const ROUTE: &str = "auth/token/revoke";
    let (parts, body) = req.into_parts();
    if parts.method != Method::POST {
        return text(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("Error in call to API function \"{ROUTE}\": Use POST."),
        );
    }
    if let Err(e) = authenticate(&shared, ROUTE, &parts.headers) {
        return e.into_response();
    }
    let body = match axum::body::to_bytes(body, 1024).await {
        Ok(b) => b,
        Err(_) => {
            return text(
                StatusCode::BAD_REQUEST,
                &format!("Error in call to API function \"{ROUTE}\": request body: too large"),
            );
        }
    };
    let ct = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|s| {
            s.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    let void = match ct.as_deref() {
        None | Some("") => body.iter().all(u8::is_ascii_whitespace),
        Some("application/json") => {
            let t = String::from_utf8_lossy(&body);
            matches!(t.trim(), "" | "null")
        }
        Some(other) => {
            return text(
                StatusCode::BAD_REQUEST,
                &format!(
                    "Error in call to API function \"{ROUTE}\": Bad HTTP \"Content-Type\" header: \"{other}\". Expecting one of \"application/json\", \"application/json; charset=utf-8\"."
                ),
            );
        }
    };
    if !void {
        return text(
            StatusCode::BAD_REQUEST,
            &format!(
                "Error in call to API function \"{ROUTE}\": request body: expected null, got value"
            ),
        );
    }
    // `authenticate` accepted the header, so it is `Bearer <token>`.
    let token = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().split_once(' '))
        .map(|(_, t)| t.trim().to_string())
        .unwrap_or_default();
    shared.oauth.revoke(&token);
    ok(&serde_json::Value::Null)
}
