//! Upload sessions (v2 sequential and concurrent, and legacy v1 chunked uploads).
//!
//! Each session spools its data to one file under `sessions/` as it arrives. A sequential
//! session keeps a running content hash (rolled back with the data when a request fails);
//! a concurrent session records the digest of every 4 MiB block it receives, in any order,
//! and combines them at finish.
//!
//! # Durability
//!
//! Sessions survive restarts and crashes. Next to its spool file `<32 hex>.spool`, every
//! session has a metadata record `<32 hex>.json` (written atomically, see
//! the `persist` module) holding what the session has *acknowledged*:
//!
//! ```json
//! {"format":1,"id":"pid_upload_session:...","kind":"sequential","expires":1700000000000,
//!  "len":5242880,"closed":false,"blocks":["<64 hex>"],"received":{},"total":null}
//! ```
//!
//! - `kind`: `sequential`, `concurrent` or `v1`; `expires`: Unix milliseconds.
//! - sequential and v1: `len` bytes received; `blocks`, the SHA-256 of each complete
//!   4 MiB block (`len / 4 MiB` of them). At recovery the spool is truncated to `len`
//!   (bytes of an interrupted request are dropped) and the partial last block (< 4 MiB)
//!   is hashed again from the spool, which restores the running content hash.
//! - concurrent: `received`, block index to SHA-256 of that block; `total`, the size fixed
//!   by the closing append.
//!
//! The record is rewritten once per acknowledged request, after the data (fsynced unless
//! `--no-fsync`), so it never claims data that is not in the spool. A record that cannot
//! be read drops only its session (logged at warn). The spool and record of a finished,
//! removed or expired session are deleted.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard, OwnedRwLockWriteGuard, RwLock};

use crate::clock::{self, EmulatorClock};
use crate::config::Limits;
use crate::hash::{self, BLOCK, BlockHasher};
use crate::ingest::{self, Hashers, IngestError};
use crate::persist::{self, Fence};
use crate::store::{Content, StoreError, WriteFailure};

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

fn fail<T>(f: SessionFailure) -> SessionResult<T> {
    Err(StoreError::Failure(f))
}

#[derive(Debug, Default)]
struct State {
    /// Sequential: bytes so far.
    len: u64,
    closed: bool,
    /// Finished (or removed): every later call sees `not_found`.
    done: bool,
    /// Sequential: digests of the blocks before the data `hasher` covers (a recovered
    /// session's hasher starts at the block it was in).
    prefix: Vec<[u8; 32]>,
    /// Sequential: running hash (of the data after `prefix`).
    hasher: BlockHasher,
    /// Concurrent: block digests by block index.
    blocks: BTreeMap<u64, [u8; 32]>,
    /// Concurrent: the size fixed by the closing append.
    total: Option<u64>,
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
    path: PathBuf,
    meta: PathBuf,
    state: Arc<AsyncMutex<State>>,
    gate: Arc<RwLock<()>>,
    /// Finished, removed or expired: its files go when the last reference does.
    discarded: AtomicBool,
    fence: Fence,
}

impl Session {
    /// Opens the spool file for one operation, creating it on first use. Sessions hold no
    /// open file between requests, so thousands of idle sessions cannot exhaust the
    /// process's descriptors, and a session that never received data has no file at all.
    fn spool(&self) -> io::Result<Arc<File>> {
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

/// The metadata record of a session (see the module documentation).
#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    format: u32,
    id: String,
    kind: Kind,
    expires: i64,
    len: u64,
    closed: bool,
    #[serde(default)]
    blocks: Vec<String>,
    #[serde(default)]
    received: BTreeMap<u64, String>,
    #[serde(default)]
    total: Option<u64>,
}

impl Meta {
    fn of(session: &Session, st: &State) -> Meta {
        let (blocks, received) = match session.kind {
            Kind::Sequential | Kind::V1 => (
                st.prefix
                    .iter()
                    .chain(st.hasher.block_digests())
                    .map(hex::encode)
                    .collect(),
                BTreeMap::new(),
            ),
            Kind::Concurrent => (
                Vec::new(),
                st.blocks
                    .iter()
                    .map(|(i, d)| (*i, hex::encode(d)))
                    .collect(),
            ),
        };
        Meta {
            format: persist::FORMAT,
            id: session.id.clone(),
            kind: session.kind,
            expires: persist::to_millis(session.expires),
            len: st.len,
            closed: st.closed,
            blocks,
            received,
            total: st.total,
        }
    }
}

fn digest(hex_digest: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_digest, &mut out).ok()?;
    Some(out)
}

/// Writes a session's record, after fsyncing its spool when `sync_spool` (and durable).
fn write_record(
    durable: bool,
    fence: &Fence,
    session: &Session,
    meta: &Meta,
    sync_spool: bool,
) -> io::Result<()> {
    fence.check()?;
    if sync_spool && durable {
        match OpenOptions::new().write(true).open(&session.path) {
            Ok(f) => f.sync_data()?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    let bytes = serde_json::to_vec(meta).map_err(io::Error::other)?;
    persist::write_atomic(&session.meta, &bytes, durable)
}

/// The content hash of a sequential session.
fn seq_hash(st: &State) -> String {
    let mut blocks = st.prefix.clone();
    blocks.extend(st.hasher.clone().finish_blocks());
    hash::combine(&blocks)
}

/// A session locked for committing, with its content ready.
#[derive(Debug)]
pub(crate) struct Prepared {
    session: Arc<Session>,
    state: OwnedMutexGuard<State>,
    _gate: Option<OwnedRwLockWriteGuard<()>>,
    /// The content to commit.
    pub(crate) content: Content,
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

/// All upload sessions.
#[derive(Debug)]
pub(crate) struct Sessions {
    dir: PathBuf,
    map: Mutex<HashMap<String, Arc<Session>>>,
    limits: Limits,
    clock: EmulatorClock,
    durable: bool,
    fence: Fence,
}

impl Sessions {
    /// Opens the session directory and recovers the sessions recorded in it (dropping
    /// damaged or expired ones, orphan spool files and leftovers of interrupted writes).
    pub(crate) fn open(
        dir: &Path,
        limits: Limits,
        clock: EmulatorClock,
        durable: bool,
        fence: Fence,
    ) -> io::Result<Sessions> {
        fs::create_dir_all(dir)?;
        let sessions = Sessions {
            dir: dir.to_path_buf(),
            map: Mutex::new(HashMap::new()),
            limits,
            clock,
            durable,
            fence,
        };
        let mut records = Vec::new();
        let mut spools = Vec::new();
        for e in fs::read_dir(dir)? {
            let e = e?;
            if !e.file_type()?.is_file() {
                continue;
            }
            let name = e.file_name().to_string_lossy().into_owned();
            match name.split_once('.') {
                Some((stem, "json")) if persist::is_hex_name(stem) => {
                    records.push(stem.to_string())
                }
                Some((stem, "spool")) if persist::is_hex_name(stem) => {
                    spools.push(stem.to_string())
                }
                _ => fs::remove_file(e.path())?,
            }
        }
        let now = sessions.clock.now();
        let mut kept = std::collections::HashSet::new();
        for stem in records {
            let meta = dir.join(format!("{stem}.json"));
            let spool = dir.join(format!("{stem}.spool"));
            match sessions.recover(&meta, &spool, now) {
                Ok(Some(session)) => {
                    let mut map = sessions.lock_map();
                    if map.contains_key(&session.id) {
                        tracing::warn!("two upload session records with one id; dropping one");
                        drop(map);
                        session.discarded.store(true, Ordering::SeqCst);
                        continue;
                    }
                    map.insert(session.id.clone(), session);
                    kept.insert(stem);
                }
                Ok(None) => {
                    persist::remove(&meta)?;
                    persist::remove(&spool)?;
                }
                Err(reason) => {
                    tracing::warn!(record = %stem, %reason, "dropping an upload session whose record is damaged");
                    persist::remove(&meta)?;
                    persist::remove(&spool)?;
                }
            }
        }
        for stem in spools {
            if !kept.contains(&stem) {
                persist::remove(&dir.join(format!("{stem}.spool")))?;
            }
        }
        Ok(sessions)
    }

    /// Rebuilds one session from its record and spool; `Ok(None)` when it has expired.
    fn recover(
        &self,
        meta_path: &Path,
        spool: &Path,
        now: DateTime<Utc>,
    ) -> Result<Option<Arc<Session>>, String> {
        let bytes = fs::read(meta_path).map_err(|e| format!("cannot read: {e}"))?;
        let meta: Meta =
            serde_json::from_slice(&bytes).map_err(|e| format!("not a session record: {e}"))?;
        if meta.format != persist::FORMAT {
            return Err(format!("unknown format {}", meta.format));
        }
        if meta.id.is_empty()
            || meta.id.len() > 256
            || !meta.id.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err("bad session id".into());
        }
        let expires = persist::from_millis(meta.expires).ok_or("bad expiry")?;
        if expires <= now {
            return Ok(None);
        }
        let spool_len = match fs::metadata(spool) {
            Ok(m) => m.len(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
            Err(e) => return Err(format!("cannot stat the spool: {e}")),
        };
        let mut st = State {
            len: meta.len,
            closed: meta.closed,
            total: meta.total,
            ..State::default()
        };
        match meta.kind {
            Kind::Sequential | Kind::V1 => {
                if meta.blocks.len() as u64 != meta.len / BLOCK {
                    return Err("block digests do not match the length".into());
                }
                if spool_len < meta.len {
                    return Err("the spool file is shorter than the acknowledged data".into());
                }
                for b in &meta.blocks {
                    st.prefix.push(digest(b).ok_or("bad block digest")?);
                }
                let tail_start = st.prefix.len() as u64 * BLOCK;
                if meta.len > 0 || spool_len > 0 {
                    let file = OpenOptions::new()
                        .read(true)
                        .write(true)
                        .open(spool)
                        .map_err(|e| format!("cannot open the spool: {e}"))?;
                    if spool_len > meta.len {
                        // Data of a request that was never acknowledged.
                        file.set_len(meta.len)
                            .map_err(|e| format!("cannot truncate the spool: {e}"))?;
                    }
                    let mut buf = vec![0u8; (meta.len - tail_start) as usize];
                    file.read_exact_at(&mut buf, tail_start)
                        .map_err(|e| format!("cannot read the spool: {e}"))?;
                    st.hasher.update(&buf);
                }
            }
            Kind::Concurrent => {
                if meta.closed && meta.total.is_none() {
                    return Err("closed without a total".into());
                }
                for (i, d) in &meta.received {
                    let end = i
                        .checked_add(1)
                        .and_then(|n| n.checked_mul(BLOCK))
                        .ok_or("bad block index")?;
                    let end = meta.total.map_or(end, |t| end.min(t));
                    if spool_len < end {
                        // Not on disk after all (a crash without fsync): the client sends
                        // it again after `missing data` at finish.
                        continue;
                    }
                    st.blocks.insert(*i, digest(d).ok_or("bad block digest")?);
                }
            }
        }
        Ok(Some(Arc::new(Session {
            id: meta.id,
            kind: meta.kind,
            expires,
            path: spool.to_path_buf(),
            meta: meta_path.to_path_buf(),
            state: Arc::new(AsyncMutex::new(st)),
            gate: Arc::new(RwLock::new(())),
            discarded: AtomicBool::new(false),
            fence: self.fence.clone(),
        })))
    }

    /// Records a session's acknowledged state (blocking).
    fn persist_now(&self, session: &Session, st: &State) -> io::Result<()> {
        write_record(
            self.durable,
            &self.fence,
            session,
            &Meta::of(session, st),
            false,
        )
    }

    /// Records a session's acknowledged state after fsyncing its data (when durable), off
    /// the async threads.
    async fn persist(&self, session: &Arc<Session>, st: &State) -> io::Result<()> {
        let meta = Meta::of(session, st);
        let s = session.clone();
        let durable = self.durable;
        let fence = self.fence.clone();
        tokio::task::spawn_blocking(move || write_record(durable, &fence, &s, &meta, true))
            .await
            .map_err(|e| io::Error::other(e.to_string()))?
    }

    fn lock_map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Session>>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Number of live sessions (expired ones included until swept).
    pub(crate) fn len(&self) -> usize {
        self.lock_map().len()
    }

    /// Removes expired sessions.
    pub(crate) fn sweep(&self) {
        let now = self.clock.now();
        let expired: Vec<Arc<Session>> = {
            let mut map = self.lock_map();
            let ids: Vec<String> = map
                .iter()
                .filter(|(_, s)| s.expires <= now)
                .map(|(k, _)| k.clone())
                .collect();
            ids.iter().filter_map(|id| map.remove(id)).collect()
        };
        for s in &expired {
            s.discarded.store(true, Ordering::SeqCst);
        }
        drop(expired);
    }

    /// Creates an empty session (and its record; the spool file is created by the first
    /// operation that needs it).
    pub(crate) fn create(&self, kind: Kind) -> io::Result<Arc<Session>> {
        self.sweep();
        let path = self.spool_path();
        self.insert(kind, path, State::default())
    }

    fn spool_path(&self) -> PathBuf {
        self.dir.join(format!("{}.spool", crate::ids::hex_id()))
    }

    fn insert(&self, kind: Kind, path: PathBuf, state: State) -> io::Result<Arc<Session>> {
        let id = match kind {
            Kind::V1 => crate::ids::v1_upload_id(),
            _ => crate::ids::session_id(),
        };
        let ttl = match kind {
            Kind::V1 => self.limits.v1_upload_ttl,
            _ => self.limits.session_ttl,
        };
        let meta = path.with_extension("json");
        let session = Arc::new(Session {
            id: id.clone(),
            kind,
            expires: clock::add(self.clock.now(), ttl),
            path,
            meta,
            state: Arc::new(AsyncMutex::new(State::default())),
            gate: Arc::new(RwLock::new(())),
            discarded: AtomicBool::new(false),
            fence: self.fence.clone(),
        });
        if let Err(e) = self.persist_now(&session, &state) {
            session.discarded.store(true, Ordering::SeqCst);
            return Err(e);
        }
        if let Ok(mut st) = session.state.try_lock() {
            *st = state;
        }
        self.lock_map().insert(id, session.clone());
        Ok(session)
    }

    /// Creates a closed sequential session from a complete file (the data of a failed
    /// `files/upload`, kept so the commit can be retried with `upload_session/finish`).
    pub(crate) fn adopt(
        &self,
        file_path: &Path,
        len: u64,
        hasher: BlockHasher,
    ) -> io::Result<String> {
        self.sweep();
        let path = self.spool_path();
        fs::rename(file_path, &path)?;
        let state = State {
            len,
            closed: true,
            hasher,
            ..State::default()
        };
        Ok(self.insert(Kind::Sequential, path, state)?.id.clone())
    }

    /// Finds a live session of the right family (v1 ids are not valid for v2 and back).
    pub(crate) fn get(&self, id: &str, v1: bool) -> Result<Arc<Session>, SessionFailure> {
        let now = self.clock.now();
        let mut map = self.lock_map();
        let Some(s) = map.get(id).cloned() else {
            return Err(SessionFailure::NotFound);
        };
        if s.expires <= now {
            map.remove(id);
            s.discarded.store(true, Ordering::SeqCst);
            return Err(SessionFailure::NotFound);
        }
        if (s.kind == Kind::V1) != v1 {
            return Err(SessionFailure::NotFound);
        }
        Ok(s)
    }

    /// Removes a session (after a failed start).
    pub(crate) fn remove(&self, id: &str) {
        let s = self.lock_map().remove(id);
        if let Some(s) = &s {
            s.discarded.store(true, Ordering::SeqCst);
        }
        drop(s);
    }

    /// The number of bytes a sequential or v1 session holds.
    pub(crate) async fn offset(&self, session: &Session) -> u64 {
        session.state.lock().await.len
    }

    /// Appends data (`append`, `append_v2`, data of `start`, v1 chunks).
    pub(crate) async fn append<S, E>(
        &self,
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
                let len = self.seq_ingest(session, &mut st, upload).await?;
                if close {
                    st.closed = true;
                }
                if let Err(e) = self.persist(session, &st).await {
                    // Not acknowledged after all: back to the recorded state.
                    (st.len, st.hasher, st.closed) = saved;
                    if !self.fence.is_raised() {
                        session.spool()?.set_len(st.len)?;
                    }
                    return Err(StoreError::Io(e));
                }
                Ok(len)
            }
            Kind::Concurrent => self.concurrent_append(session, offset, close, upload).await,
        }
    }

    /// Streams data onto the end of a locked sequential session, rolling back on failure.
    async fn seq_ingest<S, E>(
        &self,
        session: &Session,
        st: &mut State,
        upload: Upload<S>,
    ) -> SessionResult<u64>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let req_limit = self.limits.max_request_bytes;
        let room = self.limits.max_session_bytes.saturating_sub(st.len);
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
            Some(self.fence.clone()),
        )
        .await;
        let fence = self.fence.clone();
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

    async fn concurrent_append<S, E>(
        &self,
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
        let req_limit = self.limits.max_request_bytes;
        let room = self.limits.max_session_bytes.saturating_sub(offset);
        if offset >= self.limits.max_session_bytes {
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
            Some(self.fence.clone()),
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
        if let Err(e) = self.persist(session, &st).await {
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

    /// Locks a session for committing: appends the finish call's own data (sequential),
    /// checks the cursor and the session state, and readies its content.
    pub(crate) async fn prepare_finish<S, E>(
        &self,
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
                        let n = self.seq_ingest(session, &mut st, upload).await?;
                        if n > 0
                            && let Err(e) = self.persist(session, &st).await
                        {
                            (st.len, st.hasher) = saved;
                            if !self.fence.is_raised() {
                                session.spool()?.set_len(st.len)?;
                            }
                            return Err(StoreError::Io(e));
                        }
                    }
                }
                if self.durable {
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
                let durable = self.durable;
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

    /// Marks a prepared session as finished (its content was committed or was identical
    /// to the existing file) and forgets it.
    pub(crate) fn complete(&self, mut prepared: Prepared) {
        prepared.state.done = true;
        // Forget the record before answering, so a restart cannot bring the session back.
        if !self.fence.is_raised()
            && let Err(e) = persist::remove(&prepared.session.meta)
        {
            tracing::warn!(error = %e, "cannot delete a finished session's record");
        }
        let id = prepared.session.id.clone();
        drop(prepared);
        self.remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::time::Duration;

    fn body(data: &'static [u8]) -> Upload<impl Stream<Item = Result<Bytes, String>> + Unpin> {
        Upload {
            body: futures_util::stream::iter(vec![Ok::<_, String>(Bytes::from_static(data))]),
            declared: Some(data.len() as u64),
            expected_hash: None,
        }
    }

    fn sessions(dir: &Path, limits: Limits) -> (Sessions, Arc<ManualClock>) {
        let mc = Arc::new(ManualClock::default());
        let clock = EmulatorClock::new(mc.clone());
        (
            Sessions::open(dir, limits, clock, false, Fence::default()).unwrap(),
            mc,
        )
    }

    fn failure<T: std::fmt::Debug>(r: SessionResult<T>) -> SessionFailure {
        match r {
            Err(StoreError::Failure(f)) => f,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn sequential_offsets_close_and_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let (s, clock) = sessions(dir.path(), Limits::default());
        let sess = s.create(Kind::Sequential).unwrap();
        assert_eq!(s.append(&sess, 0, false, body(b"abc")).await.unwrap(), 3);
        assert_eq!(
            failure(s.append(&sess, 0, false, body(b"abc")).await),
            SessionFailure::IncorrectOffset(3)
        );
        let mut bad = body(b"def");
        bad.expected_hash = Some("00".repeat(32));
        assert_eq!(
            failure(s.append(&sess, 3, false, bad).await),
            SessionFailure::ContentHashMismatch
        );
        assert_eq!(s.offset(&sess).await, 3, "rolled back");
        let mut good = body(b"def");
        good.expected_hash = Some(crate::hash::hash_bytes(b"def"));
        s.append(&sess, 3, true, good).await.unwrap();
        assert_eq!(
            failure(s.append(&sess, 6, false, body(b"x")).await),
            SessionFailure::Closed
        );
        let p = s
            .prepare_finish(
                &sess,
                6,
                None::<Upload<futures_util::stream::Empty<Result<Bytes, String>>>>,
                true,
            )
            .await
            .unwrap();
        assert_eq!(p.content.size, 6);
        assert_eq!(p.content.content_hash, crate::hash::hash_bytes(b"abcdef"));
        assert_eq!(fs::read(&p.content.file).unwrap(), b"abcdef");
        s.complete(p);
        assert_eq!(
            s.get(&sess.id, false).unwrap_err(),
            SessionFailure::NotFound
        );

        let other = s.create(Kind::Sequential).unwrap();
        clock.advance(Duration::from_secs(7 * 24 * 3600));
        assert_eq!(
            s.get(&other.id, false).unwrap_err(),
            SessionFailure::NotFound
        );
    }

    #[tokio::test]
    async fn session_size_limit() {
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits {
            max_session_bytes: 5,
            ..Limits::default()
        };
        let (s, _) = sessions(dir.path(), limits);
        let sess = s.create(Kind::Sequential).unwrap();
        s.append(&sess, 0, false, body(b"abcd")).await.unwrap();
        assert_eq!(
            failure(s.append(&sess, 4, false, body(b"ef")).await),
            SessionFailure::TooLarge
        );
        let mut undeclared = body(b"ef");
        undeclared.declared = None;
        assert_eq!(
            failure(s.append(&sess, 4, false, undeclared).await),
            SessionFailure::TooLarge
        );
        assert_eq!(s.offset(&sess).await, 4);
    }
}
