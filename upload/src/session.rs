//! One file: a single `files/upload` call for small inputs, otherwise an upload session
//! (sequential or concurrent), with per-chunk hashes, resynchronisation on
//! `incorrect_offset`, restarts of lost sessions, and a final content-hash check.

use std::collections::BTreeMap;
use std::sync::Mutex;

use dropbox_api::UserClient;
use dropbox_api::files::{
    self, CommitInfo, FileMetadata, Metadata, UploadSessionAppendArg, UploadSessionAppendError,
    UploadSessionCursor, UploadSessionFinishArg, UploadSessionFinishError,
    UploadSessionLookupError, UploadSessionStartArg, UploadSessionType, WriteConflictError,
    WriteError,
};
use dropbox_content_hash::{BLOCK_SIZE, ContentHash};
use futures::stream::{FuturesUnordered, StreamExt as _};

use crate::error::{Stage, UploadError};
use crate::options::{Clients, SessionType, Tracker, UploadOptions};
use crate::source::{Chunk, Reader, SourceIdentity, hash_chunk};
use crate::state::{UploadState, file_hash};

/// How many times a lost session (expired, lost by the server, or closed by something else)
/// is started over from the source.
pub(crate) const MAX_RESTARTS: u32 = 3;

/// A finished upload.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadOutcome {
    /// What Dropbox stored.
    pub metadata: FileMetadata,
    /// The content hash, computed locally and confirmed by Dropbox.
    pub content_hash: ContentHash,
    /// Bytes uploaded.
    pub bytes: u64,
}

/// Everything one upload needs.
pub(crate) struct Job<'a> {
    pub(crate) clients: Clients,
    pub(crate) options: &'a UploadOptions,
    pub(crate) tracker: &'a Tracker,
    pub(crate) commit: CommitInfo,
    /// Saved state, kept current when the source is a file.
    pub(crate) state: Option<Mutex<UploadState>>,
}

/// Block digests of the file, keyed by block index.
#[derive(Debug, Default)]
pub(crate) struct Blocks(Mutex<BTreeMap<u64, [u8; 32]>>);

impl Blocks {
    pub(crate) fn add(&self, chunk: &Chunk) {
        if let Some(digests) = &chunk.blocks {
            let first = chunk.offset / BLOCK_SIZE as u64;
            let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
            for (i, d) in digests.iter().enumerate() {
                map.insert(first + i as u64, *d);
            }
        }
    }

    /// The file's hash; blocks never read in this run (a resumed upload) are read now.
    pub(crate) async fn finish(
        &self,
        reader: &Reader,
        total: u64,
    ) -> Result<ContentHash, UploadError> {
        let count = total.div_ceil(BLOCK_SIZE as u64);
        let missing: Vec<u64> = {
            let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
            (0..count).filter(|i| !map.contains_key(i)).collect()
        };
        for i in missing {
            if !reader.rewindable() {
                return Err(UploadError::Protocol(
                    "cannot hash bytes of a stream that were not read".into(),
                ));
            }
            let chunk = reader
                .read_at(i * BLOCK_SIZE as u64, BLOCK_SIZE as u64)
                .await?;
            self.add(&chunk);
        }
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let digests: Vec<[u8; 32]> = map.values().copied().take(count as usize).collect();
        Ok(file_hash(&digests))
    }
}

/// What an append led to.
enum Appended {
    /// The server holds the chunk.
    Done,
    /// The server holds exactly this many bytes; continue from there.
    Resync(u64),
    /// The session is gone (expired, unknown, or lost by the server): start over.
    Lost,
    /// The session is closed.
    Closed,
}

impl Job<'_> {
    /// The signal that the session is gone and the file must start over.
    fn lost(&self, why: &str) -> UploadError {
        UploadError::SessionLost {
            remote: self.remote(),
            restarts: 0,
            why: why.to_owned(),
        }
    }
}

impl Job<'_> {
    fn remote(&self) -> String {
        self.commit.path.to_string()
    }

    fn save_ack(&self, start: u64, end: u64, session: &str) -> Result<(), UploadError> {
        let (Some(state), Some(sink)) = (&self.state, &self.options.state_sink) else {
            return Ok(());
        };
        let snapshot = {
            let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
            if s.session_id != session {
                s.session_id = session.to_owned();
                s.acked.clear();
            }
            s.ack(start, end);
            s.clone()
        };
        sink(&snapshot).map_err(UploadError::State)
    }

    fn forget_session(&self) {
        if let Some(state) = &self.state {
            let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
            s.session_id.clear();
            s.acked.clear();
        }
    }

    /// Starts a session, optionally carrying the first chunk.
    async fn start(&self, kind: SessionType, first: Option<&Chunk>) -> Result<String, UploadError> {
        let mut arg = UploadSessionStartArg::new();
        if kind == SessionType::Concurrent {
            arg = arg.with_session_type(UploadSessionType::Concurrent);
        }
        if let Some(c) = first.filter(|c| !c.data.is_empty()) {
            arg = arg.with_content_hash(c.hash.to_hex());
        }
        let body = first.map(|c| c.data.clone()).unwrap_or_default();
        // A resent start opens a second session; the first one expires unused.
        let res = files::upload_session_start(&self.clients.checked, &arg, body)
            .await
            .map_err(|e| UploadError::api(Stage::Start, e))?;
        Ok(res.session_id.into())
    }

    /// Appends one chunk at its offset.
    async fn append(
        &self,
        session: &str,
        chunk: &Chunk,
        close: bool,
    ) -> Result<Appended, UploadError> {
        let mut arg = UploadSessionAppendArg::new(UploadSessionCursor::new(session, chunk.offset))
            .with_close(close);
        if !chunk.data.is_empty() {
            arg = arg.with_content_hash(chunk.hash.to_hex());
        }
        // A resent append whose first attempt landed answers `incorrect_offset` with the
        // chunk's end (or `closed` for a closing one): both read as done below.
        let result =
            files::upload_session_append_v2(&self.clients.checked, &arg, chunk.data.clone()).await;
        match result {
            Ok(()) => Ok(Appended::Done),
            Err(e) => match e.route_error() {
                Some(UploadSessionAppendError::IncorrectOffset(o)) => {
                    Ok(Appended::Resync(o.correct_offset))
                }
                Some(UploadSessionAppendError::NotFound) => Ok(Appended::Lost),
                Some(UploadSessionAppendError::Closed) => Ok(Appended::Closed),
                _ => Err(UploadError::api(
                    Stage::Append {
                        remote: self.remote(),
                        offset: chunk.offset,
                    },
                    e,
                )),
            },
        }
    }

    /// Commits the session; verifies the stored hash.
    async fn finish(
        &self,
        session: &str,
        total: u64,
        local: ContentHash,
    ) -> Result<FileMetadata, UploadError> {
        let arg = UploadSessionFinishArg::new(
            UploadSessionCursor::new(session, total),
            self.commit.clone(),
        );
        let metadata =
            match files::upload_session_finish(&self.clients.checked, &arg, bytes::Bytes::new())
                .await
            {
                Ok(m) => m,
                Err(e) => match e.route_error() {
                    // The session is gone: either a resent commit whose first answer was lost
                    // (the file is there, with our hash), or the server lost the session.
                    Some(UploadSessionFinishError::LookupFailed(
                        why @ (UploadSessionLookupError::NotFound
                        | UploadSessionLookupError::IncorrectOffset(_)),
                    )) => match self.lookup(&local).await {
                        Some(m) => m,
                        None => {
                            return Err(self.lost(match why {
                                UploadSessionLookupError::NotFound => "lookup_failed/not_found",
                                _ => "lookup_failed/incorrect_offset",
                            }));
                        }
                    },
                    _ => {
                        return Err(UploadError::api(
                            Stage::Finish {
                                remote: self.remote(),
                            },
                            e,
                        ));
                    }
                },
            };
        self.check_hash(&metadata, &local)?;
        Ok(metadata)
    }

    /// The file at the commit path, if its content hash is `hash`.
    pub(crate) async fn lookup(&self, hash: &ContentHash) -> Option<FileMetadata> {
        let arg = files::GetMetadataArg::new(self.commit.path.clone());
        match files::get_metadata(&self.clients.checked, &arg).await {
            Ok(Metadata::File(f)) if f.content_hash.as_deref() == Some(hash.to_hex().as_str()) => {
                Some(f)
            }
            _ => None,
        }
    }

    pub(crate) fn check_hash(
        &self,
        m: &FileMetadata,
        local: &ContentHash,
    ) -> Result<(), UploadError> {
        local
            .verify(m.content_hash.as_deref())
            .map_err(|mismatch| UploadError::HashMismatch {
                path: self.remote(),
                mismatch,
            })
    }

    /// Uploads everything through one `files/upload` call.
    async fn single(&self, reader: &Reader, total: u64) -> Result<UploadOutcome, UploadError> {
        let chunk = reader.read_at(0, total).await?;
        let arg = crate::upload_arg(&self.commit, Some(chunk.hash.to_hex()));
        // A resent upload whose first attempt landed finds our own file there: a conflict
        // with our content hash, which the lookup below accepts. With `autorename` a resend
        // would store a second copy instead, so such an upload is not resent after a lost
        // answer.
        let client = if self.commit.autorename {
            &self.clients.plain
        } else {
            &self.clients.checked
        };
        let metadata = match files::upload(client, &arg, chunk.data.clone()).await {
            Ok(m) => m,
            Err(e) => {
                let conflict = matches!(
                    e.route_error(),
                    Some(files::UploadError::Path(files::UploadWriteFailed {
                        reason: WriteError::Conflict(WriteConflictError::File),
                        ..
                    }))
                );
                match conflict {
                    true => match self.lookup(&chunk.hash).await {
                        Some(m) => m,
                        None => return Err(self.upload_failed(e)),
                    },
                    false => return Err(self.upload_failed(e)),
                }
            }
        };
        self.check_hash(&metadata, &chunk.hash)?;
        self.tracker.acked(total);
        Ok(UploadOutcome {
            metadata,
            content_hash: chunk.hash,
            bytes: total,
        })
    }

    fn upload_failed(&self, e: dropbox_api::Error<files::UploadError>) -> UploadError {
        UploadError::api(
            Stage::Upload {
                remote: self.remote(),
            },
            e,
        )
    }

    /// A sequential session: chunks in order, the first one in `start`.
    async fn sequential(
        &self,
        reader: &Reader,
        resume: Option<(String, u64)>,
    ) -> Result<(String, u64, Blocks), UploadError> {
        let cs = self.options.chunk_size;
        let blocks = Blocks::default();
        let (mut session, mut offset) = match resume {
            Some((s, o)) => (Some(s), o),
            None => (None, 0),
        };
        self.tracker.set_acked(offset);
        let mut pending: Option<Chunk> = None;
        loop {
            let chunk = match pending.take() {
                Some(c) => c,
                None if reader.rewindable() => reader.read_at(offset, cs).await?,
                None => reader.next(cs).await?,
            };
            blocks.add(&chunk);
            let len = chunk.data.len() as u64;
            let last = match reader.len() {
                Some(total) => chunk.end() >= total,
                None => len < cs,
            };
            if len == 0 && session.is_some() {
                break;
            }
            // While this chunk is on the wire, the next one is read and hashed.
            let send = async {
                match &session {
                    None => self
                        .start(SessionType::Sequential, Some(&chunk))
                        .await
                        .map(|id| (Some(id), Appended::Done)),
                    Some(id) => self.append(id, &chunk, false).await.map(|o| (None, o)),
                }
            };
            let read_ahead = async {
                if reader.rewindable() && !last {
                    Some(reader.read_at(chunk.end(), cs).await)
                } else {
                    None
                }
            };
            let (sent, ahead) = tokio::join!(send, read_ahead);
            let (opened, outcome) = sent?;
            if opened.is_some() {
                session = opened;
            }
            match outcome {
                Appended::Done => {}
                Appended::Resync(correct) if correct == chunk.end() => {}
                Appended::Resync(correct) => {
                    tracing::debug!(target: "dropbox_upload", offset, correct, "resynchronising to the server's offset");
                    if reader.rewindable() {
                        offset = correct;
                        self.tracker.set_acked(offset);
                        continue;
                    }
                    if correct >= chunk.offset && correct < chunk.end() {
                        let rest = chunk.data.slice((correct - chunk.offset) as usize..);
                        pending = Some(hash_chunk(correct, rest).await);
                        offset = correct;
                        continue;
                    }
                    return Err(UploadError::StreamNotRewindable { offset: correct });
                }
                Appended::Lost => return Err(self.lost("not_found")),
                Appended::Closed => return Err(self.lost("closed")),
            }
            let id = session.clone().unwrap_or_default();
            self.save_ack(chunk.offset, chunk.end(), &id)?;
            self.tracker
                .acked(chunk.end().saturating_sub(offset.max(chunk.offset)));
            offset = chunk.end();
            reader.recycle(chunk.data);
            if last {
                break;
            }
            if let Some(next) = ahead {
                pending = Some(next?);
            }
        }
        Ok((session.unwrap_or_default(), offset, blocks))
    }

    /// A concurrent session: full chunks in parallel at their offsets, the tail (possibly
    /// empty) last with `close`.
    async fn concurrent(
        &self,
        reader: &Reader,
        resume: Option<String>,
    ) -> Result<(String, u64, Blocks), UploadError> {
        let cs = self.options.chunk_size;
        let blocks = Blocks::default();
        let session = match resume {
            Some(s) => s,
            None => self.start(SessionType::Concurrent, None).await?,
        };
        let acked = |start: u64, end: u64| {
            self.state.as_ref().is_some_and(|s| {
                let s = s.lock().unwrap_or_else(|p| p.into_inner());
                s.session_id == session && start < end && s.covers(start, end)
            })
        };
        self.tracker.set_acked(
            self.state
                .as_ref()
                .filter(|s| s.lock().unwrap_or_else(|p| p.into_inner()).session_id == session)
                .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).acked_bytes())
                .unwrap_or(0),
        );
        let send = |chunk: Chunk, close: bool| {
            let session = session.clone();
            let blocks = &blocks;
            async move {
                blocks.add(&chunk);
                match self.append(&session, &chunk, close).await? {
                    Appended::Done => {}
                    // The closing append was already accepted (a resumed upload).
                    Appended::Closed if close => {}
                    Appended::Resync(_) => {
                        return Err(UploadError::Protocol(format!(
                            "the server reported a wrong offset for a concurrent chunk at {}",
                            chunk.offset
                        )));
                    }
                    Appended::Lost => return Err(self.lost("not_found")),
                    Appended::Closed => return Err(self.lost("closed")),
                }
                self.save_ack(chunk.offset, chunk.end(), &session)?;
                self.tracker.acked(chunk.data.len() as u64);
                reader.recycle(chunk.data);
                Ok::<(), UploadError>(())
            }
        };
        let limit = self.options.concurrency.max(1);
        let mut in_flight = FuturesUnordered::new();
        let mut next = 0u64;
        // Full chunks go out as they are read (at most `limit` in flight); the first short
        // read is the tail.
        let tail: Chunk = loop {
            while in_flight.len() >= limit {
                if let Some(r) = in_flight.next().await {
                    r?;
                }
            }
            let chunk = match reader.len() {
                Some(total) if total - next >= cs => {
                    if acked(next, next + cs) {
                        next += cs;
                        continue;
                    }
                    reader.read_at(next, cs).await?
                }
                Some(total) => break reader.read_at(next, total - next).await?,
                None => {
                    let c = reader.next(cs).await?;
                    if (c.data.len() as u64) < cs {
                        break c;
                    }
                    c
                }
            };
            next = chunk.end();
            in_flight.push(send(chunk, false));
        };
        while let Some(r) = in_flight.next().await {
            r?;
        }
        drop(in_flight);
        let total = tail.end();
        if acked(tail.offset, total) {
            blocks.add(&tail);
        } else {
            send(tail, true).await?;
        }
        Ok((session, total, blocks))
    }
}

/// Uploads one source (or resumes `resume`), choosing the single-request or session path,
/// within the options' deadline.
pub(crate) async fn upload(
    client: &UserClient,
    reader: Reader,
    commit: CommitInfo,
    options: &UploadOptions,
    resume: Option<UploadState>,
    tracker: &Tracker,
) -> Result<UploadOutcome, UploadError> {
    options.validate()?;
    let remote = commit.path.to_string();
    let work = upload_within(client, reader, commit, options, resume, tracker);
    match options.deadline {
        None => work.await,
        Some(deadline) => tokio::time::timeout(deadline, work)
            .await
            .unwrap_or(Err(UploadError::Deadline { deadline, remote })),
    }
}

async fn upload_within(
    client: &UserClient,
    reader: Reader,
    commit: CommitInfo,
    options: &UploadOptions,
    resume: Option<UploadState>,
    tracker: &Tracker,
) -> Result<UploadOutcome, UploadError> {
    let identity: Option<SourceIdentity> = reader.identity().await;
    if let (Some(saved), Some(now)) = (&resume, &identity)
        && let Some(why) = saved.source.differs(now)
    {
        return Err(UploadError::SourceChanged(why));
    }
    if resume.is_some() && identity.is_none() {
        return Err(UploadError::SourceChanged(
            "only file uploads can be resumed".into(),
        ));
    }
    let session_type = resume
        .as_ref()
        .map_or(options.session_type, |s| s.session_type);
    let state = identity.map(|source| {
        Mutex::new(resume.clone().unwrap_or(UploadState {
            version: 1,
            path: reader.label(),
            session_id: String::new(),
            session_type,
            chunk_size: options.chunk_size,
            total: reader.len().unwrap_or(0),
            acked: Vec::new(),
            commit: commit.clone(),
            source,
        }))
    });
    let job = Job {
        clients: Clients::new(client, options),
        options,
        tracker,
        commit,
        state,
    };
    if resume.is_none()
        && let Some(total) = reader.len()
        && total <= options.single_request_max
    {
        return job.single(&reader, total).await;
    }
    let resume_session = resume.as_ref().filter(|s| !s.session_id.is_empty());
    let mut restarts = 0;
    loop {
        let sent = match session_type {
            SessionType::Sequential => {
                job.sequential(
                    &reader,
                    resume_session
                        .filter(|_| restarts == 0)
                        .map(|s| (s.session_id.clone(), s.acked_prefix())),
                )
                .await
            }
            SessionType::Concurrent => {
                job.concurrent(
                    &reader,
                    resume_session
                        .filter(|_| restarts == 0)
                        .map(|s| s.session_id.clone()),
                )
                .await
            }
        };
        let committed = match sent {
            Ok((session, total, blocks)) => {
                let local = blocks.finish(&reader, total).await?;
                job.finish(&session, total, local)
                    .await
                    .map(|metadata| UploadOutcome {
                        metadata,
                        content_hash: local,
                        bytes: total,
                    })
            }
            Err(e) => Err(e),
        };
        match committed {
            Err(UploadError::SessionLost { remote, why, .. }) => {
                if !reader.rewindable() || restarts >= MAX_RESTARTS {
                    return Err(UploadError::SessionLost {
                        remote,
                        restarts,
                        why,
                    });
                }
                restarts += 1;
                tracing::debug!(target: "dropbox_upload", %why, restarts, "upload session lost; starting the file over");
                job.forget_session();
                tracker.set_acked(0);
            }
            other => return other,
        }
    }
}
