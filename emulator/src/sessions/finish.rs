//! Readying a session for its commit: the finish call's own data, the cursor and state
//! checks, and the content (file, size, content hash) to commit.

use std::io;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::Stream;
use tokio::sync::{OwnedMutexGuard, OwnedRwLockWriteGuard};

use super::append::seq_ingest;
use super::record::persist;
use super::session::{
    Env, Kind, Session, SessionFailure, SessionResult, State, Upload, fail, seq_hash,
};
use crate::hash::{self, BLOCK};
use crate::ingest::{self, IngestError};
use crate::store::{Content, StoreError};

/// A session locked for committing, with its content ready.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// The session.
    pub(super) session: Arc<Session>,
    /// Its state, locked.
    pub(super) state: OwnedMutexGuard<State>,
    /// Concurrent sessions: no append runs until the commit is over.
    pub(super) _gate: Option<OwnedRwLockWriteGuard<()>>,
    /// The content to commit.
    pub(crate) content: Content,
}

/// Locks a session for committing: appends the finish call's own data (sequential),
/// checks the cursor and the session state, and readies its content.
pub(super) async fn prepare<S, E>(
    env: &Env,
    session: &Arc<Session>,
    offset: u64,
    upload: Option<Upload<S>>,
    batch: bool,
) -> SessionResult<Prepared>
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
            if batch && !st.closed {
                return fail(SessionFailure::NotClosed);
            }
            if offset != st.len {
                return fail(SessionFailure::IncorrectOffset(st.len));
            }
            if let Some(mut upload) = upload {
                if st.closed {
                    // A closed session takes no more data, but an empty body is fine.
                    if upload.declared.unwrap_or(0) > 0 {
                        return fail(SessionFailure::Closed);
                    }
                    match ingest::drain(&mut upload.body, 0).await {
                        Ok(_) => {}
                        Err(IngestError::OverLimit) => return fail(SessionFailure::Closed),
                        Err(IngestError::Body(m)) => {
                            return fail(SessionFailure::BodyFailed(m));
                        }
                        Err(IngestError::Io(e)) => return Err(StoreError::Io(e)),
                    }
                    if let Some(expected) = &upload.expected_hash
                        && !hash::combine(&[]).eq_ignore_ascii_case(expected)
                    {
                        return fail(SessionFailure::ContentHashMismatch);
                    }
                } else {
                    let saved = (st.len, st.hasher.clone());
                    let n = seq_ingest(env, session, &mut st, upload).await?;
                    if n > 0
                        && let Err(e) = persist(env, session, &st).await
                    {
                        (st.len, st.hasher) = saved;
                        if !env.fence.is_raised() {
                            session.spool()?.set_len(st.len)?;
                        }
                        return Err(StoreError::Io(e));
                    }
                }
            }
            if env.durable {
                session.spool()?.sync_data()?;
            }
            let content = Content {
                file: session.path.clone(),
                size: st.len,
                content_hash: seq_hash(&st),
            };
            Ok(Prepared {
                session: session.clone(),
                state: st,
                _gate: None,
                content,
            })
        }
        Kind::Concurrent => {
            if let Some(mut upload) = upload {
                if upload.declared.unwrap_or(0) > 0 {
                    return fail(SessionFailure::ConcurrentDataNotAllowed);
                }
                match ingest::drain(&mut upload.body, 0).await {
                    Ok(_) => {}
                    Err(IngestError::OverLimit) => {
                        return fail(SessionFailure::ConcurrentDataNotAllowed);
                    }
                    Err(IngestError::Body(m)) => return fail(SessionFailure::BodyFailed(m)),
                    Err(IngestError::Io(e)) => return Err(StoreError::Io(e)),
                }
            }
            let gate = session.gate.clone().write_owned().await;
            let st = session.state.clone().lock_owned().await;
            if st.done {
                return fail(SessionFailure::NotFound);
            }
            let Some(total) = st.total.filter(|_| st.closed) else {
                return fail(SessionFailure::ConcurrentNotClosed);
            };
            let nblocks = total.div_ceil(BLOCK);
            let mut digests = Vec::with_capacity(nblocks as usize);
            for i in 0..nblocks {
                match st.blocks.get(&i) {
                    Some(d) => digests.push(*d),
                    None => return fail(SessionFailure::ConcurrentMissingData),
                }
            }
            if offset != total {
                return fail(SessionFailure::IncorrectOffset(total));
            }
            let file = session.spool()?;
            let durable = env.durable;
            tokio::task::spawn_blocking(move || -> io::Result<()> {
                if file.metadata()?.len() != total {
                    file.set_len(total)?;
                }
                if durable {
                    file.sync_data()?;
                }
                Ok(())
            })
            .await
            .map_err(|e| io::Error::other(e.to_string()))??;
            let content = Content {
                file: session.path.clone(),
                size: total,
                content_hash: hash::combine(&digests),
            };
            Ok(Prepared {
                session: session.clone(),
                state: st,
                _gate: Some(gate),
                content,
            })
        }
    }
}
