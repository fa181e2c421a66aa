//! The legacy v1 chunked upload: `PUT /1/chunked_upload` and
//! `POST /1/commit_chunked_upload/{root}/{path}`.
//!
//! The v1 API is not described by the Stone specs; its request and response shapes come
//! from our OpenAPI description (`specs/openapi/v1.json`), generated into `dropbox_api::v1`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use http::header::CONTENT_TYPE;
use http::{Method, StatusCode};

use super::call::authenticate;
use super::wire::{Refusal, internal, serde_response};
use crate::sessions::{Kind, SessionFailure, Upload};
use crate::state::Shared;
use crate::store::{CommitSpec, Mode, StoreError, ViewKind, WriteFailure};

use dropbox_api::v1::types::{ChunkedUploadError, ChunkedUploadProgress, V1Metadata};

fn v1_error(status: StatusCode, msg: &str) -> Response {
    serde_response(
        status,
        &ChunkedUploadError {
            error: Some(msg.to_owned()),
            expires: None,
            offset: None,
            upload_id: None,
        },
    )
}

/// A byte count as the v1 API's signed 64-bit integer.
fn v1_int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn rfc2822(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

fn human_size(n: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KB", "MB", "GB", "TB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

fn query_map(q: Option<&str>) -> HashMap<String, String> {
    url::form_urlencoded::parse(q.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// v1 authentication: same tokens, v1 error shape (the message of a 401).
fn v1_auth(shared: &Shared, headers: &http::HeaderMap) -> Result<(), &'static str> {
    authenticate(shared, "1", headers).map_err(|e| match e {
        Refusal::Auth(_) => "The given OAuth 2 access token is invalid or has expired.",
        _ => "No auth method found.",
    })
}

/// `PUT /1/chunked_upload?upload_id=&offset=`.
pub(crate) async fn chunked_upload(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    super::wire::detached(chunked_upload_inner(shared, req)).await
}

async fn chunked_upload_inner(shared: Arc<Shared>, req: Request) -> Response {
    if req.method() != Method::PUT && req.method() != Method::POST {
        return v1_error(StatusCode::METHOD_NOT_ALLOWED, "Use PUT.");
    }
    if let Err(m) = v1_auth(&shared, req.headers()) {
        return v1_error(StatusCode::UNAUTHORIZED, m);
    }
    let params = query_map(req.uri().query());
    let offset = match params.get("offset").map(|s| s.parse::<u64>()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return v1_error(StatusCode::BAD_REQUEST, "Invalid offset parameter."),
    };
    let declared = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let sessions = &shared.sessions;
    let (session, created) = match params.get("upload_id").filter(|s| !s.is_empty()) {
        Some(id) => match sessions.get(id, true) {
            Ok(s) => (s, false),
            Err(_) => {
                return v1_error(
                    StatusCode::NOT_FOUND,
                    "The upload_id was not found or has expired.",
                );
            }
        },
        None => {
            if offset != 0 {
                return v1_error(
                    StatusCode::BAD_REQUEST,
                    "A new chunked upload must start at offset 0.",
                );
            }
            match sessions.create(Kind::V1) {
                Ok(s) => (s, true),
                Err(e) => return internal(e).into_response(),
            }
        }
    };
    let upload = Upload {
        declared,
        body: req.into_body().into_data_stream(),
        expected_hash: None,
    };
    let result = sessions.append(&session, offset, false, upload).await;
    let expires = rfc2822(session.expires);
    match result {
        Ok(_) => {
            let offset = sessions.offset(&session).await;
            serde_response(
                StatusCode::OK,
                &ChunkedUploadProgress {
                    upload_id: session.id.clone(),
                    offset: v1_int(offset),
                    expires,
                },
            )
        }
        Err(e) => {
            if created {
                sessions.remove(&session.id);
            }
            match e {
                StoreError::Failure(SessionFailure::IncorrectOffset(n)) => serde_response(
                    StatusCode::BAD_REQUEST,
                    &ChunkedUploadError {
                        error: Some(format!(
                            "Submitted input out of alignment: got [{offset}] expected [{n}]"
                        )),
                        upload_id: Some(session.id.clone()),
                        offset: Some(v1_int(n)),
                        expires: Some(expires),
                    },
                ),
                StoreError::Failure(SessionFailure::NotFound) => v1_error(
                    StatusCode::NOT_FOUND,
                    "The upload_id was not found or has expired.",
                ),
                StoreError::Failure(SessionFailure::PayloadTooLarge)
                | StoreError::Failure(SessionFailure::TooLarge) => {
                    v1_error(StatusCode::BAD_REQUEST, "The chunk is too large.")
                }
                StoreError::Failure(SessionFailure::BodyFailed(_)) => {
                    v1_error(StatusCode::BAD_REQUEST, "The request body was cut short.")
                }
                StoreError::Failure(f) => internal(format!("unexpected {f:?}")).into_response(),
                StoreError::Io(e) => internal(e).into_response(),
            }
        }
    }
}

/// A boolean parameter; `Err` holds the message of a 400.
fn flag(params: &HashMap<String, String>, name: &str, default: bool) -> Result<bool, String> {
    match params.get(name).map(|s| s.to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if v == "true" || v == "1" => Ok(true),
        Some(v) if v == "false" || v == "0" => Ok(false),
        Some(_) => Err(format!("Invalid value for {name}.")),
    }
}

/// `POST /1/commit_chunked_upload/{root}/{path}` with `upload_id`, `overwrite`,
/// `autorename` and `parent_rev` as URL or form parameters.
pub(crate) async fn commit_chunked_upload(
    State(shared): State<Arc<Shared>>,
    Path(rest): Path<String>,
    req: Request,
) -> Response {
    super::wire::detached(commit_inner(shared, rest, req)).await
}

async fn commit_inner(shared: Arc<Shared>, rest: String, req: Request) -> Response {
    if req.method() != Method::POST {
        return v1_error(StatusCode::METHOD_NOT_ALLOWED, "Use POST.");
    }
    if let Err(m) = v1_auth(&shared, req.headers()) {
        return v1_error(StatusCode::UNAUTHORIZED, m);
    }
    let (root, path) = match rest.split_once('/') {
        Some((r, p)) => (r.to_string(), format!("/{p}")),
        None => (rest.clone(), String::new()),
    };
    if !matches!(root.as_str(), "auto" | "dropbox" | "sandbox") {
        return v1_error(
            StatusCode::BAD_REQUEST,
            "Invalid root: use auto, dropbox or sandbox.",
        );
    }
    let mut params = query_map(req.uri().query());
    let is_form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let body = match axum::body::to_bytes(req.into_body(), 64 * 1024).await {
        Ok(b) => b,
        Err(_) => return v1_error(StatusCode::BAD_REQUEST, "The request body is too large."),
    };
    if is_form {
        params.extend(url::form_urlencoded::parse(&body).into_owned());
    }
    let Some(upload_id) = params.get("upload_id").filter(|s| !s.is_empty()).cloned() else {
        return v1_error(StatusCode::BAD_REQUEST, "Missing upload_id.");
    };
    let overwrite = match flag(&params, "overwrite", true) {
        Ok(v) => v,
        Err(m) => return v1_error(StatusCode::BAD_REQUEST, &m),
    };
    let autorename = match flag(&params, "autorename", true) {
        Ok(v) => v,
        Err(m) => return v1_error(StatusCode::BAD_REQUEST, &m),
    };
    let mode = match params.get("parent_rev").filter(|s| !s.is_empty()) {
        Some(rev) => Mode::Update(rev.clone()),
        None if overwrite => Mode::Overwrite,
        None => Mode::Add,
    };
    let sessions = &shared.sessions;
    let Ok(session) = sessions.get(&upload_id, true) else {
        return v1_error(
            StatusCode::NOT_FOUND,
            "The upload_id was not found or has expired.",
        );
    };
    let offset = sessions.offset(&session).await;
    let prepared = match sessions
        .prepare_finish(
            &session,
            offset,
            None::<
                Upload<futures_util::stream::Empty<Result<bytes::Bytes, std::convert::Infallible>>>,
            >,
            false,
        )
        .await
    {
        Ok(p) => p,
        Err(StoreError::Failure(SessionFailure::NotFound)) => {
            return v1_error(
                StatusCode::NOT_FOUND,
                "The upload_id was not found or has expired.",
            );
        }
        Err(e) => return internal(format!("{e:?}")).into_response(),
    };
    let spec = CommitSpec {
        path,
        mode,
        autorename,
        strict_conflict: false,
        client_modified: None,
    };
    let content = prepared.content.clone();
    let now = shared.clock.now();
    let store = shared.store.clone();
    let result = tokio::task::spawn_blocking(move || store.commit(&spec, &content, now)).await;
    match result {
        Ok(Ok(c)) => {
            sessions.complete(prepared);
            let ViewKind::File(info) = &c.entry.kind else {
                return internal("committed entry is not a file").into_response();
            };
            serde_response(
                StatusCode::OK,
                &V1Metadata {
                    size: human_size(info.size),
                    bytes: v1_int(info.size),
                    rev: info.rev.clone(),
                    modified: rfc2822(info.server_modified()),
                    path: c.entry.display.clone(),
                    is_dir: false,
                    root: if root == "sandbox" {
                        "app_folder".into()
                    } else {
                        "dropbox".into()
                    },
                    mime_type: Some("application/octet-stream".into()),
                    content_hash: Some(info.content_hash.clone()),
                },
            )
        }
        Ok(Err(StoreError::Failure(w))) => {
            drop(prepared);
            match w {
                WriteFailure::Conflict(_) => v1_error(
                    StatusCode::CONFLICT,
                    "A file or folder already exists at this path (or parent_rev does not match).",
                ),
                WriteFailure::MalformedPath(m) => {
                    v1_error(StatusCode::BAD_REQUEST, &format!("Invalid path: {m}"))
                }
                WriteFailure::DisallowedName => {
                    v1_error(StatusCode::BAD_REQUEST, "This file name is not allowed.")
                }
            }
        }
        Ok(Err(StoreError::Io(e))) => internal(e).into_response(),
        Err(e) => internal(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_dates() {
        assert_eq!(human_size(5), "5 bytes");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(3 * 1024 * 1024), "3.0 MB");
        let t = DateTime::parse_from_rfc3339("2011-07-19T21:55:38Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(rfc2822(t), "Tue, 19 Jul 2011 21:55:38 +0000");
    }
}
