//! The emulator's own control endpoints under `/__emulator/` (a prefix Dropbox never uses).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use http::StatusCode;
use serde::Deserialize;

use super::wire::{ok, text};
use crate::faults::FaultRule;
use crate::state::Shared;

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
