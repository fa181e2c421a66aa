//! Conversions between the engine's internal types and the generated API types.

use dropbox_api::files as f;

use crate::sessions::SessionFailure;
use crate::store::{
    CommitSpec, Conflict, DeleteFailure, EntryView, FileInfo, LookupFailure, Mode, ViewKind,
    WriteFailure,
};

/// `FileMetadata` of a stored file.
pub(crate) fn file_metadata(e: &EntryView, info: &FileInfo) -> f::FileMetadata {
    f::FileMetadata::new(
        e.name.clone(),
        info.id.clone(),
        info.client_modified(),
        info.server_modified(),
        info.rev.clone(),
        info.size,
    )
    .with_path_lower(e.lower.clone())
    .with_path_display(e.display.clone())
    .with_content_hash(info.content_hash.clone())
}

/// `FolderMetadata` of a folder.
pub(crate) fn folder_metadata(e: &EntryView, id: &str) -> f::FolderMetadata {
    f::FolderMetadata::new(e.name.clone(), id.to_string())
        .with_path_lower(e.lower.clone())
        .with_path_display(e.display.clone())
}

/// `Metadata` of any entry.
pub(crate) fn metadata(e: &EntryView) -> f::Metadata {
    match &e.kind {
        ViewKind::File(info) => f::Metadata::File(file_metadata(e, info)),
        ViewKind::Folder { id } => f::Metadata::Folder(folder_metadata(e, id)),
        ViewKind::Deleted => f::Metadata::Deleted(
            f::DeletedMetadata::new(e.name.clone())
                .with_path_lower(e.lower.clone())
                .with_path_display(e.display.clone()),
        ),
    }
}

/// The engine's commit settings from a `CommitInfo`.
pub(crate) fn commit_spec(c: &f::CommitInfo) -> CommitSpec {
    CommitSpec {
        path: c.path.to_string(),
        mode: mode(&c.mode),
        autorename: c.autorename,
        strict_conflict: c.strict_conflict,
        client_modified: c.client_modified,
    }
}

/// The engine's commit settings from an `UploadArg`.
pub(crate) fn upload_spec(a: &f::UploadArg) -> CommitSpec {
    CommitSpec {
        path: a.path.to_string(),
        mode: mode(&a.mode),
        autorename: a.autorename,
        strict_conflict: a.strict_conflict,
        client_modified: a.client_modified,
    }
}

fn mode(m: &f::WriteMode) -> Mode {
    match m {
        f::WriteMode::Add => Mode::Add,
        f::WriteMode::Overwrite => Mode::Overwrite,
        f::WriteMode::Update(rev) => Mode::Update(rev.to_string()),
    }
}

/// `WriteError`.
pub(crate) fn write_error(w: &WriteFailure) -> f::WriteError {
    match w {
        WriteFailure::MalformedPath(m) => f::WriteError::MalformedPath(Some(m.as_str().into())),
        WriteFailure::Conflict(c) => f::WriteError::Conflict(match c {
            Conflict::File => f::WriteConflictError::File,
            Conflict::Folder => f::WriteConflictError::Folder,
            Conflict::FileAncestor => f::WriteConflictError::FileAncestor,
        }),
        WriteFailure::DisallowedName => f::WriteError::DisallowedName,
    }
}

/// `LookupError`.
pub(crate) fn lookup_error(l: &LookupFailure) -> f::LookupError {
    match l {
        LookupFailure::MalformedPath(m) => f::LookupError::MalformedPath(Some(m.as_str().into())),
        LookupFailure::NotFound => f::LookupError::NotFound,
        LookupFailure::NotFile => f::LookupError::NotFile,
        LookupFailure::NotFolder => f::LookupError::NotFolder,
    }
}

/// `DeleteError`.
pub(crate) fn delete_error(d: &DeleteFailure) -> f::DeleteError {
    match d {
        DeleteFailure::Lookup(l) => f::DeleteError::PathLookup(lookup_error(l)),
        DeleteFailure::Write(w) => f::DeleteError::PathWrite(write_error(w)),
    }
}

/// `UploadSessionAppendError` (None: not an append-level failure).
pub(crate) fn append_error(s: &SessionFailure) -> Option<f::UploadSessionAppendError> {
    use f::UploadSessionAppendError as E;
    Some(match s {
        SessionFailure::NotFound => E::NotFound,
        SessionFailure::IncorrectOffset(n) => {
            E::IncorrectOffset(f::UploadSessionOffsetError::new(*n))
        }
        SessionFailure::Closed => E::Closed,
        SessionFailure::TooLarge => E::TooLarge,
        SessionFailure::ConcurrentInvalidOffset => E::ConcurrentSessionInvalidOffset,
        SessionFailure::ConcurrentInvalidDataSize => E::ConcurrentSessionInvalidDataSize,
        SessionFailure::PayloadTooLarge => E::PayloadTooLarge,
        SessionFailure::ContentHashMismatch => E::ContentHashMismatch,
        _ => return None,
    })
}

/// `UploadSessionAppendBatchEntryError`.
pub(crate) fn append_batch_entry_error(
    s: &SessionFailure,
) -> Option<f::UploadSessionAppendBatchEntryError> {
    use f::UploadSessionAppendBatchEntryError as E;
    Some(match s {
        SessionFailure::NotFound => E::NotFound,
        SessionFailure::IncorrectOffset(n) => {
            E::IncorrectOffset(f::UploadSessionOffsetError::new(*n))
        }
        SessionFailure::Closed => E::Closed,
        SessionFailure::TooLarge => E::TooLarge,
        SessionFailure::ConcurrentInvalidOffset => E::ConcurrentSessionInvalidOffset,
        SessionFailure::ConcurrentInvalidDataSize => E::ConcurrentSessionInvalidDataSize,
        _ => return None,
    })
}

/// `UploadSessionStartError`.
pub(crate) fn start_error(s: &SessionFailure) -> Option<f::UploadSessionStartError> {
    use f::UploadSessionStartError as E;
    Some(match s {
        SessionFailure::ConcurrentDataNotAllowed => E::ConcurrentSessionDataNotAllowed,
        SessionFailure::PayloadTooLarge | SessionFailure::TooLarge => E::PayloadTooLarge,
        SessionFailure::ContentHashMismatch => E::ContentHashMismatch,
        _ => return None,
    })
}

/// `UploadSessionFinishError`.
pub(crate) fn finish_error(s: &SessionFailure) -> Option<f::UploadSessionFinishError> {
    use f::UploadSessionFinishError as E;
    use f::UploadSessionLookupError as L;
    Some(match s {
        SessionFailure::NotFound => E::LookupFailed(L::NotFound),
        SessionFailure::IncorrectOffset(n) => {
            E::LookupFailed(L::IncorrectOffset(f::UploadSessionOffsetError::new(*n)))
        }
        SessionFailure::Closed => E::LookupFailed(L::Closed),
        SessionFailure::NotClosed => E::LookupFailed(L::NotClosed),
        SessionFailure::TooLarge => E::LookupFailed(L::TooLarge),
        SessionFailure::ConcurrentInvalidOffset => {
            E::LookupFailed(L::ConcurrentSessionInvalidOffset)
        }
        SessionFailure::ConcurrentInvalidDataSize => {
            E::LookupFailed(L::ConcurrentSessionInvalidDataSize)
        }
        SessionFailure::ConcurrentDataNotAllowed => E::ConcurrentSessionDataNotAllowed,
        SessionFailure::ConcurrentNotClosed => E::ConcurrentSessionNotClosed,
        SessionFailure::ConcurrentMissingData => E::ConcurrentSessionMissingData,
        SessionFailure::PayloadTooLarge => E::PayloadTooLarge,
        SessionFailure::ContentHashMismatch => E::ContentHashMismatch,
        SessionFailure::Write(w) => E::Path(write_error(w)),
        SessionFailure::BodyFailed(_) => return None,
    })
}
