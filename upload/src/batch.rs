//! Many files: sessions opened with `upload_session/start_batch`, contents sent in parallel
//! (small files packed into `upload_session/append_batch` calls), then commits of at most
//! 1,000 entries per call, strictly one at a time per account.

use std::path::PathBuf;
use std::time::Instant;

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
use dropbox_api_runtime::auth::AuthClient as _;
use dropbox_content_hash::ContentHash;
use futures::stream::{self, StreamExt as _};

use crate::error::{UploadError, is_retryable_entry};
use crate::options::{Tracker, UploadOptions, with_retries};
use crate::source::{Reader, UploadSource};

/// Entries per `finish_batch` call (Dropbox's limit).
pub const MAX_BATCH: usize = 1000;

/// One file of a batch.
#[derive(Debug)]
pub struct BatchItem {
    /// Its bytes.
    pub source: BatchSource,
    /// Where it goes.
    pub commit: CommitInfo,
}

/// Where a batch item's bytes come from.
#[derive(Debug, Clone)]
pub enum BatchSource {
    /// A local file.
    File(PathBuf),
    /// Bytes in memory.
    Bytes(Bytes),
}

impl BatchItem {
    /// A local file going to `commit.path`.
    pub fn file(path: impl Into<PathBuf>, commit: CommitInfo) -> Self {
        BatchItem {
            source: BatchSource::File(path.into()),
            commit,
        }
    }

    /// Bytes going to `commit.path`.
    pub fn bytes(data: impl Into<Bytes>, commit: CommitInfo) -> Self {
        BatchItem {
            source: BatchSource::Bytes(data.into()),
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
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Chunk size, concurrency, retries, progress (the state sink is not used).
    pub upload: UploadOptions,
    /// Entries per commit call (at most 1,000).
    pub commit_group: usize,
    /// Sync (`finish_batch:2`) or async job (`finish_batch` + `check`).
    pub commit_style: CommitStyle,
    /// How often entries that failed with a retryable error are committed again.
    pub commit_rounds: u32,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            upload: UploadOptions::default(),
            commit_group: MAX_BATCH,
            commit_style: CommitStyle::Sync,
            commit_rounds: 5,
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

/// Serialises the commit calls of one account: every batch started from the same client
/// (and its clones) takes this lock around each `finish_batch` call.
#[derive(Debug, Default)]
pub struct CommitQueue(tokio::sync::Mutex<()>);

/// An item whose bytes are all in a closed session.
struct Sent {
    index: usize,
    session: String,
    total: u64,
    hash: ContentHash,
}

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
    let started = Instant::now();
    let up = &options.upload;
    let n = items.len();
    let mut results: Vec<Option<Result<FileMetadata, UploadError>>> =
        (0..n).map(|_| None).collect();
    let mut readers = Vec::with_capacity(n);
    let mut total_bytes = 0;
    for item in &items {
        let source = match &item.source {
            BatchSource::File(p) => UploadSource::File(p.clone()),
            BatchSource::Bytes(b) => UploadSource::Bytes(b.clone()),
        };
        let r = Reader::open(source).await;
        if let Ok(r) = &r {
            total_bytes += r.len().unwrap_or(0);
        }
        readers.push(r);
    }
    let tracker = Tracker::new(up.progress.clone(), total_bytes, n as u64);

    // 1. Sessions, up to 1,000 per start_batch call.
    let wanted: Vec<usize> = (0..n).filter(|i| readers[*i].is_ok()).collect();
    let mut sessions: Vec<Option<String>> = vec![None; n];
    for group in wanted.chunks(MAX_BATCH) {
        let arg = UploadSessionStartBatchArg::new(group.len() as u64);
        let res = with_retries(
            up,
            started,
            || "starting a batch of sessions".into(),
            || async {
                files::upload_session_start_batch(client, &arg)
                    .await
                    .map_err(|e| UploadError::StartBatch(Box::new(e)))
            },
        )
        .await?;
        if res.session_ids.len() != group.len() {
            return Err(UploadError::Protocol(format!(
                "start_batch returned {} sessions for {} asked",
                res.session_ids.len(),
                group.len()
            )));
        }
        for (i, id) in group.iter().zip(res.session_ids) {
            sessions[*i] = Some(id);
        }
    }

    // 2. Contents, in parallel, each session closed by its last append.
    let tracker_ref = &tracker;
    // Items that fit in one chunk travel together in `append_batch` calls (up to 1,000
    // pieces and one chunk of bytes per call); larger ones get appends of their own.
    let cap = up.chunk_size;
    let mut packs: Vec<Vec<Piece<'_>>> = Vec::new();
    let mut pack_bytes = 0u64;
    let mut singles = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let (Ok(reader), Some(session)) = (&readers[i], sessions[i].clone()) else {
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
                        commit: &item.commit,
                        session,
                        len,
                    });
                }
            }
            _ => singles.push((i, reader, &item.commit, session)),
        }
    }
    let mut pack_jobs = Vec::with_capacity(packs.len());
    for pack in packs {
        pack_jobs.push(send_pack(client, up, started, tracker_ref, pack));
    }
    let packed = stream::iter(pack_jobs)
        .buffer_unordered(up.concurrency.max(1))
        .collect::<Vec<_>>();
    let mut jobs = Vec::with_capacity(singles.len());
    for (i, reader, commit, session) in singles {
        jobs.push(async move {
            let r = send_item(client, up, started, tracker_ref, reader, commit, session).await;
            (i, r)
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
    for (i, r) in readers.into_iter().enumerate() {
        if let Err(e) = r {
            results[i] = Some(Err(e));
        }
    }
    sent.sort_by_key(|s| s.index);

    // 3. Commits, one call at a time for the account, retrying entries that can succeed.
    let queue = client.transport().shared::<CommitQueue>();
    let mut commit_calls = 0u32;
    let mut round = 0u32;
    while !sent.is_empty() {
        round += 1;
        let mut retry_later = Vec::new();
        let groups: Vec<Vec<Sent>> = chunked(std::mem::take(&mut sent), options.commit_group);
        for group in groups {
            let entries: Vec<UploadSessionFinishArg> = group
                .iter()
                .map(|s| {
                    UploadSessionFinishArg::new(
                        UploadSessionCursor::new(s.session.clone(), s.total),
                        items[s.index].commit.clone(),
                    )
                })
                .collect();
            let arg = UploadSessionFinishBatchArg::new(entries);
            let (answers, retried) = {
                let _turn = queue.0.lock().await;
                commit_group(
                    client,
                    up,
                    started,
                    &arg,
                    options.commit_style,
                    &mut commit_calls,
                )
                .await?
            };
            if answers.len() != group.len() {
                return Err(UploadError::Protocol(format!(
                    "finish_batch answered {} entries for {} sent",
                    answers.len(),
                    group.len()
                )));
            }
            for (s, answer) in group.into_iter().zip(answers) {
                let item = &items[s.index];
                match answer {
                    UploadSessionFinishBatchResultEntry::Success(meta) => {
                        results[s.index] = Some(verified(&item.commit, meta, &s.hash));
                        tracker.file_done();
                    }
                    UploadSessionFinishBatchResultEntry::Failure(e)
                        if is_retryable_entry(&e) && round < options.commit_rounds =>
                    {
                        retry_later.push(s);
                    }
                    UploadSessionFinishBatchResultEntry::Failure(
                        UploadSessionFinishError::LookupFailed(UploadSessionLookupError::NotFound),
                    ) if retried => {
                        // The first answer was lost after the commit happened.
                        let found = find_committed(client, &item.commit, &s.hash).await;
                        results[s.index] = Some(found.ok_or_else(|| UploadError::BatchEntry {
                            remote: item.commit.path.clone(),
                            error: UploadSessionFinishError::LookupFailed(
                                UploadSessionLookupError::NotFound,
                            ),
                        }));
                        tracker.file_done();
                    }
                    UploadSessionFinishBatchResultEntry::Failure(error) => {
                        results[s.index] = Some(Err(UploadError::BatchEntry {
                            remote: item.commit.path.clone(),
                            error,
                        }));
                    }
                }
            }
        }
        if !retry_later.is_empty() {
            let delay = up.retry.backoff(round, None);
            tracing::debug!(target: "dropbox_upload", entries = retry_later.len(), ?delay, "committing entries again");
            tokio::time::sleep(delay).await;
        }
        sent = retry_later;
    }
    let results = results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(UploadError::Protocol("item was not processed".into()))))
        .collect();
    Ok(BatchReport {
        results,
        commit_calls,
    })
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
    match &meta.content_hash {
        Some(h) if *h == hash.to_hex() => Ok(meta),
        other => Err(UploadError::HashMismatch {
            remote: commit.path.clone(),
            local: hash.to_hex(),
            remote_hash: other.clone().unwrap_or_else(|| "(none)".into()),
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

/// One commit call (with retries of transient failures); returns the entries' answers and
/// whether the call was sent more than once.
async fn commit_group(
    client: &UserClient,
    up: &UploadOptions,
    started: Instant,
    arg: &UploadSessionFinishBatchArg,
    style: CommitStyle,
    calls: &mut u32,
) -> Result<(Vec<UploadSessionFinishBatchResultEntry>, bool), UploadError> {
    let attempts = std::sync::atomic::AtomicU32::new(0);
    let entries = match style {
        CommitStyle::Sync => {
            with_retries(
                up,
                started,
                || "committing a batch".into(),
                || async {
                    attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    files::upload_session_finish_batch_v2(client, arg)
                        .await
                        .map_err(|e| UploadError::Batch(Box::new(e)))
                },
            )
            .await?
            .entries
        }
        CommitStyle::AsyncJob => {
            let launch = with_retries(
                up,
                started,
                || "launching a batch commit".into(),
                || async {
                    attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    #[allow(deprecated)]
                    files::upload_session_finish_batch(client, arg)
                        .await
                        .map_err(|e| UploadError::Batch(Box::new(e)))
                },
            )
            .await?;
            match launch {
                UploadSessionFinishBatchLaunch::Complete(r) => r.entries,
                UploadSessionFinishBatchLaunch::AsyncJobId(id) => {
                    poll_job(client, up, started, &id).await?
                }
                _ => return Err(UploadError::BatchJobFailed),
            }
        }
    };
    *calls += attempts.load(std::sync::atomic::Ordering::Relaxed);
    Ok((
        entries,
        attempts.load(std::sync::atomic::Ordering::Relaxed) > 1,
    ))
}

/// Polls `finish_batch/check` with backoff until the job completes.
async fn poll_job(
    client: &UserClient,
    up: &UploadOptions,
    started: Instant,
    job: &str,
) -> Result<Vec<UploadSessionFinishBatchResultEntry>, UploadError> {
    let arg = dropbox_api::r#async::PollArg::new(job);
    let mut wait = std::time::Duration::from_millis(50);
    loop {
        let status = with_retries(
            up,
            started,
            || "polling a batch commit".into(),
            || async {
                files::upload_session_finish_batch_check(client, &arg)
                    .await
                    .map_err(|e| UploadError::BatchCheck(Box::new(e)))
            },
        )
        .await?;
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
    started: Instant,
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
    let attempts = std::sync::atomic::AtomicU32::new(0);
    let result = with_retries(
        up,
        started,
        || format!("appending {} small files in one call", ready.len()),
        || async {
            attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            files::upload_session_append_batch(client, &arg, body.clone())
                .await
                .map_err(|e| UploadError::AppendBatch(Box::new(e)))
        },
    )
    .await;
    let retried = attempts.load(std::sync::atomic::Ordering::Relaxed) > 1;
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
                let landed = match &answer {
                    UploadSessionAppendBatchResultEntry::Success => true,
                    // An earlier attempt whose answer was lost did append and close it.
                    UploadSessionAppendBatchResultEntry::Failure(
                        UploadSessionAppendBatchEntryError::Closed,
                    ) => retried,
                    UploadSessionAppendBatchResultEntry::Failure(
                        UploadSessionAppendBatchEntryError::IncorrectOffset(o),
                    ) => retried && o.correct_offset == piece.len,
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
            started,
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
    started: Instant,
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
        let result = with_retries(
            up,
            started,
            || format!("appending at offset {offset} of {}", commit.path),
            || async {
                files::upload_session_append_v2(client, &arg, chunk.data.clone())
                    .await
                    .map_err(|error| UploadError::Append {
                        remote: commit.path.clone(),
                        offset,
                        error: Box::new(error),
                    })
            },
        )
        .await;
        match result {
            Ok(()) => {}
            Err(UploadError::Append { error, .. }) if matches!(error.route_error(), Some(UploadSessionAppendError::IncorrectOffset(o)) if o.correct_offset == chunk.end()) =>
                {}
            Err(UploadError::Append { error, .. })
                if matches!(error.route_error(), Some(UploadSessionAppendError::Closed))
                    && last => {}
            Err(UploadError::Append { error, .. })
                if matches!(
                    error.route_error(),
                    Some(UploadSessionAppendError::IncorrectOffset(_))
                ) =>
            {
                if let Some(UploadSessionAppendError::IncorrectOffset(o)) = error.route_error() {
                    let correct = o.correct_offset;
                    if correct <= total && correct % dropbox_content_hash::BLOCK_SIZE as u64 == 0 {
                        offset = correct;
                    } else {
                        // Not on a block boundary: start over in a fresh session.
                        offset = 0;
                        blocks.clear();
                        session = new_session(client, up, started).await?;
                    }
                }
                continue;
            }
            Err(UploadError::Append { error, .. })
                if matches!(
                    error.route_error(),
                    Some(UploadSessionAppendError::NotFound | UploadSessionAppendError::Closed)
                ) && restarts < 3 =>
            {
                restarts += 1;
                session = new_session(client, up, started).await?;
                offset = 0;
                blocks.clear();
                continue;
            }
            Err(e) => return Err(e),
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

async fn new_session(
    client: &UserClient,
    up: &UploadOptions,
    started: Instant,
) -> Result<String, UploadError> {
    let arg = UploadSessionStartArg::new();
    let r = with_retries(
        up,
        started,
        || "starting an upload session".into(),
        || async {
            files::upload_session_start(client, &arg, Bytes::new())
                .await
                .map_err(|e| UploadError::Start(Box::new(e)))
        },
    )
    .await?;
    Ok(r.session_id)
}
