//! Upload sessions (v2 sequential and concurrent, and legacy v1 chunked uploads).
//!
//! Each session spools its data to one file under `sessions/` as it arrives. A sequential
//! session keeps a running content hash (rolled back with the data when a request fails);
//! a concurrent session records the digest of every 4 MiB block it receives, in any order,
//! and combines them at finish.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::Stream;
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard, OwnedRwLockWriteGuard, RwLock};

use crate::clock::{self, EmulatorClock};
use crate::config::Limits;
use crate::hash::{self, BLOCK, BlockHasher};
use crate::ingest::{self, Hashers, IngestError};
use crate::store::{Content, StoreError, WriteFailure};

/// The kind of an upload session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// Sequential: running hash.
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
    state: Arc<AsyncMutex<State>>,
    gate: Arc<RwLock<()>>,
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
        // After a successful finish the spool file has been renamed into the store and
        // this is a no-op.
        let _ = fs::remove_file(&self.path);
    }
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
}

impl Sessions {
    /// Opens the session directory (clearing leftovers: sessions do not survive restarts).
    pub(crate) fn open(
        dir: &Path,
        limits: Limits,
        clock: EmulatorClock,
        durable: bool,
    ) -> io::Result<Sessions> {
        fs::create_dir_all(dir)?;
        for e in fs::read_dir(dir)? {
            let e = e?;
            if e.file_type()?.is_file() {
                fs::remove_file(e.path())?;
            }
        }
        Ok(Sessions {
            dir: dir.to_path_buf(),
            map: Mutex::new(HashMap::new()),
            limits,
            clock,
            durable,
        })
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
        drop(expired);
    }

    /// Creates an empty session.
    pub(crate) fn create(&self, kind: Kind) -> io::Result<Arc<Session>> {
        self.sweep();
        // The spool file is created by the first operation that needs it: `start_batch`
        // of 1,000 sessions touches no disk.
        let path = self.spool_path();
        Ok(self.insert(kind, path, State::default()))
    }

    fn spool_path(&self) -> PathBuf {
        self.dir.join(format!("{}.spool", crate::ids::hex_id()))
    }

    fn insert(&self, kind: Kind, path: PathBuf, state: State) -> Arc<Session> {
        let id = match kind {
            Kind::V1 => crate::ids::v1_upload_id(),
            _ => crate::ids::session_id(),
        };
        let ttl = match kind {
            Kind::V1 => self.limits.v1_upload_ttl,
            _ => self.limits.session_ttl,
        };
        let session = Arc::new(Session {
            id: id.clone(),
            kind,
            expires: clock::add(self.clock.now(), ttl),
            path,
            state: Arc::new(AsyncMutex::new(state)),
            gate: Arc::new(RwLock::new(())),
        });
        self.lock_map().insert(id, session.clone());
        session
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
        Ok(self.insert(Kind::Sequential, path, state).id.clone())
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
                let len = self.seq_ingest(session, &mut st, upload).await?;
                if close {
                    st.closed = true;
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
        let result = ingest::ingest(upload.body, file.clone(), st.len, limit, hashers).await;
        let rollback = |st: &State| file.set_len(st.len);
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
                    let first = (st.len / BLOCK) as usize;
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
        for (i, d) in digests.into_iter().enumerate() {
            st.blocks.insert(first + i as u64, d);
        }
        if close {
            st.closed = true;
            st.total = Some(offset + got.len);
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
                        self.seq_ingest(session, &mut st, upload).await?;
                    }
                }
                if self.durable {
                    session.spool()?.sync_data()?;
                }
                let content = Content {
                    file: session.path.clone(),
                    size: st.len,
                    content_hash: crate::hash::finish_hex(st.hasher.clone()),
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
        (Sessions::open(dir, limits, clock, false).unwrap(), mc)
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
