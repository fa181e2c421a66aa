//! What the emulator hands out and keeps for later: temporary upload links and the jobs of
//! asynchronous `finish_batch` calls, as held in memory (the `persist` module writes their
//! records).

use chrono::{DateTime, Utc};

use crate::store::CommitSpec;

/// A temporary upload link.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    pub(crate) commit: CommitSpec,
    pub(crate) expires: DateTime<Utc>,
    pub(crate) state: LinkState,
    /// Name of its record below `links/` (32 hex digits; never the secret id).
    pub(crate) file: String,
}

/// Where a temporary upload link is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinkState {
    /// Not used yet.
    Fresh,
    /// An upload through it is running.
    InUse,
    /// Used (successfully or with a failed commit).
    Consumed,
}

/// A `finish_batch` (v1) job.
#[derive(Debug, Clone)]
pub(crate) enum Job {
    /// Still committing.
    Running,
    /// Done.
    Done(dropbox_api::files::UploadSessionFinishBatchResult),
}
