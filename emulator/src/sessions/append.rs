//! Appending data to a session: in order for sequential and v1 sessions (with a running
//! content hash, rolled back with the data when a request fails), 4 MiB-aligned blocks
//! in any order for concurrent ones.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::Stream;

use super::record::persist;
use super::session::{Env, Kind, Session, SessionFailure, SessionResult, State, Upload, fail};
use crate::hash::{self, BLOCK, BlockHasher};
use crate::ingest::{self, Hashers, IngestError};
use crate::store::StoreError;

/// Appends data (`append`, `append_v2`, data of `start`, v1 chunks).
pub(super) async fn append<S, E>(
    env: &Env,
    session: &Arc<Session>,
    offset: u64,
    close: bool,
    upload: Upload<S>,
) -> SessionResult<u64>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    match session.kind {
        Kind::Sequential | Kind::V1 => {
            let mut st = session.state.clone().lock_owned().await;
            if st.done {
                return fail(SessionFailure::NotFound);
            }
            if st.closed {
                return fail(SessionFailure::Closed);
            }
            if offset != st.len {
                return fail(SessionFailure::IncorrectOffset(st.len));
            }
            let saved = (st.len, st.hasher.clone(), st.closed);
            let len = seq_ingest(env, session, &mut st, upload).await?;
            if close {
                st.closed = true;
            }
            if let Err(e) = persist(env, session, &st).await {
                // Not acknowledged after all: back to the recorded state.
                (st.len, st.hasher, st.closed) = saved;
                if !env.fence.is_raised() {
                    session.spool()?.set_len(st.len)?;
                }
                return Err(StoreError::Io(e));
            }
            Ok(len)
        }
        Kind::Concurrent => concurrent_append(env, session, offset, close, upload).await,
    }
}

/// Streams data onto the end of a locked sequential session, rolling back on failure.
pub(super) async fn seq_ingest<S, E>(
    env: &Env,
    session: &Session,
    st: &mut State,
    upload: Upload<S>,
) -> SessionResult<u64>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let req_limit = env.limits.max_request_bytes;
    let room = env.limits.max_session_bytes.saturating_sub(st.len);
    if let Some(n) = upload.declared {
        if n > req_limit {
            return fail(SessionFailure::PayloadTooLarge);
        }
        if n > room {
            return fail(SessionFailure::TooLarge);
        }
    }
    let limit = req_limit.min(room);
    // On a block boundary the request's blocks are the running hash's next blocks, so
    // one pass of SHA-256 serves both; otherwise the request gets a hasher of its own.
    let aligned = st.len.is_multiple_of(BLOCK);
    let hashers = Hashers {
        running: Some(st.hasher.clone()),
        request: upload
            .expected_hash
            .as_ref()
            .filter(|_| !aligned)
            .map(|_| BlockHasher::default()),
    };
    let file = session.spool()?;
    let result = ingest::ingest(
        upload.body,
        file.clone(),
        st.len,
        limit,
        hashers,
        Some(env.fence.clone()),
    )
    .await;
    let fence = env.fence.clone();
    let rollback = |st: &State| {
        if fence.is_raised() {
            return Ok(());
        }
        file.set_len(st.len)
    };
    let got = match result {
        Ok(g) => g,
        Err(e) => {
            rollback(st)?;
            return Err(match e {
                IngestError::OverLimit if room < req_limit => {
                    StoreError::Failure(SessionFailure::TooLarge)
                }
                IngestError::OverLimit => StoreError::Failure(SessionFailure::PayloadTooLarge),
                IngestError::Body(m) => StoreError::Failure(SessionFailure::BodyFailed(m)),
                IngestError::Io(e) => StoreError::Io(e),
            });
        }
    };
    if let Some(expected) = &upload.expected_hash {
        let actual = match (&got.hashers.request, &got.hashers.running) {
            (Some(request), _) => crate::hash::finish_hex(request.clone()),
            (None, Some(running)) => {
                let first = ((st.len / BLOCK) as usize).saturating_sub(st.prefix.len());
                let blocks = running.clone().finish_blocks();
                hash::combine(blocks.get(first..).unwrap_or_default())
            }
            (None, None) => String::new(),
        };
        if !actual.eq_ignore_ascii_case(expected) {
            rollback(st)?;
            return fail(SessionFailure::ContentHashMismatch);
        }
    }
    st.len += got.len;
    if let Some(h) = got.hashers.running {
        st.hasher = h;
    }
    Ok(got.len)
}

pub(super) async fn concurrent_append<S, E>(
    env: &Env,
    session: &Arc<Session>,
    offset: u64,
    close: bool,
    upload: Upload<S>,
) -> SessionResult<u64>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let _gate = session.gate.clone().read_owned().await;
    // Once the closing append fixed the size, only blocks inside it may still arrive
    // (appends run in parallel, so the closing one may overtake others).
    let closed_total = {
        let st = session.state.lock().await;
        if st.done {
            return fail(SessionFailure::NotFound);
        }
        if st.closed && close {
            return fail(SessionFailure::Closed);
        }
        st.total.filter(|_| st.closed)
    };
    if let Some(total) = closed_total
        && (offset >= total || upload.declared.is_some_and(|n| offset + n > total))
    {
        return fail(SessionFailure::Closed);
    }
    if !offset.is_multiple_of(BLOCK) {
        return fail(SessionFailure::ConcurrentInvalidOffset);
    }
    let req_limit = env.limits.max_request_bytes;
    let room = env.limits.max_session_bytes.saturating_sub(offset);
    if offset >= env.limits.max_session_bytes {
        return fail(SessionFailure::TooLarge);
    }
    if let Some(n) = upload.declared {
        if n > req_limit {
            return fail(SessionFailure::PayloadTooLarge);
        }
        if n > room {
            return fail(SessionFailure::TooLarge);
        }
        if !close && !n.is_multiple_of(BLOCK) {
            return fail(SessionFailure::ConcurrentInvalidDataSize);
        }
    }
    let hashers = Hashers {
        running: None,
        request: Some(BlockHasher::default()),
    };
    let got = match ingest::ingest(
        upload.body,
        session.spool()?,
        offset,
        req_limit.min(room),
        hashers,
        Some(env.fence.clone()),
    )
    .await
    {
        Ok(g) => g,
        Err(IngestError::OverLimit) if room < req_limit => {
            return fail(SessionFailure::TooLarge);
        }
        Err(IngestError::OverLimit) => return fail(SessionFailure::PayloadTooLarge),
        Err(IngestError::Body(m)) => return fail(SessionFailure::BodyFailed(m)),
        Err(IngestError::Io(e)) => return Err(StoreError::Io(e)),
    };
    if !close && !got.len.is_multiple_of(BLOCK) {
        return fail(SessionFailure::ConcurrentInvalidDataSize);
    }
    let digests = got
        .hashers
        .request
        .map(BlockHasher::finish_blocks)
        .unwrap_or_default();
    if let Some(expected) = &upload.expected_hash
        && !hash::combine(&digests).eq_ignore_ascii_case(expected)
    {
        return fail(SessionFailure::ContentHashMismatch);
    }
    let mut st = session.state.lock().await;
    if st.done {
        return fail(SessionFailure::NotFound);
    }
    if st.closed && (close || st.total.is_some_and(|t| offset + got.len > t)) {
        return fail(SessionFailure::Closed);
    }
    let first = offset / BLOCK;
    let saved_end = (st.closed, st.total);
    let mut previous = Vec::with_capacity(digests.len());
    for (i, d) in digests.into_iter().enumerate() {
        let idx = first + i as u64;
        previous.push((idx, st.blocks.insert(idx, d)));
    }
    if close {
        st.closed = true;
        st.total = Some(offset + got.len);
    }
    if let Err(e) = persist(env, session, &st).await {
        // Not acknowledged after all: back to the recorded state.
        for (idx, prev) in previous {
            match prev {
                Some(d) => st.blocks.insert(idx, d),
                None => st.blocks.remove(&idx),
            };
        }
        (st.closed, st.total) = saved_end;
        return Err(StoreError::Io(e));
    }
    Ok(got.len)
}
