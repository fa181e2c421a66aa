//! `/oauth2/token` and the emulator's own control endpoints under `/__emulator/`
//! (a prefix Dropbox never uses).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::response::Response;
use base64::Engine;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{Method, StatusCode};
use serde::Deserialize;

use super::wire::{json_response, ok, text};
use crate::faults::FaultRule;
use crate::state::Shared;

/// `POST /oauth2/token` (form-encoded; client credentials in the form or as HTTP Basic).
pub(crate) async fn oauth_token(State(shared): State<Arc<Shared>>, req: Request) -> Response {
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
        Ok(t) => ok(&t),
        Err(e) => json_response(StatusCode::BAD_REQUEST, &e),
    }
}

fn parse_json<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))
}

fn bad_json(msg: &str) -> Response {
    text(StatusCode::BAD_REQUEST, msg)
}

fn faults_status(shared: &Shared) -> serde_json::Value {
    serde_json::json!({
        "seed": shared.faults.seed(),
        "rules": shared.faults.rules(),
        "injected": shared.faults.injected(),
        "injected_by_kind": shared.faults.injected_by_kind(),
    })
}

/// `GET /__emulator/faults`: rules, seed and counters.
pub(crate) async fn faults_get(State(shared): State<Arc<Shared>>) -> Response {
    ok(&faults_status(&shared))
}

/// `POST /__emulator/faults`: adds one rule (a `FaultRule` as JSON); answers `{"id": n}`.
pub(crate) async fn faults_add(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match parse_json::<FaultRule>(&body) {
        Ok(rule) => ok(&serde_json::json!({ "id": shared.faults.add(rule) })),
        Err(m) => bad_json(&m),
    }
}

#[derive(Deserialize)]
struct Replace {
    #[serde(default)]
    seed: Option<u64>,
    #[serde(default)]
    rules: Vec<FaultRule>,
}

/// `PUT /__emulator/faults`: replaces all rules (`{"seed"?: n, "rules": [...]}`).
pub(crate) async fn faults_replace(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match parse_json::<Replace>(&body) {
        Ok(r) => {
            shared.faults.clear();
            if let Some(seed) = r.seed {
                shared.faults.set_seed(seed);
            }
            for rule in r.rules {
                shared.faults.add(rule);
            }
            ok(&faults_status(&shared))
        }
        Err(m) => bad_json(&m),
    }
}

/// `DELETE /__emulator/faults`: removes every rule.
pub(crate) async fn faults_clear(State(shared): State<Arc<Shared>>) -> Response {
    shared.faults.clear();
    ok(&faults_status(&shared))
}

/// `DELETE /__emulator/faults/{id}`: removes one rule.
pub(crate) async fn faults_remove(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Response {
    match id.parse::<u64>() {
        Ok(id) if shared.faults.remove(id) => ok(&faults_status(&shared)),
        _ => text(StatusCode::NOT_FOUND, "No such rule."),
    }
}

/// `GET /__emulator/stats`: per-route counters and a few totals.
pub(crate) async fn stats_get(State(shared): State<Arc<Shared>>) -> Response {
    ok(&serde_json::json!({
        "routes": shared.stats.snapshot(),
        "faults_injected": shared.faults.injected(),
        "upload_sessions": shared.sessions.len(),
        "entries": shared.store.len(),
    }))
}

/// `DELETE /__emulator/stats`: zeroes the counters.
pub(crate) async fn stats_reset(State(shared): State<Arc<Shared>>) -> Response {
    shared.stats.reset();
    ok(&serde_json::json!({}))
}

fn clock_status(shared: &Shared) -> serde_json::Value {
    serde_json::json!({ "now": shared.clock.now().to_rfc3339() })
}

/// `GET /__emulator/clock`: the emulator's current time.
pub(crate) async fn clock_get(State(shared): State<Arc<Shared>>) -> Response {
    ok(&clock_status(&shared))
}

#[derive(Deserialize)]
struct Advance {
    advance_secs: u64,
}

/// `POST /__emulator/clock` with `{"advance_secs": n}`: moves time forward.
pub(crate) async fn clock_advance(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match parse_json::<Advance>(&body) {
        Ok(a) => {
            shared.clock.advance(Duration::from_secs(a.advance_secs));
            ok(&clock_status(&shared))
        }
        Err(m) => bad_json(&m),
    }
}
