//! One upload session and what is said about it: its kind, its state, why an operation
//! failed, a request body, and the settings every operation reads.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex as AsyncMutex, RwLock};

use crate::config::Limits;
use crate::hash::{self, BlockHasher};
use crate::persist::Fence;
use crate::store::{StoreError, WriteFailure};

/// The kind of an upload session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Kind {
    /// v2, data in order.
    Sequential,
    /// v2, 4 MiB-aligned appends in any order.
    Concurrent,
    /// Legacy `/1/chunked_upload`.
    V1,
}

/// Why a session operation failed (maps to the upload-session error unions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SessionFailure {
    /// Unknown, finished or expired session.
    NotFound,
    /// The offset is wrong; the session has this many bytes.
    IncorrectOffset(u64),
    /// The session is closed.
    Closed,
    /// finish_batch on a session that was not closed.
    NotClosed,
    /// The session would exceed its maximum size.
    TooLarge,
    /// Concurrent append at an offset that is not a multiple of 4 MiB.
    ConcurrentInvalidOffset,
    /// Concurrent non-closing append whose length is not a multiple of 4 MiB.
    ConcurrentInvalidDataSize,
    /// Concurrent start or finish carrying data.
    ConcurrentDataNotAllowed,
    /// Concurrent finish before the session was closed.
    ConcurrentNotClosed,
    /// Concurrent finish with blocks missing.
    ConcurrentMissingData,
    /// The request body exceeded the per-request limit.
    PayloadTooLarge,
    /// The request's content_hash does not match its data.
    ContentHashMismatch,
    /// The client's body failed before it was complete.
    BodyFailed(String),
    /// Committing failed.
    Write(WriteFailure),
}

/// Session operation result.
pub(crate) type SessionResult<T> = Result<T, StoreError<SessionFailure>>;

/// A failed session result.
pub(super) fn fail<T>(f: SessionFailure) -> SessionResult<T> {
    Err(StoreError::Failure(f))
}

/// What every session operation reads: the limits, whether to fsync, and the fence that
/// stops all writes after a crash.
#[derive(Debug, Clone)]
pub(super) struct Env {
    /// Size limits and lifetimes.
    pub(super) limits: Limits,
    /// Fsync before acknowledging.
    pub(super) durable: bool,
    /// Raised after a crash: nothing more is written.
    pub(super) fence: Fence,
}

#[derive(Debug, Default)]
/// What a session holds (behind its lock).
pub(super) struct State {
    /// Sequential: bytes so far.
    pub(super) len: u64,
    /// Closed: no more data.
    pub(super) closed: bool,
    /// Finished (or removed): every later call sees `not_found`.
    pub(super) done: bool,
    /// Sequential: digests of the blocks before the data `hasher` covers (a recovered
    /// session's hasher starts at the block it was in).
    pub(super) prefix: Vec<[u8; 32]>,
    /// Sequential: running hash (of the data after `prefix`).
    pub(super) hasher: BlockHasher,
    /// Concurrent: block digests by block index.
    pub(super) blocks: BTreeMap<u64, [u8; 32]>,
    /// Concurrent: the size fixed by the closing append.
    pub(super) total: Option<u64>,
}

/// One upload session.
#[derive(Debug)]
pub(crate) struct Session {
    /// The session id.
    pub(crate) id: String,
    /// Its kind.
    pub(crate) kind: Kind,
    /// When it expires.
    pub(crate) expires: DateTime<Utc>,
    /// The spool file.
    pub(super) path: PathBuf,
    /// The metadata record.
    pub(super) meta: PathBuf,
    /// The state, locked by each operation.
    pub(super) state: Arc<AsyncMutex<State>>,
    /// Concurrent sessions: appends share it, the finish takes it alone.
    pub(super) gate: Arc<RwLock<()>>,
    /// Finished, removed or expired: its files go when the last reference does.
    pub(super) discarded: AtomicBool,
    /// Raised after a crash (then the files stay).
    pub(super) fence: Fence,
}

impl Session {
    /// Opens the spool file for one operation, creating it on first use. Sessions hold no
    /// open file between requests, so thousands of idle sessions cannot exhaust the
    /// process's descriptors, and a session that never received data has no file at all.
    pub(super) fn spool(&self) -> io::Result<Arc<File>> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&self.path)
            .map(Arc::new)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // A live session keeps its files (it survives a restart); after a crash nothing
        // is touched. After a successful finish the spool file has been renamed into the
        // store and removing it is a no-op.
        if self.discarded.load(Ordering::SeqCst) && !self.fence.is_raised() {
            let _ = fs::remove_file(&self.meta);
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// The content hash of a sequential session.
pub(super) fn seq_hash(st: &State) -> String {
    let mut blocks = st.prefix.clone();
    blocks.extend(st.hasher.clone().finish_blocks());
    hash::combine(&blocks)
}

/// A request body with what is known about it up front.
pub(crate) struct Upload<S> {
    /// The body.
    pub(crate) body: S,
    /// `Content-Length`, when sent.
    pub(crate) declared: Option<u64>,
    /// The client's content_hash for this request's data.
    pub(crate) expected_hash: Option<String>,
}
