//! Many files: sessions opened with `upload_session/start_batch`, contents sent in parallel
//! (small files packed into `upload_session/append_batch` calls), then commits of at most
//! 1,000 entries per call, strictly one at a time per account.

use std::path::PathBuf;

use bytes::Bytes;
use dropbox_api::UserClient;
use dropbox_api::files::{
    self, CommitInfo, FileMetadata, UploadSessionAppendArg, UploadSessionAppendBatchArg,
    UploadSessionAppendBatchArgEntry, UploadSessionAppendBatchEntryError,
    UploadSessionAppendBatchResultEntry, UploadSessionAppendError, UploadSessionCursor,
    UploadSessionFinishArg, UploadSessionFinishBatchArg, UploadSessionFinishBatchJobStatus,
    UploadSessionFinishBatchLaunch, UploadSessionFinishBatchResultEntry, UploadSessionFinishError,
    UploadSessionLookupError, UploadSessionStartArg, UploadSessionStartBatchArg,
};
use dropbox_api_runtime::RouteError as _;
use dropbox_api_runtime::auth::AuthClient as _;
use dropbox_content_hash::ContentHash;
use futures::stream::{self, StreamExt as _};

use crate::error::{Stage, UploadError};
use crate::options::{Clients, Tracker, UploadOptions};
use crate::source::{Reader, UploadSource};

/// Entries per `finish_batch` call (Dropbox's limit).
pub const MAX_BATCH: usize = 1000;

/// One file of a batch.
#[derive(Debug)]
pub struct BatchItem {
    /// Its bytes: a file or bytes in memory (what [`BatchItem::file`] and
    /// [`BatchItem::bytes`] make) or a seekable reader. A batch reads its items out of
    /// order and again when Dropbox loses a session, so a plain stream is refused: that
    /// item fails with [`UploadError::InvalidOptions`] and the others go on (upload a
    /// stream on its own with `upload`, which reads it once).
    pub source: UploadSource,
    /// Where it goes.
    pub commit: CommitInfo,
}

impl BatchItem {
    /// A local file going to `commit.path`.
    pub fn file(path: impl Into<PathBuf>, commit: CommitInfo) -> Self {
        BatchItem {
            source: UploadSource::File(path.into()),
            commit,
        }
    }

    /// Bytes going to `commit.path`.
    pub fn bytes(data: impl Into<Bytes>, commit: CommitInfo) -> Self {
        BatchItem {
            source: UploadSource::Bytes(data.into()),
            commit,
        }
    }
}

/// How commits are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CommitStyle {
    /// `upload_session/finish_batch:2`: one synchronous call per group.
    #[default]
    Sync,
    /// The legacy `upload_session/finish_batch` job, polled with `finish_batch/check`.
    AsyncJob,
}

/// How to upload a batch.
#[derive(Clone)]
pub struct BatchOptions {
    /// Chunk size, concurrency, retries, progress (the state sink is not used).
    pub upload: UploadOptions,
    /// Entries per commit call (at most 1,000).
    pub commit_group: usize,
    /// Sync (`finish_batch:2`) or async job (`finish_batch` + `check`).
    pub commit_style: CommitStyle,
    /// How often entries that failed with a retryable error are committed again.
    pub commit_rounds: u32,
    /// The lock that serialises commit calls of the account (default: one [`CommitQueue`]
    /// per account in this process).
    pub commit_lock: Option<std::sync::Arc<dyn CommitLock>>,
}

impl std::fmt::Debug for BatchOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchOptions")
            .field("upload", &self.upload)
            .field("commit_group", &self.commit_group)
            .field("commit_style", &self.commit_style)
            .field("commit_rounds", &self.commit_rounds)
            .field("commit_lock", &self.commit_lock.is_some())
            .finish()
    }
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            upload: UploadOptions::default(),
            commit_group: MAX_BATCH,
            commit_style: CommitStyle::Sync,
            commit_rounds: 5,
            commit_lock: None,
        }
    }
}

/// The outcome of a batch: one result per item, in item order.
#[derive(Debug)]
pub struct BatchReport {
    /// `results[i]` belongs to `items[i]`.
    pub results: Vec<Result<FileMetadata, UploadError>>,
    /// Commit calls made (`finish_batch:2`, or `finish_batch` jobs).
    pub commit_calls: u32,
}

impl BatchReport {
    /// How many items were committed.
    pub fn succeeded(&self) -> usize {
        self.results.iter().filter(|r| r.is_ok()).count()
    }
}

/// Serialises the commit calls of one account. Dropbox takes a lock on the namespace for each
/// `finish_batch` call; two at once contend and fail with `too_many_write_operations`.
///
/// By default every batch of the same account in this process (every client made from the
/// same credentials, see `Transport::account_key`) shares one [`CommitQueue`]. An app that
/// runs several processes, or several machines, plugs in its own lock through
/// [`BatchOptions::commit_lock`]: a lock file as below, or a lock in a shared service such
/// as Redis.
///
/// ```no_run
/// use std::sync::Arc;
/// use std::time::{Duration, Instant};
/// use dropbox_upload::{BatchOptions, CommitLock, CommitTurn};
///
/// /// One commit at a time across processes: a lock file created exclusively (`O_EXCL`) and
/// /// removed when the turn ends. (From Rust 1.89, `std::fs::File::lock` is an advisory lock
/// /// that a crashed process cannot leave behind.)
/// struct LockFile(std::path::PathBuf);
///
/// struct Held(std::path::PathBuf);
/// impl CommitTurn for Held {}
/// impl Drop for Held {
///     fn drop(&mut self) {
///         let _ = std::fs::remove_file(&self.0);
///     }
/// }
///
/// impl CommitLock for LockFile {
///     fn turn(&self) -> dropbox_upload::batch::TurnFuture<'_> {
///         let path = self.0.clone();
///         Box::pin(async move {
///             let give_up = Instant::now() + Duration::from_secs(600);
///             loop {
///                 match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
///                     Ok(_) => return Ok(Box::new(Held(path)) as Box<dyn CommitTurn>),
///                     Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
///                         if Instant::now() > give_up {
///                             return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, e));
///                         }
///                         tokio::time::sleep(Duration::from_millis(50)).await;
///                     }
///                     Err(e) => return Err(e),
///                 }
///             }
///         })
///     }
/// }
///
/// let options = BatchOptions {
///     commit_lock: Some(Arc::new(LockFile("/tmp/dropbox-commits.lock".into()))),
///     ..BatchOptions::default()
/// };
/// # let _ = options;
/// ```
pub trait CommitLock: Send + Sync + 'static {
    /// Waits for this account's turn to commit; the turn lasts until the value is dropped.
    fn turn(&self) -> TurnFuture<'_>;
}

/// A held turn of a [`CommitLock`]: dropping it lets the next commit go.
pub trait CommitTurn: Send {}

/// The future of [`CommitLock::turn`].
pub type TurnFuture<'a> = std::pin::Pin<
    Box<dyn std::future::Future<Output = std::io::Result<Box<dyn CommitTurn>>> + Send + 'a>,
>;

/// The in-process commit lock of one account (the default [`CommitLock`]).
#[derive(Debug, Default)]
pub struct CommitQueue(std::sync::Arc<tokio::sync::Mutex<()>>);

impl CommitTurn for tokio::sync::OwnedMutexGuard<()> {}

impl CommitLock for CommitQueue {
    fn turn(&self) -> TurnFuture<'_> {
        let lock = self.0.clone();
        Box::pin(async move { Ok(Box::new(lock.lock_owned().await) as Box<dyn CommitTurn>) })
    }
}

/// An item whose bytes are all in a closed session.
struct Sent {
    index: usize,
    session: String,
    total: u64,
    hash: ContentHash,
}

/// One item's outcome, once known.
type Outcome = Option<Result<FileMetadata, UploadError>>;

/// Uploads a batch in three phases: [`open_sessions`], [`send_contents`], [`commit_rounds`].
pub(crate) async fn upload_batch(
    client: &UserClient,
    items: Vec<BatchItem>,
    options: &BatchOptions,
) -> Result<BatchReport, UploadError> {
    options.upload.validate()?;
    if options.commit_group == 0 || options.commit_group > MAX_BATCH {
        return Err(UploadError::InvalidOptions(format!(
            "commit_group must be between 1 and {MAX_BATCH}"
        )));
    }
    let up = &options.upload;
    let clients = Clients::new(client, up);
    let client = &clients.checked;
    let mut results: Vec<Outcome> = (0..items.len()).map(|_| None).collect();
    let (commits, readers) = open_readers(items, &mut results).await;
    let total_bytes = readers.iter().flatten().map(|r| r.len().unwrap_or(0)).sum();
    let tracker = Tracker::new(up.progress.clone(), total_bytes, commits.len() as u64);
    let sessions = open_sessions(client, &readers).await?;
    let sent = send_contents(
        client,
        up,
        &tracker,
        &commits,
        &readers,
        sessions,
        &mut results,
    )
    .await;
    let batch = Batch {
        client,
        options,
        commits: &commits,
        readers: &readers,
        tracker: &tracker,
    };
    let commit_calls = batch.commit_rounds(sent, &mut results).await?;
    let results = results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(UploadError::Protocol("item was not processed".into()))))
        .collect();
    Ok(BatchReport {
        results,
        commit_calls,
    })
}

/// Opens every item's source (each reader takes its source over); an item that cannot be
/// read gets its error at once. Returns the items' commits and readers, by index.
async fn open_readers(
    items: Vec<BatchItem>,
    results: &mut [Outcome],
) -> (Vec<CommitInfo>, Vec<Option<Reader>>) {
    let mut readers = Vec::with_capacity(items.len());
    let mut commits = Vec::with_capacity(items.len());
    for (i, BatchItem { source, commit }) in items.into_iter().enumerate() {
        commits.push(commit);
        if matches!(source, UploadSource::Stream { .. }) {
            results[i] = Some(Err(UploadError::InvalidOptions(
                "a batch item must be a file, bytes or a seekable reader, not a stream".into(),
            )));
            readers.push(None);
            continue;
        }
        match Reader::open(source).await {
            Ok(r) => readers.push(Some(r)),
            Err(e) => {
                results[i] = Some(Err(e));
                readers.push(None);
            }
        }
    }
    (commits, readers)
}

/// Phase 1: a session per readable item, up to 1,000 per `start_batch` call.
async fn open_sessions(
    client: &UserClient,
    readers: &[Option<Reader>],
) -> Result<Vec<Option<String>>, UploadError> {
    let wanted: Vec<usize> = (0..readers.len())
        .filter(|i| readers[*i].is_some())
        .collect();
    let mut sessions: Vec<Option<String>> = vec![None; readers.len()];
    for group in wanted.chunks(MAX_BATCH) {
        let arg = UploadSessionStartBatchArg::new(group.len() as u64);
        // A resent start_batch opens sessions that expire unused.
        let res = files::upload_session_start_batch(client, &arg)
            .await
            .map_err(|e| UploadError::api(Stage::StartBatch, e))?;
        if res.session_ids.len() != group.len() {
            return Err(UploadError::Protocol(format!(
                "start_batch returned {} sessions for {} asked",
                res.session_ids.len(),
                group.len()
            )));
        }
        for (i, id) in group.iter().zip(res.session_ids) {
            sessions[*i] = Some(id.into());
        }
    }
    Ok(sessions)
}

/// Phase 2: the contents, in parallel, each session closed by its last append. Items that fit
/// in one chunk travel together in `append_batch` calls (up to 1,000 pieces and one chunk of
/// bytes per call); larger ones get appends of their own. Returns the items sent, in order.
async fn send_contents(
    client: &UserClient,
    up: &UploadOptions,
    tracker: &Tracker,
    commits: &[CommitInfo],
    readers: &[Option<Reader>],
    sessions: Vec<Option<String>>,
    results: &mut [Outcome],
) -> Vec<Sent> {
    let cap = up.chunk_size;
    let mut packs: Vec<Vec<Piece<'_>>> = Vec::new();
    let mut pack_bytes = 0u64;
    let mut singles = Vec::new();
    for ((i, commit), session) in commits.iter().enumerate().zip(sessions) {
        let (Some(reader), Some(session)) = (&readers[i], session) else {
            continue;
        };
        match reader.len() {
            Some(len) if len <= cap => {
                let full = packs
                    .last()
                    .is_none_or(|p| p.len() >= MAX_BATCH || pack_bytes + len > cap);
                if full {
                    packs.push(Vec::new());
                    pack_bytes = 0;
                }
                pack_bytes += len;
                if let Some(p) = packs.last_mut() {
                    p.push(Piece {
                        index: i,
                        reader,
                        commit,
                        session,
                        len,
                    });
                }
            }
            _ => singles.push((i, reader, commit, session)),
        }
    }
    // The futures are collected first: mapping them lazily inside the stream trips the
    // compiler's `Send` check of the caller's future.
    let mut pack_jobs = Vec::with_capacity(packs.len());
    for pack in packs {
        pack_jobs.push(send_pack(client, up, tracker, pack));
    }
    let packed = stream::iter(pack_jobs)
        .buffer_unordered(up.concurrency.max(1))
        .collect::<Vec<_>>();
    let mut jobs = Vec::with_capacity(singles.len());
    for (i, reader, commit, session) in singles {
        jobs.push(async move {
            (
                i,
                send_item(client, up, tracker, reader, commit, session).await,
            )
        });
    }
    let single = stream::iter(jobs)
        .buffer_unordered(up.concurrency.max(1))
        .collect::<Vec<_>>();
    let (packed, mut uploads) = futures::join!(packed, single);
    uploads.extend(packed.into_iter().flatten());
    let mut sent: Vec<Sent> = Vec::new();
    for (i, r) in uploads {
        match r {
            Ok((session, total, hash)) => sent.push(Sent {
                index: i,
                session,
                total,
                hash,
            }),
            Err(e) => results[i] = Some(Err(e)),
        }
    }
    sent.sort_by_key(|s| s.index);
    sent
}

/// What the commit phase needs.
struct Batch<'a> {
    client: &'a UserClient,
    options: &'a BatchOptions,
    commits: &'a [CommitInfo],
    readers: &'a [Option<Reader>],
    tracker: &'a Tracker,
}

/// The entries of one commit round that go on to the next.
#[derive(Default)]
struct Round {
    /// Failed with a transient error: committed again.
    again: Vec<Sent>,
    /// Their session is gone and the file is not there: sent again from the source.
    lost: Vec<Sent>,
}

impl Batch<'_> {
    /// Phase 3: commits, one call at a time for the account, in rounds: entries that failed
    /// with a transient error are committed again, files whose session was lost are sent
    /// again first. Returns the number of commit calls.
    async fn commit_rounds(
        &self,
        mut sent: Vec<Sent>,
        results: &mut [Outcome],
    ) -> Result<u32, UploadError> {
        let up = &self.options.upload;
        let queue = self.options.commit_lock.clone().unwrap_or_else(|| {
            self.client.transport().shared::<CommitQueue>() as std::sync::Arc<dyn CommitLock>
        });
        let policy = up
            .retry
            .clone()
            .unwrap_or_else(|| self.client.transport().config().retry.clone());
        let mut restarts = vec![0u32; self.commits.len()];
        let mut commit_calls = 0u32;
        let mut round = 0u32;
        while !sent.is_empty() {
            round += 1;
            let mut next = Round::default();
            for group in chunked(std::mem::take(&mut sent), self.options.commit_group) {
                let answers = {
                    let _turn = queue.turn().await.map_err(|e| {
                        UploadError::Protocol(format!("the commit lock failed: {e}"))
                    })?;
                    commit_calls += 1;
                    self.commit(&group).await?
                };
                for (s, answer) in group.into_iter().zip(answers) {
                    self.settle(s, answer, round, &mut next, results).await;
                }
            }
            for s in next.lost {
                match self.start_over(&s, &mut restarts[s.index]).await {
                    Ok(again) => next.again.push(again),
                    Err(e) => results[s.index] = Some(Err(e)),
                }
            }
            if !next.again.is_empty() {
                let delay = policy.backoff(round, None);
                tracing::debug!(target: "dropbox_upload", entries = next.again.len(), ?delay, "committing entries again");
                tokio::time::sleep(delay).await;
            }
            sent = next.again;
        }
        Ok(commit_calls)
    }

    /// One commit call for a group; one answer per entry.
    async fn commit(
        &self,
        group: &[Sent],
    ) -> Result<Vec<UploadSessionFinishBatchResultEntry>, UploadError> {
        let entries: Vec<UploadSessionFinishArg> = group
            .iter()
            .map(|s| {
                UploadSessionFinishArg::new(
                    UploadSessionCursor::new(s.session.clone(), s.total),
                    self.commits[s.index].clone(),
                )
            })
            .collect();
        let arg = UploadSessionFinishBatchArg::new(entries);
        let answers = commit_group(
            self.client,
            &self.options.upload,
            &arg,
            self.options.commit_style,
        )
        .await?;
        if answers.len() != group.len() {
            return Err(UploadError::Protocol(format!(
                "finish_batch answered {} entries for {} sent",
                answers.len(),
                group.len()
            )));
        }
        Ok(answers)
    }

    /// Records an entry's answer, or puts it into the next round.
    async fn settle(
        &self,
        s: Sent,
        answer: UploadSessionFinishBatchResultEntry,
        round: u32,
        next: &mut Round,
        results: &mut [Outcome],
    ) {
        let commit = &self.commits[s.index];
        match answer {
            UploadSessionFinishBatchResultEntry::Success(meta) => {
                results[s.index] = Some(verified(commit, meta, &s.hash));
                self.tracker.file_done();
            }
            UploadSessionFinishBatchResultEntry::Failure(e)
                if e.is_transient() && round < self.options.commit_rounds =>
            {
                next.again.push(s);
            }
            UploadSessionFinishBatchResultEntry::Failure(
                UploadSessionFinishError::LookupFailed(UploadSessionLookupError::NotFound),
            ) => {
                // Either a resent commit whose first answer was lost (the file is there with
                // our hash) or a session the server lost: that file starts over.
                match find_committed(self.client, commit, &s.hash).await {
                    Some(meta) => {
                        results[s.index] = Some(Ok(meta));
                        self.tracker.file_done();
                    }
                    None => next.lost.push(s),
                }
            }
            UploadSessionFinishBatchResultEntry::Failure(error) => {
                results[s.index] = Some(Err(UploadError::BatchEntry {
                    remote: commit.path.to_string(),
                    error,
                }));
            }
        }
    }

    /// Sends a file whose session was lost again, in a session of its own, within the bound
    /// on restarts.
    async fn start_over(&self, s: &Sent, restarts: &mut u32) -> Result<Sent, UploadError> {
        let commit = &self.commits[s.index];
        let why = "lookup_failed/not_found".to_string();
        let reader = match &self.readers[s.index] {
            Some(r) if r.rewindable() && *restarts < crate::session::MAX_RESTARTS => r,
            _ => {
                return Err(UploadError::SessionLost {
                    remote: commit.path.to_string(),
                    restarts: *restarts,
                    why,
                });
            }
        };
        *restarts += 1;
        tracing::debug!(target: "dropbox_upload", %why, "a batch session was lost; sending the file again");
        let session = new_session(self.client).await?;
        let (session, total, hash) = send_item(
            self.client,
            &self.options.upload,
            self.tracker,
            reader,
            commit,
            session,
        )
        .await?;
        Ok(Sent {
            index: s.index,
            session,
            total,
            hash,
        })
    }
}

fn chunked(items: Vec<Sent>, size: usize) -> Vec<Vec<Sent>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for s in items {
        cur.push(s);
        if cur.len() == size {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn verified(
    commit: &CommitInfo,
    meta: FileMetadata,
    hash: &ContentHash,
) -> Result<FileMetadata, UploadError> {
    match hash.verify(meta.content_hash.as_deref()) {
        Ok(()) => Ok(meta),
        Err(mismatch) => Err(UploadError::HashMismatch {
            path: commit.path.to_string(),
            mismatch,
        }),
    }
}

async fn find_committed(
    client: &UserClient,
    commit: &CommitInfo,
    hash: &ContentHash,
) -> Option<FileMetadata> {
    let arg = files::GetMetadataArg::new(commit.path.clone());
    match files::get_metadata(client, &arg).await {
        Ok(files::Metadata::File(f))
            if f.content_hash.as_deref() == Some(hash.to_hex().as_str()) =>
        {
            Some(f)
        }
        _ => None,
    }
}

/// One commit call; returns the entries' answers. A resent call whose first answer was lost
/// answers `lookup_failed/not_found` for entries it committed, which the caller checks by
/// content hash.
async fn commit_group(
    client: &UserClient,
    up: &UploadOptions,
    arg: &UploadSessionFinishBatchArg,
    style: CommitStyle,
) -> Result<Vec<UploadSessionFinishBatchResultEntry>, UploadError> {
    Ok(match style {
        CommitStyle::Sync => {
            files::upload_session_finish_batch_v2(client, arg)
                .await
                .map_err(|e| UploadError::api(Stage::FinishBatch, e))?
                .entries
        }
        CommitStyle::AsyncJob => {
            #[allow(deprecated)]
            let launch = files::upload_session_finish_batch(client, arg)
                .await
                .map_err(|e| UploadError::api(Stage::FinishBatch, e))?;
            match launch {
                UploadSessionFinishBatchLaunch::Complete(r) => r.entries,
                UploadSessionFinishBatchLaunch::AsyncJobId(id) => poll_job(client, up, &id).await?,
                _ => return Err(UploadError::BatchJobFailed),
            }
        }
    })
}

/// Polls `finish_batch/check` with a growing pause until the job completes (each poll is
/// one call of the request lifecycle, retried as it retries).
async fn poll_job(
    client: &UserClient,
    up: &UploadOptions,
    job: &str,
) -> Result<Vec<UploadSessionFinishBatchResultEntry>, UploadError> {
    let arg = dropbox_api::r#async::PollArg::new(job);
    let started = std::time::Instant::now();
    let mut wait = std::time::Duration::from_millis(50);
    loop {
        let status = files::upload_session_finish_batch_check(client, &arg)
            .await
            .map_err(|e| UploadError::api(Stage::BatchCheck, e))?;
        match status {
            UploadSessionFinishBatchJobStatus::Complete(r) => return Ok(r.entries),
            UploadSessionFinishBatchJobStatus::InProgress => {
                if let Some(d) = up.deadline
                    && started.elapsed() > d
                {
                    return Err(UploadError::BatchJobFailed);
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(std::time::Duration::from_secs(2));
            }
        }
    }
}

/// An item small enough to share an `append_batch` call.
struct Piece<'a> {
    index: usize,
    reader: &'a Reader,
    commit: &'a CommitInfo,
    session: String,
    len: u64,
}

/// The outcome of sending one item: its session, size and content hash.
type ItemSent = (usize, Result<(String, u64, ContentHash), UploadError>);

/// Sends several small items in one `append_batch` call, each piece closing its session.
/// Pieces the server refuses (and every piece, if the call fails for good) are sent again on
/// their own.
async fn send_pack(
    client: &UserClient,
    up: &UploadOptions,
    tracker: &Tracker,
    pack: Vec<Piece<'_>>,
) -> Vec<ItemSent> {
    let mut out = Vec::with_capacity(pack.len());
    let mut hashes = Vec::with_capacity(pack.len());
    let mut body = bytes::BytesMut::new();
    let mut entries = Vec::with_capacity(pack.len());
    let mut ready = Vec::with_capacity(pack.len());
    for piece in pack {
        match piece.reader.read_at(0, piece.len).await {
            Ok(chunk) if chunk.data.len() as u64 == piece.len => {
                body.extend_from_slice(&chunk.data);
                entries.push(
                    UploadSessionAppendBatchArgEntry::new(
                        UploadSessionCursor::new(piece.session.clone(), 0),
                        piece.len,
                    )
                    .with_close(true),
                );
                hashes.push(chunk.hash);
                ready.push(piece);
            }
            Ok(_) => out.push((
                piece.index,
                Err(UploadError::SourceChanged(format!(
                    "{} changed size while being read",
                    piece.commit.path
                ))),
            )),
            Err(e) => out.push((piece.index, Err(e))),
        }
    }
    if ready.is_empty() {
        return out;
    }
    let body = body.freeze();
    let arg = UploadSessionAppendBatchArg::new(entries)
        .with_content_hash(dropbox_content_hash::content_hash(&body).to_hex());
    let result = files::upload_session_append_batch(client, &arg, body).await;
    let answers = match result {
        Ok(r) if r.entries.len() == ready.len() => Some(r.entries),
        Ok(r) => {
            tracing::debug!(target: "dropbox_upload", got = r.entries.len(), sent = ready.len(), "append_batch answered the wrong number of entries");
            None
        }
        Err(e) => {
            tracing::debug!(target: "dropbox_upload", error = %e, "append_batch failed; sending its pieces one by one");
            None
        }
    };
    let mut again = Vec::new();
    match answers {
        Some(answers) => {
            for ((piece, hash), answer) in ready.into_iter().zip(hashes).zip(answers) {
                // The sessions are fresh from start_batch, so `closed` or an offset at the
                // piece's end can only come from a resent call whose first attempt landed.
                let landed = match &answer {
                    UploadSessionAppendBatchResultEntry::Success => true,
                    UploadSessionAppendBatchResultEntry::Failure(
                        UploadSessionAppendBatchEntryError::Closed,
                    ) => true,
                    UploadSessionAppendBatchResultEntry::Failure(
                        UploadSessionAppendBatchEntryError::IncorrectOffset(o),
                    ) => o.correct_offset == piece.len,
                    UploadSessionAppendBatchResultEntry::Failure(_) => false,
                };
                if landed {
                    tracker.acked(piece.len);
                    out.push((piece.index, Ok((piece.session, piece.len, hash))));
                } else {
                    again.push(piece);
                }
            }
        }
        None => again = ready,
    }
    for piece in again {
        let r = send_item(
            client,
            up,
            tracker,
            piece.reader,
            piece.commit,
            piece.session,
        )
        .await;
        out.push((piece.index, r));
    }
    out
}

/// Sends one item's bytes into its session, closing it with the last append. A session the
/// server lost is replaced by a new one.
async fn send_item(
    client: &UserClient,
    up: &UploadOptions,
    tracker: &Tracker,
    reader: &Reader,
    commit: &CommitInfo,
    mut session: String,
) -> Result<(String, u64, ContentHash), UploadError> {
    let total = reader.len().unwrap_or(0);
    let cs = up.chunk_size;
    let mut offset = 0u64;
    let mut blocks: std::collections::BTreeMap<u64, [u8; 32]> = std::collections::BTreeMap::new();
    let mut restarts = 0;
    loop {
        let chunk = reader.read_at(offset, cs.min(total - offset)).await?;
        let last = chunk.end() >= total;
        let mut arg =
            UploadSessionAppendArg::new(UploadSessionCursor::new(session.clone(), offset))
                .with_close(last);
        if !chunk.data.is_empty() {
            arg = arg.with_content_hash(chunk.hash.to_hex());
        }
        let result = files::upload_session_append_v2(client, &arg, chunk.data.clone()).await;
        if let Err(error) = result {
            match error.route_error() {
                // A resent append whose first attempt landed.
                Some(UploadSessionAppendError::IncorrectOffset(o))
                    if o.correct_offset == chunk.end() => {}
                Some(UploadSessionAppendError::Closed) if last => {}
                Some(UploadSessionAppendError::IncorrectOffset(o)) => {
                    let correct = o.correct_offset;
                    if correct <= total && correct % dropbox_content_hash::BLOCK_SIZE as u64 == 0 {
                        offset = correct;
                    } else {
                        // Not on a block boundary: start over in a fresh session.
                        offset = 0;
                        blocks.clear();
                        session = new_session(client).await?;
                    }
                    continue;
                }
                Some(UploadSessionAppendError::NotFound | UploadSessionAppendError::Closed)
                    if restarts < crate::session::MAX_RESTARTS =>
                {
                    restarts += 1;
                    session = new_session(client).await?;
                    offset = 0;
                    blocks.clear();
                    continue;
                }
                _ => {
                    return Err(UploadError::api(
                        Stage::Append {
                            remote: commit.path.to_string(),
                            offset,
                        },
                        error,
                    ));
                }
            }
        }
        if let Some(b) = &chunk.blocks {
            let first = chunk.offset / dropbox_content_hash::BLOCK_SIZE as u64;
            for (i, d) in b.iter().enumerate() {
                blocks.insert(first + i as u64, *d);
            }
        }
        tracker.acked(chunk.data.len() as u64);
        offset = chunk.end();
        reader.recycle(chunk.data);
        if last {
            break;
        }
    }
    let hash = ContentHash::from_block_digests(blocks.values());
    Ok((session, total, hash))
}

async fn new_session(client: &UserClient) -> Result<String, UploadError> {
    let arg = UploadSessionStartArg::new();
    let r = files::upload_session_start(client, &arg, Bytes::new())
        .await
        .map_err(|e| UploadError::api(Stage::Start, e))?;
    Ok(r.session_id.into())
}
