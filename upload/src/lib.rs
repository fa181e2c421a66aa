//! The upload toolkit for the Dropbox API.
//!
//! `use dropbox_upload::prelude::*;` adds upload methods to [`dropbox_api::UserClient`].
//! Dropbox offers three ways to put data in, and each has its method here:
//!
//! 1. **One file**, of any size: [`UploadExt::upload_file`] (or `upload_bytes`,
//!    `upload_stream`). Small inputs go in one `files/upload` call; larger ones through an
//!    upload session, sequential or concurrent (chunks in parallel at their offsets). Every
//!    chunk carries its own `content_hash` so the server checks it, transient failures are
//!    retried by the runtime's request lifecycle (backoff honouring `Retry-After`, idle
//!    timeouts), with the toolkit's own knowledge on top: a request whose answer was lost is
//!    resent because a repeated append answers `incorrect_offset` at the chunk's end and a
//!    repeated commit finds the file there with its hash; `incorrect_offset` resynchronises;
//!    a session the server lost (expired, or gone after a restart, at an append or at the
//!    commit) starts the file over from its source; and the stored file's hash is compared
//!    with the local one.
//!    The state can be saved after each chunk and the upload resumed after a restart with
//!    [`UploadExt::resume_upload`].
//! 2. **Many files**: [`UploadExt::upload_batch`] opens sessions with
//!    `upload_session/start_batch`, sends contents in parallel (files that fit in one chunk
//!    travel together, up to 1,000 per `upload_session/append_batch` call; larger ones get
//!    appends of their own), and commits them with
//!    `upload_session/finish_batch:2`, at most 1,000 entries a call and one call at a time
//!    per account (per credentials, in this process; [`CommitLock`] plugs in a lock shared
//!    by several processes or machines; the legacy asynchronous `finish_batch` is available
//!    too).
//! 3. **Temporary upload links**: [`UploadExt::create_upload_link`] issues a link that a
//!    party without a token uses once ([`TemporaryUploadLink::upload_bytes`] and friends).
//!
//! The legacy v1 chunked upload is in `v1`, with the `legacy-v1` feature (off by
//! default).
//!
//! A runnable tour of all three, against an emulator started in-process (or your Dropbox
//! when `DROPBOX_TOKEN` is set): `cargo run -p dropbox-upload --example three_ways`.
//!
//! # Example: one file through a concurrent session
//!
//! ```no_run
//! use dropbox_api::files::{CommitInfo, WriteMode};
//! use dropbox_upload::prelude::*;
//!
//! # async fn run(client: dropbox_api::UserClient) -> Result<(), dropbox_upload::UploadError> {
//! let options = UploadOptions::default()
//!     .session_type(SessionType::Concurrent)
//!     .concurrency(8)
//!     .chunk_size(32 * MIB);
//! let commit = CommitInfo::new("/backups/disk.img").with_mode(WriteMode::Overwrite);
//! let done = client.upload_file("disk.img", commit, &options).await?;
//! println!("{} bytes, content hash {}", done.bytes, done.content_hash);
//! # Ok(()) }
//! ```
//!
//! # Example: a batch
//!
//! ```no_run
//! use dropbox_api::files::CommitInfo;
//! use dropbox_upload::prelude::*;
//!
//! # async fn run(client: dropbox_api::UserClient) -> Result<(), dropbox_upload::UploadError> {
//! let items: Vec<BatchItem> = (0..2500)
//!     .map(|i| BatchItem::bytes(format!("note {i}"), CommitInfo::new(format!("/notes/{i}.txt"))))
//!     .collect();
//! let report = client.upload_batch(items, &BatchOptions::default()).await?;
//! println!("{} committed in {} calls", report.succeeded(), report.commit_calls);
//! # Ok(()) }
//! ```
//!
//! # Example: a temporary upload link, issued by one party and used by another
//!
//! ```no_run
//! use std::time::Duration;
//! use dropbox_api::files::CommitInfo;
//! use dropbox_upload::prelude::*;
//!
//! # async fn run(server_side: dropbox_api::UserClient) -> Result<(), dropbox_upload::UploadError> {
//! // The party holding the token:
//! let link = server_side
//!     .create_upload_link(CommitInfo::new("/inbox/photo.jpg"), Duration::from_secs(3600))
//!     .await?;
//! let url = link.url().expose().to_owned(); // hand this to the uploader
//!
//! // The party holding only the URL:
//! let hash = TemporaryUploadLink::from_url(url).upload_bytes(vec![0u8; 1024]).await?;
//! println!("stored, content hash {hash}");
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod batch;
pub mod error;
pub mod link;
pub mod options;
mod session;
pub mod source;
pub mod state;
#[cfg(feature = "legacy-v1")]
pub mod v1;

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use dropbox_api::UserClient;
use dropbox_api::files::{self, CommitInfo, UploadArg};
use dropbox_api_runtime::auth::AuthClient as _;

pub use batch::{
    BatchItem, BatchOptions, BatchReport, CommitLock, CommitQueue, CommitStyle, CommitTurn,
};
pub use dropbox_content_hash::{
    ContentHash, ContentHasher, HashMismatch, content_hash, hash_file, hash_file_parallel,
};
pub use error::{CallError, Stage, UploadError};
pub use link::{LinkError, TemporaryUploadLink};
pub use options::{MIB, Progress, ProgressReporter, SessionType, UploadOptions};
pub use session::UploadOutcome;
pub use source::SourceIdentity;
pub use source::UploadSource;
pub use state::{StateFile, UploadState};

/// Everything needed to upload: `use dropbox_upload::prelude::*;`.
pub mod prelude {
    pub use crate::{
        BatchItem, BatchOptions, BatchReport, ContentHash, MIB, Progress, ProgressReporter,
        SessionType, StateFile, TemporaryUploadLink, UploadError, UploadExt, UploadOptions,
        UploadOutcome, UploadSource, UploadState,
    };
}

/// The `UploadArg` of a commit, with an optional content hash.
pub(crate) fn upload_arg(commit: &CommitInfo, content_hash: Option<String>) -> UploadArg {
    let mut arg = UploadArg::new(commit.path.clone())
        .with_mode(commit.mode.clone())
        .with_autorename(commit.autorename)
        .with_mute(commit.mute)
        .with_strict_conflict(commit.strict_conflict);
    if let Some(t) = commit.client_modified {
        arg = arg.with_client_modified(t);
    }
    if let Some(p) = &commit.property_groups {
        arg = arg.with_property_groups(p.clone());
    }
    if let Some(h) = content_hash {
        arg = arg.with_content_hash(h);
    }
    arg
}

/// Upload methods for a user client.
pub trait UploadExt {
    /// Uploads a local file to `commit.path`.
    fn upload_file(
        &self,
        path: impl AsRef<Path>,
        commit: CommitInfo,
        options: &UploadOptions,
    ) -> impl Future<Output = Result<UploadOutcome, UploadError>> + Send;

    /// Uploads bytes in memory.
    fn upload_bytes(
        &self,
        data: impl Into<Bytes>,
        commit: CommitInfo,
        options: &UploadOptions,
    ) -> impl Future<Output = Result<UploadOutcome, UploadError>> + Send;

    /// Uploads a plain async stream (`len` when known). Unacknowledged chunks stay in memory
    /// to be resent; a lost session cannot be restarted.
    fn upload_stream(
        &self,
        reader: impl tokio::io::AsyncRead + Send + Unpin + 'static,
        len: Option<u64>,
        commit: CommitInfo,
        options: &UploadOptions,
    ) -> impl Future<Output = Result<UploadOutcome, UploadError>> + Send;

    /// Uploads any [`UploadSource`].
    fn upload_source(
        &self,
        source: UploadSource,
        commit: CommitInfo,
        options: &UploadOptions,
    ) -> impl Future<Output = Result<UploadOutcome, UploadError>> + Send;

    /// Continues an upload from its saved state; refuses a file that changed.
    fn resume_upload(
        &self,
        state: UploadState,
        options: &UploadOptions,
    ) -> impl Future<Output = Result<UploadOutcome, UploadError>> + Send;

    /// Uploads many files, committed in groups of at most 1,000.
    fn upload_batch(
        &self,
        items: Vec<BatchItem>,
        options: &BatchOptions,
    ) -> impl Future<Output = Result<BatchReport, UploadError>> + Send;

    /// Issues a temporary upload link valid for `duration` (60 s to 4 h), retrying transient
    /// failures with the default policy.
    fn create_upload_link(
        &self,
        commit: CommitInfo,
        duration: Duration,
    ) -> impl Future<Output = Result<TemporaryUploadLink, UploadError>> + Send;
}

impl UploadExt for UserClient {
    fn upload_file(
        &self,
        path: impl AsRef<Path>,
        commit: CommitInfo,
        options: &UploadOptions,
    ) -> impl Future<Output = Result<UploadOutcome, UploadError>> + Send {
        let source = UploadSource::File(path.as_ref().to_path_buf());
        self.upload_source(source, commit, options)
    }

    fn upload_bytes(
        &self,
        data: impl Into<Bytes>,
        commit: CommitInfo,
        options: &UploadOptions,
    ) -> impl Future<Output = Result<UploadOutcome, UploadError>> + Send {
        self.upload_source(UploadSource::Bytes(data.into()), commit, options)
    }

    fn upload_stream(
        &self,
        reader: impl tokio::io::AsyncRead + Send + Unpin + 'static,
        len: Option<u64>,
        commit: CommitInfo,
        options: &UploadOptions,
    ) -> impl Future<Output = Result<UploadOutcome, UploadError>> + Send {
        let source = UploadSource::Stream {
            reader: Box::new(reader),
            len,
        };
        self.upload_source(source, commit, options)
    }

    fn upload_source(
        &self,
        source: UploadSource,
        commit: CommitInfo,
        options: &UploadOptions,
    ) -> impl Future<Output = Result<UploadOutcome, UploadError>> + Send {
        let options = options.clone();
        async move {
            let reader = source::Reader::open(source).await?;
            let tracker =
                options::Tracker::new(options.progress.clone(), reader.len().unwrap_or(0), 1);
            let out = session::upload(self, reader, commit, &options, None, &tracker).await?;
            tracker.file_done();
            Ok(out)
        }
    }

    fn resume_upload(
        &self,
        state: UploadState,
        options: &UploadOptions,
    ) -> impl Future<Output = Result<UploadOutcome, UploadError>> + Send {
        let options = options.clone();
        async move {
            let reader = source::Reader::open(UploadSource::File(state.path.clone())).await?;
            let options = UploadOptions {
                chunk_size: state.chunk_size,
                session_type: state.session_type,
                ..options
            };
            let tracker =
                options::Tracker::new(options.progress.clone(), reader.len().unwrap_or(0), 1);
            let commit = state.commit.clone();
            let out =
                session::upload(self, reader, commit, &options, Some(state), &tracker).await?;
            tracker.file_done();
            Ok(out)
        }
    }

    fn upload_batch(
        &self,
        items: Vec<BatchItem>,
        options: &BatchOptions,
    ) -> impl Future<Output = Result<BatchReport, UploadError>> + Send {
        let options = options.clone();
        async move { batch::upload_batch(self, items, &options).await }
    }

    async fn create_upload_link(
        &self,
        commit: CommitInfo,
        duration: Duration,
    ) -> Result<TemporaryUploadLink, UploadError> {
        let secs = duration.as_secs_f64();
        let arg = files::GetTemporaryUploadLinkArg::new(commit).with_duration(secs);
        // A resent request issues a second link; the first expires unused.
        let client = self.with_retry_policy(
            self.transport()
                .config()
                .retry
                .clone()
                .lost_answer(dropbox_api_runtime::LostAnswer::Retry),
        );
        let res = files::get_temporary_upload_link(&client, &arg)
            .await
            .map_err(|e| UploadError::api(error::Stage::CreateLink, e))?;
        Ok(TemporaryUploadLink::issued(
            res.link.into(),
            duration,
            self.transport(),
        ))
    }
}

/// The examples of the repository README, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeExamples;

/// The example of this crate's `README.md`, compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct CrateReadme;
