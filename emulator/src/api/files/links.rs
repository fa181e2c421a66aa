//! Temporary upload links: `files/get_temporary_upload_link` and the upload through a
//! link (`POST /apitul/1/{id}`, no Authorization needed).

use std::fs::OpenOptions;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use dropbox_api::files as f;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{Method, StatusCode};

use super::support::{TempFile, blocking};
use crate::api::convert::{commit_spec, write_error};
use crate::api::wire::{Refusal, detached, internal, ok, text};
use crate::handoffs::{Link, LinkState};
use crate::hash::BlockHasher;
use crate::ingest::{self, Hashers, IngestError};
use crate::state::Shared;
use crate::store::{Content, StoreError};

pub(super) fn temporary_upload_link(
    shared: &Shared,
    arg: &f::GetTemporaryUploadLinkArg,
) -> Result<Response, Refusal> {
    let duration = Duration::try_from_secs_f64(arg.duration).map_err(|_| {
        Refusal::BadRequest(
            "Error in call to API function \"files/get_temporary_upload_link\": request body: duration: invalid".into(),
        )
    })?;
    let id = crate::ids::link_id();
    let link = Link {
        commit: commit_spec(&arg.commit_info),
        expires: crate::clock::add(shared.clock.now(), duration),
        state: LinkState::Fresh,
        file: crate::ids::hex_id(),
    };
    shared.link_records.save(&id, &link)?;
    {
        let now = shared.clock.now();
        let mut links = Shared::lock(&shared.links);
        // Forget links a day after they expired (until then they answer 410).
        links.retain(|_, l| {
            let keep = crate::clock::add(l.expires, Duration::from_secs(86_400)) > now;
            if !keep && let Err(e) = shared.link_records.remove(l) {
                tracing::warn!(error = %e, "cannot delete an old upload link record");
            }
            keep
        });
        links.insert(id.clone(), link);
    }
    Ok(ok(&f::GetTemporaryUploadLinkResult::new(format!(
        "{}/apitul/1/{id}",
        shared.base_url
    ))))
}

/// `POST /apitul/1/{id}`: uploads through a temporary link (no Authorization needed).
pub(crate) async fn consume_upload_link(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    detached(async move {
        match consume(shared, id, req).await {
            Ok(r) => r,
            Err(e) => e.into_response(),
        }
    })
    .await
}

fn set_link_state(shared: &Shared, id: &str, state: LinkState) {
    if let Some(l) = Shared::lock(&shared.links).get_mut(id) {
        l.state = state;
    }
}

async fn consume(shared: Arc<Shared>, id: String, req: Request) -> Result<Response, Refusal> {
    if req.method() != Method::POST {
        return Ok(text(StatusCode::METHOD_NOT_ALLOWED, "Use POST."));
    }
    let ct = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|s| {
            s.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    if !matches!(
        ct.as_deref(),
        Some("application/octet-stream") | Some("text/plain")
    ) {
        return Ok(text(
            StatusCode::BAD_REQUEST,
            "Bad Content-Type: expecting \"application/octet-stream\" or \"text/plain\".",
        ));
    }
    let spec = {
        let now = shared.clock.now();
        let mut links = Shared::lock(&shared.links);
        let Some(link) = links.get_mut(&id) else {
            return Ok(text(StatusCode::CONFLICT, "This upload link is not valid."));
        };
        match link.state {
            LinkState::Consumed => {
                return Ok(text(
                    StatusCode::GONE,
                    "This upload link has already been used.",
                ));
            }
            _ if link.expires <= now => {
                return Ok(text(StatusCode::GONE, "This upload link has expired."));
            }
            LinkState::InUse => {
                return Ok(text(
                    StatusCode::CONFLICT,
                    "This upload link is being used.",
                ));
            }
            LinkState::Fresh => {}
        }
        link.state = LinkState::InUse;
        link.commit.clone()
    };
    let limit = shared.limits.max_request_bytes;
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        set_link_state(&shared, &id, LinkState::Fresh);
        return Err(Refusal::route(&f::UploadError::PayloadTooLarge));
    }
    let tmp = shared.store.temp_path();
    let mut guard = TempFile(Some(tmp.clone()));
    let file = match OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&tmp)
    {
        Ok(f) => Arc::new(f),
        Err(e) => {
            set_link_state(&shared, &id, LinkState::Fresh);
            return Err(internal(e));
        }
    };
    let hashers = Hashers {
        running: Some(BlockHasher::default()),
        request: None,
    };
    let body = req.into_body().into_data_stream();
    let got = match ingest::ingest(body, file.clone(), 0, limit, hashers, None).await {
        Ok(g) => g,
        Err(e) => {
            set_link_state(&shared, &id, LinkState::Fresh);
            return Err(match e {
                IngestError::OverLimit => Refusal::route(&f::UploadError::PayloadTooLarge),
                IngestError::Body(m) => {
                    Refusal::BadRequest(format!("The request body was cut short ({m})."))
                }
                IngestError::Io(e) => internal(e),
            });
        }
    };
    let hash = crate::hash::finish_hex(got.hashers.running.unwrap_or_default());
    if shared.store.durable() {
        let f2 = file.clone();
        blocking(move || f2.sync_all()).await??;
    }
    drop(file);
    let content = Content {
        file: tmp,
        size: got.len,
        content_hash: hash.clone(),
    };
    let now = shared.clock.now();
    let store = shared.store.clone();
    let result = blocking(move || store.commit(&spec, &content, now)).await?;
    set_link_state(&shared, &id, LinkState::Consumed);
    let used = Shared::lock(&shared.links).get(&id).cloned();
    if let Some(link) = used
        && let Err(e) = shared.link_records.remove(&link)
        && !shared.fence.is_raised()
    {
        tracing::warn!(error = %e, "cannot delete a used upload link's record");
    }
    match result {
        Ok(c) => {
            if c.took_content {
                guard.disarm();
            }
            Ok(ok(&serde_json::json!({ "content-hash": hash })))
        }
        Err(StoreError::Failure(w)) => Err(Refusal::route(&write_error(&w))),
        Err(StoreError::Io(e)) => Err(internal(e)),
    }
}
