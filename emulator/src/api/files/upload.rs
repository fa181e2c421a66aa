//! `files/upload`: one call, one file.

use std::fs::OpenOptions;
use std::sync::Arc;

use axum::response::Response;
use dropbox_api::files as f;

use super::support::{TempFile, blocking, body_failed, file_result};
use crate::api::call::Call;
use crate::api::convert::{upload_spec, write_error};
use crate::api::wire::{Refusal, internal, ok};
use crate::hash::BlockHasher;
use crate::ingest::{self, Hashers, IngestError};
use crate::state::Shared;
use crate::store::{Content, StoreError};

pub(super) async fn upload(shared: Arc<Shared>, mut call: Call) -> Result<Response, Refusal> {
    let arg: f::UploadArg = call.header_arg()?;
    let limit = shared.limits.max_request_bytes;
    if call.declared_len().is_some_and(|n| n > limit) {
        return Err(Refusal::route(&f::UploadError::PayloadTooLarge));
    }
    let tmp = shared.store.temp_path();
    let mut guard = TempFile(Some(tmp.clone()));
    let file = Arc::new(
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&tmp)?,
    );
    let hashers = Hashers {
        running: Some(BlockHasher::default()),
        request: None,
    };
    let got = match ingest::ingest(call.take_stream(), file.clone(), 0, limit, hashers, None).await
    {
        Ok(g) => g,
        Err(IngestError::OverLimit) => {
            return Err(Refusal::route(&f::UploadError::PayloadTooLarge));
        }
        Err(IngestError::Body(m)) => return Err(body_failed(call.route, &m)),
        Err(IngestError::Io(e)) => return Err(internal(e)),
    };
    let hasher = got.hashers.running.unwrap_or_default();
    let hash = crate::hash::finish_hex(hasher.clone());
    if let Some(expected) = &arg.content_hash
        && !expected.eq_ignore_ascii_case(&hash)
    {
        return Err(Refusal::route(&f::UploadError::ContentHashMismatch));
    }
    if shared.store.durable() {
        let f2 = file.clone();
        blocking(move || f2.sync_all()).await??;
    }
    drop(file);
    let spec = upload_spec(&arg);
    let content = Content {
        file: tmp.clone(),
        size: got.len,
        content_hash: hash,
    };
    let now = shared.clock.now();
    let store = shared.store.clone();
    match blocking(move || store.commit(&spec, &content, now)).await? {
        Ok(c) => {
            if c.took_content {
                guard.disarm();
            }
            Ok(ok(&file_result(&c.entry)?))
        }
        Err(StoreError::Failure(w)) => {
            // Dropbox keeps the data in an upload session so the commit can be retried
            // with upload_session/finish.
            let sessions = shared.sessions.clone();
            let len = got.len;
            let path = tmp.clone();
            let id = blocking(move || sessions.adopt(&path, len, hasher)).await??;
            guard.disarm();
            Err(Refusal::route(&f::UploadError::Path(
                f::UploadWriteFailed::new(write_error(&w), id),
            )))
        }
        Err(StoreError::Io(e)) => Err(internal(e)),
    }
}
