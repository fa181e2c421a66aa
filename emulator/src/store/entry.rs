//! What an entry of the tree looks like to the API layer, and the stored facts about a
//! file.

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// The stored facts about a file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct FileInfo {
    /// `id:...`.
    pub(crate) id: String,
    /// Revision, lowercase hex, at least 9 digits.
    pub(crate) rev: String,
    /// Size in bytes.
    pub(crate) size: u64,
    /// Dropbox content hash.
    pub(crate) content_hash: String,
    /// Blob name below `blobs/`.
    pub(crate) blob: String,
    /// Client modification time (Unix seconds).
    pub(crate) client_modified: i64,
    /// Server modification time (Unix seconds).
    pub(crate) server_modified: i64,
}

impl FileInfo {
    /// Client modification time.
    pub(crate) fn client_modified(&self) -> DateTime<Utc> {
        secs(self.client_modified)
    }
    /// Server modification time.
    pub(crate) fn server_modified(&self) -> DateTime<Utc> {
        secs(self.server_modified)
    }
}

fn secs(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(s, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// What an entry looks like to the API layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntryView {
    /// Display path (`/Photos/a.jpg`).
    pub(crate) display: String,
    /// Lowercased path.
    pub(crate) lower: String,
    /// Last component of the display path.
    pub(crate) name: String,
    /// What it is.
    pub(crate) kind: ViewKind,
}

/// The kind of an [`EntryView`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ViewKind {
    /// A folder with this id.
    Folder {
        /// `id:...`.
        id: String,
    },
    /// A file.
    File(FileInfo),
    /// A deleted entry.
    Deleted,
}

pub(super) fn last(display: &str) -> String {
    display.rsplit('/').next().unwrap_or("").to_string()
}
