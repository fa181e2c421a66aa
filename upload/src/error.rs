//! The toolkit's error type: what failed, where (stage: file, offset, route), and the API
//! error that caused it.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use dropbox_api::files;
use dropbox_api_runtime::RouteError;
use dropbox_content_hash::HashMismatch;

/// An API error of any route, its route error boxed (downcast it with
/// [`UploadError::route_error`]).
pub type CallError = dropbox_api::Error<Box<dyn RouteError>>;

/// Which step of an upload an API call belonged to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// `files/upload` of a small file.
    Upload {
        /// The destination.
        remote: String,
    },
    /// `upload_session/start`.
    Start,
    /// `upload_session/start_batch`.
    StartBatch,
    /// `upload_session/append:2`.
    Append {
        /// The destination.
        remote: String,
        /// Where the chunk starts.
        offset: u64,
    },
    /// `upload_session/append_batch`.
    AppendBatch,
    /// `upload_session/finish`.
    Finish {
        /// The destination.
        remote: String,
    },
    /// `upload_session/finish_batch` (either version).
    FinishBatch,
    /// `upload_session/finish_batch/check`.
    BatchCheck,
    /// `get_temporary_upload_link`.
    CreateLink,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stage::Upload { remote } => write!(f, "files/upload of {remote}"),
            Stage::Start => f.write_str("starting an upload session"),
            Stage::StartBatch => f.write_str("starting a batch of upload sessions"),
            Stage::Append { remote, offset } => {
                write!(f, "appending at offset {offset} of {remote}")
            }
            Stage::AppendBatch => f.write_str("appending to several upload sessions in one call"),
            Stage::Finish { remote } => write!(f, "committing {remote}"),
            Stage::FinishBatch => f.write_str("a finish_batch call"),
            Stage::BatchCheck => f.write_str("polling a finish_batch job"),
            Stage::CreateLink => f.write_str("issuing a temporary upload link"),
        }
    }
}

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
    /// An API call failed (after the retries the policy allows).
    #[error("{stage} failed: {error}")]
    Api {
        /// What the call was for.
        stage: Stage,
        /// The error, with the route's own error boxed.
        error: Box<CallError>,
    },
    /// A batch commit entry failed.
    #[error(
        "committing {remote} in a batch failed: {}",
        dropbox_api_runtime::tags::tag_path(error)
    )]
    BatchEntry {
        /// The destination.
        remote: String,
        /// The entry's error.
        error: files::UploadSessionFinishError,
    },
    /// The v1 `finish_batch` job reported failure, or never finished.
    #[error("the finish_batch job failed")]
    BatchJobFailed,
    /// The content hash Dropbox computed differs from the local one.
    #[error("{path}: {mismatch}")]
    HashMismatch {
        /// The destination.
        path: String,
        /// Both hashes.
        #[source]
        mismatch: HashMismatch,
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
    /// The upload session vanished (expired, or lost by the server) and could not be started
    /// over: the source cannot be read again, or it was lost too many times.
    #[error("the upload session of {remote} was lost ({why}) and {}", if *restarts == 0 { "the source cannot be read again".to_string() } else { format!("was started over {restarts} times") })]
    SessionLost {
        /// The destination.
        remote: String,
        /// How many times the file was started over.
        restarts: u32,
        /// What the server said (`lookup_failed/not_found`, `closed`, ...).
        why: String,
    },
    /// The server answered something the protocol does not allow here.
    #[error("unexpected answer: {0}")]
    Protocol(String),
    /// The overall deadline passed.
    #[error("the deadline of {deadline:?} passed while uploading {remote}")]
    Deadline {
        /// The configured deadline.
        deadline: Duration,
        /// What was being uploaded.
        remote: String,
    },
    /// A temporary upload link failed.
    #[error(transparent)]
    Link(#[from] crate::link::LinkError),
    /// Saving the upload state failed.
    #[error("saving the upload state failed: {0}")]
    State(String),
}

impl UploadError {
    /// An API error at a stage.
    pub(crate) fn api<E: RouteError>(stage: Stage, error: dropbox_api::Error<E>) -> Self {
        UploadError::Api {
            stage,
            error: Box::new(error.boxed()),
        }
    }

    /// Whether retrying may help: transport errors and timeouts, 5xx, 429, and write
    /// contention (as the generated route error classification says).
    pub fn is_transient(&self) -> bool {
        match self {
            UploadError::Api { error, .. } => error.is_transient(),
            UploadError::BatchEntry { error, .. } => error.is_transient(),
            UploadError::Link(l) => l.is_transient(),
            _ => false,
        }
    }

    /// How long the server asked to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            UploadError::Api { error, .. } => error.retry_after(),
            UploadError::BatchEntry { error, .. } => error.retry_after(),
            _ => None,
        }
    }

    /// The API error behind this one, if an API call failed.
    pub fn api_error(&self) -> Option<&CallError> {
        match self {
            UploadError::Api { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The route's own error (a 409), if it is a `T`:
    /// `e.route_error::<files::UploadSessionFinishError>()`.
    pub fn route_error<T: RouteError>(&self) -> Option<&T> {
        self.api_error()?.route_error()?.downcast_ref::<T>()
    }

    /// Dropbox's request id of the failed call, when a response arrived.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            UploadError::Api { error, .. } => error.request_id(),
            _ => None,
        }
    }

    /// The stage, for an API error.
    pub fn stage(&self) -> Option<&Stage> {
        match self {
            UploadError::Api { stage, .. } => Some(stage),
            _ => None,
        }
    }
}
