//! Why a store operation failed: Dropbox-level failures (reported to clients as route
//! errors) and disk problems.

use std::io;

/// Kinds of write conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Conflict {
    /// A file is in the way.
    File,
    /// A folder is in the way.
    Folder,
    /// A parent of the path is a file.
    FileAncestor,
}

/// Why a write failed (maps to `files.WriteError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WriteFailure {
    /// The path is not valid.
    MalformedPath(String),
    /// Something is in the way.
    Conflict(Conflict),
    /// The name is one Dropbox does not store.
    DisallowedName,
}

/// Why a lookup failed (maps to `files.LookupError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LookupFailure {
    /// The path is not valid.
    MalformedPath(String),
    /// Nothing there.
    NotFound,
    /// Expected a file.
    NotFile,
    /// Expected a folder.
    NotFolder,
}

/// Why a delete failed (maps to `files.DeleteError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DeleteFailure {
    /// The path could not be looked up.
    Lookup(LookupFailure),
    /// The delete conflicts (for example `parent_rev` does not match).
    Write(WriteFailure),
}

/// A store error: either a Dropbox-level failure or an I/O problem.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError<F> {
    /// A failure reported to the client as a route error.
    #[error("route failure")]
    Failure(F),
    /// A disk problem (reported as a 500).
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
}
