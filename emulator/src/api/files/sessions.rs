//! Upload sessions: `upload_session/start`, `start_batch`, `append`, `append_v2`,
//! `append_batch` and `finish`.

use std::fs::OpenOptions;
use std::sync::Arc;

use axum::response::Response;
use dropbox_api::files as f;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::support::{TempFile, blocking, body_failed, file_result, session_err};
use crate::api::call::Call;
use crate::api::convert::{
    append_batch_entry_error, append_error, commit_spec, finish_error, start_error,
};
use crate::api::wire::{Refusal, internal, ok};
use crate::hash::BlockHasher;
use crate::ingest::{self, Hashers, IngestError};
use crate::sessions::{Kind, SessionFailure, Upload};
use crate::state::{FolderGuard, Shared};
use crate::store::StoreError;

pub(super) async fn start(shared: Arc<Shared>, mut call: Call) -> Result<Response, Refusal> {
    let arg: f::UploadSessionStartArg = call.header_arg()?;
    let sessions = &shared.sessions;
    if matches!(arg.session_type, Some(f::UploadSessionType::Concurrent)) {
        if arg.close {
            return Err(Refusal::route(
                &f::UploadSessionStartError::ConcurrentSessionCloseNotAllowed,
            ));
        }
        if call.declared_len().unwrap_or(0) > 0 {
            return Err(Refusal::route(
                &f::UploadSessionStartError::ConcurrentSessionDataNotAllowed,
            ));
        }
        match ingest::drain(call.take_stream(), 0).await {
            Ok(_) => {}
            Err(IngestError::OverLimit) => {
                return Err(Refusal::route(
                    &f::UploadSessionStartError::ConcurrentSessionDataNotAllowed,
                ));
            }
            Err(IngestError::Body(m)) => return Err(body_failed(call.route, &m)),
            Err(IngestError::Io(e)) => return Err(internal(e)),
        }
        let s = sessions.create(Kind::Concurrent)?;
        return Ok(ok(&f::UploadSessionStartResult::new(s.id.clone())));
    }
    let s = sessions.create(Kind::Sequential)?;
    let upload = Upload {
        declared: call.declared_len(),
        body: call.take_stream(),
        expected_hash: arg.content_hash.clone().map(String::from),
    };
    match sessions.append(&s, 0, arg.close, upload).await {
        Ok(_) => Ok(ok(&f::UploadSessionStartResult::new(s.id.clone()))),
        Err(e) => {
            sessions.remove(&s.id);
            Err(session_err(call.route, e, start_error))
        }
    }
}

pub(super) fn start_batch(
    shared: Arc<Shared>,
    arg: f::UploadSessionStartBatchArg,
) -> Result<Response, Refusal> {
    let kind = match arg.session_type {
        Some(f::UploadSessionType::Concurrent) => Kind::Concurrent,
        _ => Kind::Sequential,
    };
    let mut ids = Vec::with_capacity(arg.num_sessions as usize);
    for _ in 0..arg.num_sessions {
        ids.push(shared.sessions.create(kind)?.id.as_str().into());
    }
    Ok(ok(&f::UploadSessionStartBatchResult::new(ids)))
}

pub(super) async fn append(
    shared: Arc<Shared>,
    mut call: Call,
    session_id: String,
    offset: u64,
    close: bool,
    expected_hash: Option<String>,
) -> Result<Response, Refusal> {
    let session = shared
        .sessions
        .get(&session_id, false)
        .map_err(|f| session_err(call.route, StoreError::Failure(f), append_error))?;
    let upload = Upload {
        declared: call.declared_len(),
        body: call.take_stream(),
        expected_hash,
    };
    shared
        .sessions
        .append(&session, offset, close, upload)
        .await
        .map_err(|e| session_err(call.route, e, append_error))?;
    Ok(ok(&()))
}

pub(super) async fn append_batch(shared: Arc<Shared>, mut call: Call) -> Result<Response, Refusal> {
    let arg: f::UploadSessionAppendBatchArg = call.header_arg()?;
    let limit = shared.limits.max_request_bytes;
    let total = arg
        .entries
        .iter()
        .try_fold(0u64, |acc, e| acc.checked_add(e.length));
    let Some(total) = total else {
        return Err(Refusal::route(
            &f::UploadSessionAppendBatchError::LengthMismatch,
        ));
    };
    if let Some(n) = call.declared_len() {
        if n > limit {
            return Err(Refusal::route(
                &f::UploadSessionAppendBatchError::PayloadTooLarge,
            ));
        }
        if n != total {
            return Err(Refusal::route(
                &f::UploadSessionAppendBatchError::LengthMismatch,
            ));
        }
    }
    // Spool the whole body first, so a length or hash mismatch changes no session.
    let tmp = shared.store.temp_path();
    let _guard = TempFile(Some(tmp.clone()));
    let file = Arc::new(
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&tmp)?,
    );
    let hashers = Hashers {
        running: None,
        request: arg.content_hash.as_ref().map(|_| BlockHasher::default()),
    };
    let got = match ingest::ingest(call.take_stream(), file.clone(), 0, limit, hashers, None).await
    {
        Ok(g) => g,
        Err(IngestError::OverLimit) => {
            return Err(Refusal::route(
                &f::UploadSessionAppendBatchError::PayloadTooLarge,
            ));
        }
        Err(IngestError::Body(m)) => return Err(body_failed(call.route, &m)),
        Err(IngestError::Io(e)) => return Err(internal(e)),
    };
    if got.len != total {
        return Err(Refusal::route(
            &f::UploadSessionAppendBatchError::LengthMismatch,
        ));
    }
    if let (Some(expected), Some(h)) = (&arg.content_hash, got.hashers.request)
        && !crate::hash::finish_hex(h).eq_ignore_ascii_case(expected)
    {
        return Err(Refusal::route(
            &f::UploadSessionAppendBatchError::ContentHashMismatch,
        ));
    }
    let mut results = Vec::with_capacity(arg.entries.len());
    let mut pos = 0u64;
    for entry in &arg.entries {
        let start = pos;
        pos += entry.length;
        let outcome = match shared.sessions.get(&entry.cursor.session_id, false) {
            Err(f) => Err(f),
            Ok(session) => {
                let mut src = tokio::fs::File::open(&tmp).await?;
                src.seek(std::io::SeekFrom::Start(start)).await?;
                let stream =
                    tokio_util::io::ReaderStream::with_capacity(src.take(entry.length), 1 << 20);
                let upload = Upload {
                    body: stream,
                    declared: Some(entry.length),
                    expected_hash: None,
                };
                match shared
                    .sessions
                    .append(&session, entry.cursor.offset, entry.close, upload)
                    .await
                {
                    Ok(_) => Ok(()),
                    Err(StoreError::Failure(f)) => Err(f),
                    Err(StoreError::Io(e)) => return Err(internal(e)),
                }
            }
        };
        results.push(match outcome {
            Ok(()) => f::UploadSessionAppendBatchResultEntry::Success,
            Err(f) => match append_batch_entry_error(&f) {
                Some(e) => f::UploadSessionAppendBatchResultEntry::Failure(e),
                None => return Err(internal(format!("unexpected failure {f:?}"))),
            },
        });
    }
    Ok(ok(&f::UploadSessionAppendBatchResult::new(results)))
}

pub(super) async fn finish(shared: Arc<Shared>, mut call: Call) -> Result<Response, Refusal> {
    let arg: f::UploadSessionFinishArg = call.header_arg()?;
    let route = call.route;
    let session = shared
        .sessions
        .get(&arg.cursor.session_id, false)
        .map_err(|f| session_err(route, StoreError::Failure(f), finish_error))?;
    let _folder = if shared.contend_finish_in_folder {
        let store = shared.store.clone();
        let path = arg.commit.path.clone();
        match blocking(move || store.parent_key(&path)).await? {
            Some(key) => Some(FolderGuard::claim(&shared, key).ok_or_else(|| {
                Refusal::route(&f::UploadSessionFinishError::TooManyWriteOperations)
            })?),
            None => None,
        }
    } else {
        None
    };
    let upload = Upload {
        declared: call.declared_len(),
        body: call.take_stream(),
        expected_hash: arg.content_hash.clone().map(String::from),
    };
    let prepared = shared
        .sessions
        .prepare_finish(&session, arg.cursor.offset, Some(upload), false)
        .await
        .map_err(|e| session_err(route, e, finish_error))?;
    if !shared.commit_latency.is_zero() {
        tokio::time::sleep(shared.commit_latency).await;
    }
    let spec = commit_spec(&arg.commit);
    let content = prepared.content.clone();
    let now = shared.clock.now();
    let store = shared.store.clone();
    match blocking(move || store.commit(&spec, &content, now)).await? {
        Ok(c) => {
            shared.sessions.complete(prepared);
            Ok(ok(&file_result(&c.entry)?))
        }
        Err(StoreError::Failure(w)) => {
            drop(prepared);
            Err(session_err(
                route,
                StoreError::Failure(SessionFailure::Write(w)),
                finish_error,
            ))
        }
        Err(StoreError::Io(e)) => Err(internal(e)),
    }
}
