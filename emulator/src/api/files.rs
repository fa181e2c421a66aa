//! The `files` routes.
#![allow(deprecated)]

use std::collections::HashSet;
use std::fs::OpenOptions;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use dropbox_api::r#async::{PollArg, PollError};
use dropbox_api::auth::{RateLimitError, RateLimitReason};
use dropbox_api::files as f;
use http::header::{CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, HeaderValue, RANGE};
use http::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::convert::{
    append_batch_entry_error, append_error, commit_spec, delete_error, file_metadata, finish_error,
    folder_metadata, lookup_error, metadata, start_error, upload_spec, write_error,
};
use super::{API_RESULT, ApiError, Call, header_safe_json, internal, ok, text};
use crate::handoffs::{Job, Link, LinkState};
use crate::hash::BlockHasher;
use crate::ingest::{self, Hashers, IngestError};
use crate::sessions::{Kind, SessionFailure, Upload};
use crate::state::{FolderGuard, Shared};
use crate::store::{Content, EntryView, ListPosition, StoreError, ViewKind};

/// A body that is known to be empty (for `finish_batch` entries).
type NoBody = futures_util::stream::Empty<Result<Bytes, std::convert::Infallible>>;

/// Runs blocking store work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(internal)
}

/// Removes a temporary file when dropped, unless disarmed.
struct TempFile(Option<PathBuf>);

impl TempFile {
    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Maps a session error with a route's error union.
fn session_err<E: Serialize>(
    call_route: &str,
    e: StoreError<SessionFailure>,
    map: impl Fn(&SessionFailure) -> Option<E>,
) -> ApiError {
    match e {
        StoreError::Io(e) => internal(e),
        StoreError::Failure(SessionFailure::BodyFailed(m)) => ApiError::BadRequest(format!(
            "Error in call to API function \"{call_route}\": the request body was cut short ({m})"
        )),
        StoreError::Failure(f) => match map(&f) {
            Some(e) => ApiError::route(&e),
            None => internal(format!("unexpected session failure {f:?}")),
        },
    }
}

fn body_failed(route: &str, m: &str) -> ApiError {
    ApiError::BadRequest(format!(
        "Error in call to API function \"{route}\": the request body was cut short ({m})"
    ))
}

fn file_result(entry: &EntryView) -> Result<f::FileMetadata, ApiError> {
    match &entry.kind {
        ViewKind::File(info) => Ok(file_metadata(entry, info)),
        _ => Err(internal("committed entry is not a file")),
    }
}

/// Routes a checked v2 call.
pub(crate) async fn dispatch(shared: Arc<Shared>, mut call: Call) -> Result<Response, ApiError> {
    let rpc_limit = shared.limits.max_rpc_body_bytes;
    match call.route {
        "files/upload" => upload(shared, call).await,
        "files/upload_session/start" => start(shared, call).await,
        "files/upload_session/start_batch" => {
            let arg: f::UploadSessionStartBatchArg = call.rpc_arg(rpc_limit).await?;
            start_batch(shared, arg)
        }
        "files/upload_session/append" => {
            let arg: f::UploadSessionCursor = call.header_arg()?;
            append(shared, call, arg.session_id, arg.offset, false, None).await
        }
        "files/upload_session/append_v2" => {
            let arg: f::UploadSessionAppendArg = call.header_arg()?;
            append(
                shared,
                call,
                arg.cursor.session_id,
                arg.cursor.offset,
                arg.close,
                arg.content_hash,
            )
            .await
        }
        "files/upload_session/append_batch" => append_batch(shared, call).await,
        "files/upload_session/finish" => finish(shared, call).await,
        "files/upload_session/finish_batch" => {
            let arg: f::UploadSessionFinishBatchArg = call.rpc_arg(rpc_limit).await?;
            finish_batch_v1(shared, arg)
        }
        "files/upload_session/finish_batch_v2" => {
            let arg: f::UploadSessionFinishBatchArg = call.rpc_arg(rpc_limit).await?;
            finish_batch_v2(shared, arg).await
        }
        "files/upload_session/finish_batch/check" => {
            let arg: PollArg = call.rpc_arg(rpc_limit).await?;
            finish_batch_check(&shared, &arg)
        }
        "files/get_temporary_upload_link" => {
            let arg: f::GetTemporaryUploadLinkArg = call.rpc_arg(rpc_limit).await?;
            temporary_upload_link(&shared, &arg)
        }
        "files/get_metadata" => {
            let arg: f::GetMetadataArg = call.rpc_arg(rpc_limit).await?;
            let store = shared.store.clone();
            let r = blocking(move || store.lookup(&arg.path, arg.include_deleted)).await?;
            match r {
                Ok(e) => Ok(ok(&metadata(&e))),
                Err(l) => Err(ApiError::route(&f::GetMetadataError::Path(lookup_error(
                    &l,
                )))),
            }
        }
        "files/download" => {
            let arg: f::DownloadArg = call.header_arg()?;
            download(shared, call, arg).await
        }
        "files/delete_v2" => {
            let arg: f::DeleteArg = call.rpc_arg(rpc_limit).await?;
            let store = shared.store.clone();
            let r = blocking(move || store.delete(&arg.path, arg.parent_rev.as_deref())).await?;
            match r {
                Ok(e) => Ok(ok(&f::DeleteResult::new(metadata(&e)))),
                Err(StoreError::Failure(d)) => Err(ApiError::route(&delete_error(&d))),
                Err(StoreError::Io(e)) => Err(internal(e)),
            }
        }
        "files/create_folder_v2" => {
            let arg: f::CreateFolderArg = call.rpc_arg(rpc_limit).await?;
            let store = shared.store.clone();
            let r = blocking(move || store.create_folder(&arg.path, arg.autorename)).await?;
            match r {
                Ok(e) => match &e.kind {
                    ViewKind::Folder { id } => {
                        Ok(ok(&f::CreateFolderResult::new(folder_metadata(&e, id))))
                    }
                    _ => Err(internal("created entry is not a folder")),
                },
                Err(StoreError::Failure(w)) => Err(ApiError::route(&f::CreateFolderError::Path(
                    write_error(&w),
                ))),
                Err(StoreError::Io(e)) => Err(internal(e)),
            }
        }
        "files/list_folder" => {
            let arg: f::ListFolderArg = call.rpc_arg(rpc_limit).await?;
            list_folder(shared, arg).await
        }
        "files/list_folder/continue" => {
            let arg: f::ListFolderContinueArg = call.rpc_arg(rpc_limit).await?;
            list_folder_continue(shared, arg).await
        }
        other => Err(ApiError::Status(
            StatusCode::NOT_FOUND,
            format!("Unknown API function: {other:?}"),
        )),
    }
}

// ----- files/upload ---------------------------------------------------------------------

async fn upload(shared: Arc<Shared>, mut call: Call) -> Result<Response, ApiError> {
    let arg: f::UploadArg = call.header_arg()?;
    let limit = shared.limits.max_request_bytes;
    if call.declared_len().is_some_and(|n| n > limit) {
        return Err(ApiError::route(&f::UploadError::PayloadTooLarge));
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
            return Err(ApiError::route(&f::UploadError::PayloadTooLarge));
        }
        Err(IngestError::Body(m)) => return Err(body_failed(call.route, &m)),
        Err(IngestError::Io(e)) => return Err(internal(e)),
    };
    let hasher = got.hashers.running.unwrap_or_default();
    let hash = crate::hash::finish_hex(hasher.clone());
    if let Some(expected) = &arg.content_hash
        && !expected.eq_ignore_ascii_case(&hash)
    {
        return Err(ApiError::route(&f::UploadError::ContentHashMismatch));
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
            Err(ApiError::route(&f::UploadError::Path(
                f::UploadWriteFailed::new(write_error(&w), id),
            )))
        }
        Err(StoreError::Io(e)) => Err(internal(e)),
    }
}

// ----- upload sessions ------------------------------------------------------------------

async fn start(shared: Arc<Shared>, mut call: Call) -> Result<Response, ApiError> {
    let arg: f::UploadSessionStartArg = call.header_arg()?;
    let sessions = &shared.sessions;
    if matches!(arg.session_type, Some(f::UploadSessionType::Concurrent)) {
        if arg.close {
            return Err(ApiError::route(
                &f::UploadSessionStartError::ConcurrentSessionCloseNotAllowed,
            ));
        }
        if call.declared_len().unwrap_or(0) > 0 {
            return Err(ApiError::route(
                &f::UploadSessionStartError::ConcurrentSessionDataNotAllowed,
            ));
        }
        match ingest::drain(call.take_stream(), 0).await {
            Ok(_) => {}
            Err(IngestError::OverLimit) => {
                return Err(ApiError::route(
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
        expected_hash: arg.content_hash.clone(),
    };
    match sessions.append(&s, 0, arg.close, upload).await {
        Ok(_) => Ok(ok(&f::UploadSessionStartResult::new(s.id.clone()))),
        Err(e) => {
            sessions.remove(&s.id);
            Err(session_err(call.route, e, start_error))
        }
    }
}

fn start_batch(
    shared: Arc<Shared>,
    arg: f::UploadSessionStartBatchArg,
) -> Result<Response, ApiError> {
    let kind = match arg.session_type {
        Some(f::UploadSessionType::Concurrent) => Kind::Concurrent,
        _ => Kind::Sequential,
    };
    let mut ids = Vec::with_capacity(arg.num_sessions as usize);
    for _ in 0..arg.num_sessions {
        ids.push(shared.sessions.create(kind)?.id.clone());
    }
    Ok(ok(&f::UploadSessionStartBatchResult::new(ids)))
}

async fn append(
    shared: Arc<Shared>,
    mut call: Call,
    session_id: String,
    offset: u64,
    close: bool,
    expected_hash: Option<String>,
) -> Result<Response, ApiError> {
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

async fn append_batch(shared: Arc<Shared>, mut call: Call) -> Result<Response, ApiError> {
    let arg: f::UploadSessionAppendBatchArg = call.header_arg()?;
    let limit = shared.limits.max_request_bytes;
    let total = arg
        .entries
        .iter()
        .try_fold(0u64, |acc, e| acc.checked_add(e.length));
    let Some(total) = total else {
        return Err(ApiError::route(
            &f::UploadSessionAppendBatchError::LengthMismatch,
        ));
    };
    if let Some(n) = call.declared_len() {
        if n > limit {
            return Err(ApiError::route(
                &f::UploadSessionAppendBatchError::PayloadTooLarge,
            ));
        }
        if n != total {
            return Err(ApiError::route(
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
            return Err(ApiError::route(
                &f::UploadSessionAppendBatchError::PayloadTooLarge,
            ));
        }
        Err(IngestError::Body(m)) => return Err(body_failed(call.route, &m)),
        Err(IngestError::Io(e)) => return Err(internal(e)),
    };
    if got.len != total {
        return Err(ApiError::route(
            &f::UploadSessionAppendBatchError::LengthMismatch,
        ));
    }
    if let (Some(expected), Some(h)) = (&arg.content_hash, got.hashers.request)
        && !crate::hash::finish_hex(h).eq_ignore_ascii_case(expected)
    {
        return Err(ApiError::route(
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

async fn finish(shared: Arc<Shared>, mut call: Call) -> Result<Response, ApiError> {
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
                ApiError::route(&f::UploadSessionFinishError::TooManyWriteOperations)
            })?),
            None => None,
        }
    } else {
        None
    };
    let upload = Upload {
        declared: call.declared_len(),
        body: call.take_stream(),
        expected_hash: arg.content_hash.clone(),
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

fn too_many_writes() -> f::UploadSessionFinishBatchResultEntry {
    f::UploadSessionFinishBatchResultEntry::Failure(
        f::UploadSessionFinishError::TooManyWriteOperations,
    )
}

/// Commits a batch; one result entry per input entry, in order.
async fn run_batch(
    shared: &Arc<Shared>,
    entries: &[f::UploadSessionFinishArg],
) -> f::UploadSessionFinishBatchResult {
    use f::UploadSessionFinishBatchResultEntry as Entry;
    let failure = |s: &SessionFailure| match finish_error(s) {
        Some(e) => Entry::Failure(e),
        None => too_many_writes(),
    };
    let mut out: Vec<Option<Entry>> = (0..entries.len()).map(|_| None).collect();
    let mut prepared = Vec::new();
    let mut seen = HashSet::new();
    for (i, e) in entries.iter().enumerate() {
        if !seen.insert(e.cursor.session_id.clone()) {
            out[i] = Some(failure(&SessionFailure::NotFound));
            continue;
        }
        let session = match shared.sessions.get(&e.cursor.session_id, false) {
            Ok(s) => s,
            Err(f) => {
                out[i] = Some(failure(&f));
                continue;
            }
        };
        match shared
            .sessions
            .prepare_finish(&session, e.cursor.offset, None::<Upload<NoBody>>, true)
            .await
        {
            Ok(p) => prepared.push((i, p, commit_spec(&e.commit))),
            Err(StoreError::Failure(f)) => out[i] = Some(failure(&f)),
            Err(StoreError::Io(err)) => {
                tracing::error!(error = %err, "finish_batch entry failed");
                out[i] = Some(too_many_writes());
            }
        }
    }
    if !shared.commit_latency.is_zero() {
        tokio::time::sleep(shared.commit_latency).await;
    }
    let items: Vec<_> = prepared
        .iter()
        .map(|(_, p, s)| (s.clone(), p.content.clone()))
        .collect();
    let now = shared.clock.now();
    let store = shared.store.clone();
    let results = tokio::task::spawn_blocking(move || store.commit_many(&items, now)).await;
    match results {
        Ok(Ok(rs)) => {
            for ((i, p, _), r) in prepared.into_iter().zip(rs) {
                out[i] = Some(match r {
                    Ok(c) => {
                        shared.sessions.complete(p);
                        match &c.entry.kind {
                            ViewKind::File(info) => Entry::Success(file_metadata(&c.entry, info)),
                            _ => too_many_writes(),
                        }
                    }
                    Err(StoreError::Failure(w)) => failure(&SessionFailure::Write(w)),
                    Err(StoreError::Io(err)) => {
                        tracing::error!(error = %err, "finish_batch commit failed");
                        too_many_writes()
                    }
                });
            }
        }
        Ok(Err(err)) => {
            tracing::error!(error = %err, "finish_batch commit failed");
            for (i, _, _) in prepared {
                out[i] = Some(too_many_writes());
            }
        }
        Err(err) => {
            tracing::error!(error = %err, "finish_batch commit panicked");
            for (i, _, _) in prepared {
                out[i] = Some(too_many_writes());
            }
        }
    }
    f::UploadSessionFinishBatchResult::new(
        out.into_iter()
            .map(|e| e.unwrap_or_else(too_many_writes))
            .collect(),
    )
}

/// `finish_batch` (v1): an async job; a second job while one runs gets a 429
/// `too_many_write_operations`.
fn finish_batch_v1(
    shared: Arc<Shared>,
    arg: f::UploadSessionFinishBatchArg,
) -> Result<Response, ApiError> {
    let Ok(guard) = shared.batch_lock.clone().try_lock_owned() else {
        return Err(ApiError::RateLimited(
            RateLimitError::new(RateLimitReason::TooManyWriteOperations).with_retry_after(1),
        ));
    };
    let job = crate::ids::job_id();
    shared.job_records.save(&job, &Job::Running, &arg.entries)?;
    Shared::lock(&shared.jobs).insert(job.clone(), Job::Running);
    tokio::spawn(run_job(shared, job.clone(), arg.entries, guard));
    Ok(ok(&f::UploadSessionFinishBatchLaunch::AsyncJobId(job)))
}

/// Runs a `finish_batch` job to its end and records the result.
async fn run_job(
    shared: Arc<Shared>,
    job_id: String,
    entries: Vec<f::UploadSessionFinishArg>,
    guard: tokio::sync::OwnedMutexGuard<()>,
) {
    let result = run_batch(&shared, &entries).await;
    let done = Job::Done(result);
    let records = &shared.job_records;
    if let Err(e) = records.save(&job_id, &done, &[])
        && !shared.fence.is_raised()
    {
        tracing::error!(error = %e, "cannot record a finish_batch result");
    }
    Shared::lock(&shared.jobs).insert(job_id, done);
    drop(guard);
}

/// Re-runs a `finish_batch` job that was running when the emulator stopped: entries whose
/// session was committed before the stop now report `not_found`.
pub(crate) fn resume_job(
    shared: Arc<Shared>,
    job_id: String,
    entries: Vec<f::UploadSessionFinishArg>,
) {
    tokio::spawn(async move {
        let guard = shared.batch_lock.clone().lock_owned().await;
        run_job(shared, job_id, entries, guard).await;
    });
}

/// `finish_batch_v2`: synchronous; while another batch of the account runs, every entry
/// fails with `too_many_write_operations` (the sessions stay intact for a retry).
async fn finish_batch_v2(
    shared: Arc<Shared>,
    arg: f::UploadSessionFinishBatchArg,
) -> Result<Response, ApiError> {
    let Ok(guard) = shared.batch_lock.clone().try_lock_owned() else {
        let entries = arg.entries.iter().map(|_| too_many_writes()).collect();
        return Ok(ok(&f::UploadSessionFinishBatchResult::new(entries)));
    };
    let result = run_batch(&shared, &arg.entries).await;
    drop(guard);
    Ok(ok(&result))
}

fn finish_batch_check(shared: &Shared, arg: &PollArg) -> Result<Response, ApiError> {
    match Shared::lock(&shared.jobs).get(&arg.async_job_id) {
        None => Err(ApiError::route(&PollError::InvalidAsyncJobId)),
        Some(Job::Running) => Ok(ok(&f::UploadSessionFinishBatchJobStatus::InProgress)),
        Some(Job::Done(r)) => Ok(ok(&f::UploadSessionFinishBatchJobStatus::Complete(
            r.clone(),
        ))),
    }
}

// ----- temporary upload links -----------------------------------------------------------

fn temporary_upload_link(
    shared: &Shared,
    arg: &f::GetTemporaryUploadLinkArg,
) -> Result<Response, ApiError> {
    let duration = Duration::try_from_secs_f64(arg.duration).map_err(|_| {
        ApiError::BadRequest(
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
    super::detached(async move {
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

async fn consume(shared: Arc<Shared>, id: String, req: Request) -> Result<Response, ApiError> {
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
        return Err(ApiError::route(&f::UploadError::PayloadTooLarge));
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
                IngestError::OverLimit => ApiError::route(&f::UploadError::PayloadTooLarge),
                IngestError::Body(m) => {
                    ApiError::BadRequest(format!("The request body was cut short ({m})."))
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
        Err(StoreError::Failure(w)) => Err(ApiError::route(&write_error(&w))),
        Err(StoreError::Io(e)) => Err(internal(e)),
    }
}

// ----- download -------------------------------------------------------------------------

/// A parsed `Range` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RangeReq {
    /// The whole file.
    Full,
    /// Bytes `start..=end`.
    Part(u64, u64),
    /// Cannot be satisfied (416).
    Unsatisfiable,
}

/// Parses a single-range `bytes=` header; anything else serves the whole file.
pub(crate) fn parse_range(header: Option<&str>, size: u64) -> RangeReq {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeReq::Full;
    };
    if spec.contains(',') {
        return RangeReq::Full;
    }
    let Some((a, b)) = spec.split_once('-') else {
        return RangeReq::Full;
    };
    let (a, b) = (a.trim(), b.trim());
    match (a.is_empty(), b.is_empty()) {
        (true, true) => RangeReq::Full,
        (true, false) => match b.parse::<u64>() {
            Ok(0) => RangeReq::Unsatisfiable,
            Ok(_) if size == 0 => RangeReq::Unsatisfiable,
            Ok(n) => RangeReq::Part(size.saturating_sub(n), size - 1),
            Err(_) => RangeReq::Full,
        },
        (false, true) => match a.parse::<u64>() {
            Ok(s) if s >= size => RangeReq::Unsatisfiable,
            Ok(s) => RangeReq::Part(s, size - 1),
            Err(_) => RangeReq::Full,
        },
        (false, false) => match (a.parse::<u64>(), b.parse::<u64>()) {
            (Ok(s), Ok(e)) if s <= e => {
                if s >= size {
                    RangeReq::Unsatisfiable
                } else {
                    RangeReq::Part(s, e.min(size - 1))
                }
            }
            _ => RangeReq::Full,
        },
    }
}

async fn download(
    shared: Arc<Shared>,
    call: Call,
    arg: f::DownloadArg,
) -> Result<Response, ApiError> {
    let store = shared.store.clone();
    let path = arg.path.clone();
    let rev = arg.rev.clone();
    let opened = blocking(move || store.open_file(&path, rev.as_deref())).await??;
    let (entry, info, file) = match opened {
        Ok(x) => x,
        Err(l) => return Err(ApiError::route(&f::DownloadError::Path(lookup_error(&l)))),
    };
    let meta = file_metadata(&entry, &info);
    let header = header_safe_json(&meta)?;
    let size = info.size;
    let range = parse_range(call.headers.get(RANGE).and_then(|v| v.to_str().ok()), size);
    let (status, start, len) = match range {
        RangeReq::Full => (StatusCode::OK, 0, size),
        RangeReq::Part(s, e) => (StatusCode::PARTIAL_CONTENT, s, e - s + 1),
        RangeReq::Unsatisfiable => {
            let mut r = text(StatusCode::RANGE_NOT_SATISFIABLE, "Range not satisfiable");
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                r.headers_mut().insert(CONTENT_RANGE, v);
            }
            return Ok(r);
        }
    };
    let mut file = tokio::fs::File::from_std(file);
    if start > 0 {
        file.seek(std::io::SeekFrom::Start(start)).await?;
    }
    let stream = tokio_util::io::ReaderStream::with_capacity(file.take(len), 256 * 1024);
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(API_RESULT, header);
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(CONTENT_LENGTH, HeaderValue::from(len));
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{size}", start + len - 1))
    {
        h.insert(CONTENT_RANGE, v);
    }
    Ok(resp)
}

// ----- list_folder ----------------------------------------------------------------------

/// What a list_folder cursor carries (opaque to clients).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Cursor {
    root: String,
    rec: bool,
    del: bool,
    lim: usize,
    pos: ListPosition,
}

fn encode_cursor(c: &Cursor) -> Result<String, ApiError> {
    let json = serde_json::to_vec(c).map_err(internal)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json))
}

fn decode_cursor(s: &str) -> Option<Cursor> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.as_bytes())
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

async fn list_folder(shared: Arc<Shared>, arg: f::ListFolderArg) -> Result<Response, ApiError> {
    if arg.path == "/" {
        return Err(ApiError::BadRequest(
            "Error in call to API function \"files/list_folder\": request body: path: Specify the root folder as an empty string rather than as \"/\".".into(),
        ));
    }
    let store = shared.store.clone();
    let limit = arg.limit.unwrap_or(2000).clamp(1, 2000) as usize;
    let (recursive, include_deleted) = (arg.recursive, arg.include_deleted);
    let page = blocking(move || {
        let root = store.list_root(&arg.path)?;
        let pos = ListPosition::Walk {
            after: None,
            snapshot: store.seq(),
        };
        Ok((
            root.clone(),
            store.list_page(&root, recursive, include_deleted, &pos, limit),
        ))
    })
    .await?;
    let (root, page) =
        page.map_err(|l| ApiError::route(&f::ListFolderError::Path(lookup_error(&l))))?;
    let cursor = encode_cursor(&Cursor {
        root,
        rec: recursive,
        del: include_deleted,
        lim: limit,
        pos: page.next,
    })?;
    let entries = page.entries.iter().map(metadata).collect();
    Ok(ok(&f::ListFolderResult::new(
        entries,
        cursor,
        page.has_more,
    )))
}

async fn list_folder_continue(
    shared: Arc<Shared>,
    arg: f::ListFolderContinueArg,
) -> Result<Response, ApiError> {
    let Some(cursor) = decode_cursor(&arg.cursor) else {
        return Err(ApiError::BadRequest(
            "Error in call to API function \"files/list_folder/continue\": Invalid \"cursor\" parameter.".into(),
        ));
    };
    let store = shared.store.clone();
    let c = cursor.clone();
    let page = blocking(move || {
        let seq = store.seq();
        let mark = match &c.pos {
            ListPosition::Walk { snapshot, .. } => *snapshot,
            ListPosition::Changes { since } => *since,
        };
        if mark > seq {
            return Err(None);
        }
        if !c.root.is_empty() {
            store.list_root(&c.root).map_err(Some)?;
        }
        Ok(store.list_page(&c.root, c.rec, c.del, &c.pos, c.lim))
    })
    .await?;
    let page = match page {
        Ok(p) => p,
        Err(None) => return Err(ApiError::route(&f::ListFolderContinueError::Reset)),
        Err(Some(l)) => {
            return Err(ApiError::route(&f::ListFolderContinueError::Path(
                lookup_error(&l),
            )));
        }
    };
    let next = encode_cursor(&Cursor {
        pos: page.next,
        ..cursor
    })?;
    let entries = page.entries.iter().map(metadata).collect();
    Ok(ok(&f::ListFolderResult::new(entries, next, page.has_more)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 10), RangeReq::Full);
        assert_eq!(parse_range(Some("bytes=0-3"), 10), RangeReq::Part(0, 3));
        assert_eq!(parse_range(Some("bytes=5-"), 10), RangeReq::Part(5, 9));
        assert_eq!(parse_range(Some("bytes=-3"), 10), RangeReq::Part(7, 9));
        assert_eq!(parse_range(Some("bytes=-30"), 10), RangeReq::Part(0, 9));
        assert_eq!(parse_range(Some("bytes=8-100"), 10), RangeReq::Part(8, 9));
        assert_eq!(parse_range(Some("bytes=10-"), 10), RangeReq::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-0"), 0), RangeReq::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=3-1"), 10), RangeReq::Full);
        assert_eq!(parse_range(Some("bytes=0-1,3-4"), 10), RangeReq::Full);
        assert_eq!(parse_range(Some("items=0-1"), 10), RangeReq::Full);
        assert_eq!(parse_range(Some("bytes=x-1"), 10), RangeReq::Full);
    }

    #[test]
    fn cursors_round_trip() {
        let c = Cursor {
            root: "/a".into(),
            rec: true,
            del: false,
            lim: 10,
            pos: ListPosition::Changes { since: 4 },
        };
        assert_eq!(decode_cursor(&encode_cursor(&c).unwrap()), Some(c));
        assert_eq!(decode_cursor("not a cursor"), None);
    }
}
