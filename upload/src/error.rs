//! The toolkit's error type: what failed, where (file, offset, route), after how many tries.

use std::path::PathBuf;
use std::time::Duration;

use dropbox_api::files;
use dropbox_api_runtime::NoError;

/// A route error of the generated crate.
pub type ApiError<E> = dropbox_api::Error<E>;

/// Why an upload failed. Messages never contain tokens or link URLs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UploadError {
    /// The options are not usable (for example a chunk size that is not a multiple of 4 MiB).
    #[error("invalid upload options: {0}")]
    InvalidOptions(String),
    /// Reading the local source failed.
    #[error("reading {}: {source}", path.display())]
    Io {
        /// The file (or `<stream>`).
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// `files/upload` failed.
    #[error("files/upload of {remote} failed: {error}")]
    Upload {
        /// The destination.
        remote: String,
        /// The error.
        error: Box<ApiError<files::UploadError>>,
    },
    /// `upload_session/start` (or `start_batch`) failed.
    #[error("starting an upload session failed: {0}")]
    Start(Box<ApiError<files::UploadSessionStartError>>),
    /// `upload_session/start_batch` failed.
    #[error("starting a batch of upload sessions failed: {0}")]
    StartBatch(Box<ApiError<NoError>>),
    /// `upload_session/append:2` failed.
    #[error("appending at offset {offset} of {remote} failed: {error}")]
    Append {
        /// The destination.
        remote: String,
        /// Where the chunk starts.
        offset: u64,
        /// The error.
        error: Box<ApiError<files::UploadSessionAppendError>>,
    },
    /// `upload_session/finish` failed.
    #[error("committing {remote} failed: {error}")]
    Finish {
        /// The destination.
        remote: String,
        /// The error.
        error: Box<ApiError<files::UploadSessionFinishError>>,
    },
    /// A batch commit entry failed.
    #[error("committing {remote} in a batch failed: {}", tag_path(error))]
    BatchEntry {
        /// The destination.
        remote: String,
        /// The entry's error.
        error: files::UploadSessionFinishError,
    },
    /// `get_temporary_upload_link` failed.
    #[error("issuing a temporary upload link failed: {0}")]
    CreateLink(Box<ApiError<NoError>>),
    /// An `upload_session/append_batch` call failed as a whole.
    #[error("appending to several upload sessions in one call failed: {0}")]
    AppendBatch(Box<ApiError<files::UploadSessionAppendBatchError>>),
    /// A `finish_batch` call failed as a whole.
    #[error("a finish_batch call failed: {0}")]
    Batch(Box<ApiError<NoError>>),
    /// Polling `finish_batch/check` failed.
    #[error("polling a finish_batch job failed: {0}")]
    BatchCheck(Box<ApiError<dropbox_api::r#async::PollError>>),
    /// The v1 `finish_batch` job reported failure.
    #[error("the finish_batch job failed")]
    BatchJobFailed,
    /// The content hash Dropbox computed differs from the local one.
    #[error("content hash mismatch for {remote}: local {local}, Dropbox {remote_hash}")]
    HashMismatch {
        /// The destination.
        remote: String,
        /// The hash of the bytes read locally.
        local: String,
        /// The hash in the `FileMetadata` Dropbox returned.
        remote_hash: String,
    },
    /// The file changed since the upload state was saved.
    #[error("the source changed since the upload state was saved: {0}")]
    SourceChanged(String),
    /// A plain stream cannot be rewound to resend data the server lost.
    #[error(
        "the server needs bytes from offset {offset} again, but the stream has moved past them"
    )]
    StreamNotRewindable {
        /// Where the server wants to continue.
        offset: u64,
    },
    /// The server answered something the protocol does not allow here.
    #[error("unexpected answer: {0}")]
    Protocol(String),
    /// Retries ran out.
    #[error("gave up on {what} after {attempts} attempts: {last}")]
    GaveUp {
        /// What was being done.
        what: String,
        /// How many attempts were made.
        attempts: u32,
        /// The last error.
        last: Box<UploadError>,
    },
    /// The overall deadline passed.
    #[error("the deadline of {deadline:?} passed while {what}: {last}")]
    Deadline {
        /// The configured deadline.
        deadline: Duration,
        /// What was being done.
        what: String,
        /// The last error.
        last: Box<UploadError>,
    },
    /// A temporary upload link failed.
    #[error(transparent)]
    Link(#[from] crate::link::LinkError),
    /// Saving the upload state failed.
    #[error("saving the upload state failed: {0}")]
    State(String),
}

impl UploadError {
    /// Whether retrying may help: transport errors, 5xx, 429, and write contention.
    pub fn is_transient(&self) -> bool {
        match self {
            UploadError::Upload { error, .. } => error.is_transient(),
            UploadError::Start(e) => e.is_transient(),
            UploadError::StartBatch(e) | UploadError::Batch(e) => e.is_transient(),
            UploadError::Append { error, .. } => error.is_transient(),
            UploadError::Finish { error, .. } => {
                error.is_transient()
                    || matches!(
                        error.route_error(),
                        Some(files::UploadSessionFinishError::TooManyWriteOperations)
                            | Some(files::UploadSessionFinishError::Path(
                                files::WriteError::TooManyWriteOperations
                            ))
                    )
            }
            UploadError::BatchCheck(e) => e.is_transient(),
            UploadError::AppendBatch(e) => e.is_transient(),
            UploadError::CreateLink(e) => e.is_transient(),
            UploadError::BatchEntry { error, .. } => is_retryable_entry(error),
            UploadError::Link(l) => l.is_transient(),
            _ => false,
        }
    }

    /// How long the server asked to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            UploadError::Upload { error, .. } => error.retry_after(),
            UploadError::Start(e) => e.retry_after(),
            UploadError::StartBatch(e) | UploadError::Batch(e) => e.retry_after(),
            UploadError::Append { error, .. } => error.retry_after(),
            UploadError::Finish { error, .. } => error.retry_after(),
            UploadError::BatchCheck(e) => e.retry_after(),
            UploadError::AppendBatch(e) => e.retry_after(),
            UploadError::CreateLink(e) => e.retry_after(),
            _ => None,
        }
    }
}

/// Whether a failed batch entry may succeed in a later commit call.
pub(crate) fn is_retryable_entry(e: &files::UploadSessionFinishError) -> bool {
    matches!(
        e,
        files::UploadSessionFinishError::TooManyWriteOperations
            | files::UploadSessionFinishError::Path(files::WriteError::TooManyWriteOperations)
    )
}

/// The tag path of a union value as Dropbox writes it in `error_summary`, e.g.
/// `path/conflict/file`.
pub(crate) fn tag_path(value: &impl serde::Serialize) -> String {
    let mut parts = Vec::new();
    let mut v = serde_json::to_value(value).unwrap_or_default();
    loop {
        let tag = match &v {
            serde_json::Value::String(s) => {
                parts.push(s.clone());
                break;
            }
            serde_json::Value::Object(m) => match m.get(".tag").and_then(|t| t.as_str()) {
                Some(t) => t.to_owned(),
                None => break,
            },
            _ => break,
        };
        let next = v.get(&tag).cloned();
        parts.push(tag);
        match next {
            Some(n @ (serde_json::Value::Object(_) | serde_json::Value::String(_))) => v = n,
            _ => break,
        }
    }
    if parts.is_empty() {
        "unknown error".into()
    } else {
        parts.join("/")
    }
}
