//! Upload options, retries and progress reporting.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use dropbox_api::UserClient;
use dropbox_api_runtime::auth::AuthClient as _;
use dropbox_api_runtime::{LostAnswer, RetryPolicy};

use crate::error::UploadError;
pub use crate::state::SessionType;
use crate::state::UploadState;

/// One MiB.
pub const MIB: u64 = 1024 * 1024;
/// Dropbox's hashing block and the unit of concurrent-session offsets: 4 MiB.
pub const BLOCK: u64 = dropbox_content_hash::BLOCK_SIZE as u64;
/// The most one request may carry: 150 MiB.
pub const MAX_REQUEST: u64 = 150 * MIB;

/// A snapshot of an upload's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// Bytes the server has acknowledged.
    pub bytes_acked: u64,
    /// Bytes to upload in all.
    pub bytes_total: u64,
    /// Files committed.
    pub files_done: u64,
    /// Files in all.
    pub files_total: u64,
}

type Callback = Arc<dyn Fn(Progress) + Send + Sync>;
type StateSink = Arc<dyn Fn(&UploadState) -> Result<(), String> + Send + Sync>;

/// Where progress goes: a callback and/or a `tokio::sync::watch` channel. The library never
/// prints anything itself.
#[derive(Clone, Default)]
pub struct ProgressReporter {
    callback: Option<Callback>,
    watch: Option<Arc<tokio::sync::watch::Sender<Progress>>>,
}

impl fmt::Debug for ProgressReporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProgressReporter")
            .field("callback", &self.callback.is_some())
            .field("watch", &self.watch.is_some())
            .finish()
    }
}

impl ProgressReporter {
    /// Calls `f` on every change.
    pub fn callback(f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        ProgressReporter {
            callback: Some(Arc::new(f)),
            watch: None,
        }
    }

    /// Publishes every change on a watch channel; returns the reporter and a receiver.
    pub fn channel() -> (Self, tokio::sync::watch::Receiver<Progress>) {
        let (tx, rx) = tokio::sync::watch::channel(Progress::default());
        (
            ProgressReporter {
                callback: None,
                watch: Some(Arc::new(tx)),
            },
            rx,
        )
    }

    fn emit(&self, p: Progress) {
        if let Some(cb) = &self.callback {
            cb(p);
        }
        if let Some(w) = &self.watch {
            let _ = w.send(p);
        }
    }
}

/// Shared progress counters of one upload or batch.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    reporter: ProgressReporter,
    acked: AtomicU64,
    total: AtomicU64,
    files_done: AtomicU64,
    files_total: AtomicU64,
}

impl Tracker {
    pub(crate) fn new(reporter: ProgressReporter, bytes_total: u64, files_total: u64) -> Self {
        Tracker {
            reporter,
            acked: AtomicU64::new(0),
            total: AtomicU64::new(bytes_total),
            files_done: AtomicU64::new(0),
            files_total: AtomicU64::new(files_total),
        }
    }

    fn snapshot(&self) -> Progress {
        Progress {
            bytes_acked: self.acked.load(Ordering::Relaxed),
            bytes_total: self.total.load(Ordering::Relaxed),
            files_done: self.files_done.load(Ordering::Relaxed),
            files_total: self.files_total.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn acked(&self, n: u64) {
        if n > 0 {
            self.acked.fetch_add(n, Ordering::Relaxed);
            self.reporter.emit(self.snapshot());
        }
    }

    pub(crate) fn set_acked(&self, n: u64) {
        self.acked.store(n, Ordering::Relaxed);
        self.reporter.emit(self.snapshot());
    }

    pub(crate) fn file_done(&self) {
        self.files_done.fetch_add(1, Ordering::Relaxed);
        self.reporter.emit(self.snapshot());
    }
}

/// How to upload.
#[derive(Clone)]
pub struct UploadOptions {
    /// Bytes per request (a multiple of 4 MiB, at most 148 MiB). Default 16 MiB.
    pub chunk_size: u64,
    /// Requests in flight (concurrent sessions and batches). Default 4.
    pub concurrency: usize,
    /// Sequential or concurrent session. Default sequential.
    pub session_type: SessionType,
    /// Files up to this size go in one `files/upload` call. Default 8 MiB.
    pub single_request_max: u64,
    /// Retries of transient failures: `None` (the default) uses the client's policy (see
    /// `ClientBuilder::retry_policy`). Either way the toolkit resends requests whose lost
    /// answers it can check (appends, commits), and no others.
    pub retry: Option<RetryPolicy>,
    /// Give up once this much time has passed (none by default).
    pub deadline: Option<Duration>,
    /// Where progress goes.
    pub progress: ProgressReporter,
    /// Called with the upload's state after every acknowledged chunk (for resuming).
    pub state_sink: Option<StateSink>,
}

impl fmt::Debug for UploadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadOptions")
            .field("chunk_size", &self.chunk_size)
            .field("concurrency", &self.concurrency)
            .field("session_type", &self.session_type)
            .field("single_request_max", &self.single_request_max)
            .field("retry", &self.retry)
            .field("deadline", &self.deadline)
            .field("progress", &self.progress)
            .field("state_sink", &self.state_sink.is_some())
            .finish()
    }
}

impl Default for UploadOptions {
    fn default() -> Self {
        UploadOptions {
            chunk_size: 16 * MIB,
            concurrency: 4,
            session_type: SessionType::Sequential,
            single_request_max: 8 * MIB,
            retry: None,
            deadline: None,
            progress: ProgressReporter::default(),
            state_sink: None,
        }
    }
}

impl UploadOptions {
    /// Sets the chunk size (checked when the upload starts).
    pub fn chunk_size(mut self, bytes: u64) -> Self {
        self.chunk_size = bytes;
        self
    }

    /// Sets the number of requests in flight.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n;
        self
    }

    /// Sets the session type.
    pub fn session_type(mut self, t: SessionType) -> Self {
        self.session_type = t;
        self
    }

    /// Files up to `bytes` go in one `files/upload` call (0: always use a session).
    pub fn single_request_max(mut self, bytes: u64) -> Self {
        self.single_request_max = bytes;
        self
    }

    /// Sets the retry policy (instead of the client's).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Sets an overall deadline.
    pub fn deadline(mut self, d: Duration) -> Self {
        self.deadline = Some(d);
        self
    }

    /// Sets where progress goes.
    pub fn progress(mut self, reporter: ProgressReporter) -> Self {
        self.progress = reporter;
        self
    }

    /// Saves the upload state after every acknowledged chunk (see [`crate::StateFile`]).
    pub fn state_sink(
        mut self,
        sink: impl Fn(&UploadState) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.state_sink = Some(Arc::new(sink));
        self
    }

    /// Checks the limits Dropbox puts on requests.
    pub fn validate(&self) -> Result<(), UploadError> {
        if self.chunk_size == 0 || !self.chunk_size.is_multiple_of(BLOCK) {
            return Err(UploadError::InvalidOptions(format!(
                "chunk size {} is not a positive multiple of 4 MiB",
                self.chunk_size
            )));
        }
        if self.chunk_size > MAX_REQUEST {
            return Err(UploadError::InvalidOptions(format!(
                "chunk size {} exceeds the 150 MiB request limit",
                self.chunk_size
            )));
        }
        if self.concurrency == 0 {
            return Err(UploadError::InvalidOptions(
                "concurrency must be at least 1".into(),
            ));
        }
        if self.single_request_max > MAX_REQUEST {
            return Err(UploadError::InvalidOptions(
                "single_request_max exceeds the 150 MiB request limit".into(),
            ));
        }
        Ok(())
    }
}

/// The clients an upload calls through. Retrying is the request lifecycle's (one policy, one
/// classification); what the toolkit adds is knowledge of what a resent request did.
pub(crate) struct Clients {
    /// For calls whose repeated effect the toolkit detects (offsets, content hashes, closed
    /// sessions): a request whose answer was lost is sent again.
    pub(crate) checked: UserClient,
    /// For calls a resend could duplicate (`files/upload` with `autorename`): a lost answer
    /// is retried only as the route allows.
    pub(crate) plain: UserClient,
}

impl Clients {
    pub(crate) fn new(client: &UserClient, options: &UploadOptions) -> Self {
        let policy = options
            .retry
            .clone()
            .unwrap_or_else(|| client.transport().config().retry.clone());
        Clients {
            checked: client.with_retry_policy(policy.clone().lost_answer(LostAnswer::Retry)),
            plain: client.with_retry_policy(policy),
        }
    }
}
