//! Pre-populating the tree from a test: files and folders go into the store as if a
//! client had uploaded or created them (same ids, revs, content hashes and parents), but
//! without HTTP, so they are not counted in the stats and no fault applies.

use std::io::Write;
use std::sync::Arc;

use dropbox_api::files as f;

use crate::api::convert::{file_metadata, folder_metadata, write_error};
use crate::state::Shared;
use crate::store::{CommitSpec, Content, Mode, StoreError, ViewKind};

/// Why pre-populating failed.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The tree refused the write, as it would refuse an upload (a malformed path, a
    /// file where a folder is needed, a name Dropbox does not store).
    #[error("cannot write {path}: {error}")]
    Write {
        /// The path asked for.
        path: String,
        /// Dropbox's reason.
        error: f::WriteError,
    },
    /// The data directory failed.
    #[error("emulator storage: {0}")]
    Io(#[from] std::io::Error),
}

/// Stores `bytes` at `path` (parents created, an existing file overwritten).
pub(crate) async fn put_file(
    shared: Arc<Shared>,
    path: String,
    bytes: Vec<u8>,
) -> Result<f::FileMetadata, SeedError> {
    tokio::task::spawn_blocking(move || put_file_blocking(&shared, path, &bytes))
        .await
        .map_err(|e| SeedError::Io(std::io::Error::other(e.to_string())))?
}

fn put_file_blocking(
    shared: &Shared,
    path: String,
    bytes: &[u8],
) -> Result<f::FileMetadata, SeedError> {
    let store = &shared.store;
    let tmp = store.temp_path();
    let written = (|| {
        let mut file = std::fs::File::create_new(&tmp)?;
        file.write_all(bytes)?;
        if store.durable() {
            file.sync_all()?;
        }
        Ok::<_, std::io::Error>(())
    })();
    let content = Content {
        file: tmp.clone(),
        size: bytes.len() as u64,
        content_hash: crate::hash::hash_bytes(bytes),
    };
    let spec = CommitSpec {
        path: path.clone(),
        mode: Mode::Overwrite,
        autorename: false,
        strict_conflict: false,
        client_modified: None,
    };
    let result = written
        .map_err(StoreError::Io)
        .and_then(|()| store.commit(&spec, &content, shared.clock.now()));
    if !matches!(&result, Ok(c) if c.took_content) {
        let _ = std::fs::remove_file(&tmp);
    }
    match result {
        Ok(c) => match &c.entry.kind {
            ViewKind::File(info) => Ok(file_metadata(&c.entry, info)),
            _ => Err(SeedError::Io(std::io::Error::other(
                "committed entry is not a file",
            ))),
        },
        Err(StoreError::Failure(w)) => Err(SeedError::Write {
            path,
            error: write_error(&w),
        }),
        Err(StoreError::Io(e)) => Err(SeedError::Io(e)),
    }
}

/// Creates a folder at `path` (and missing parents); an existing folder is fine.
pub(crate) async fn create_folder(
    shared: Arc<Shared>,
    path: String,
) -> Result<f::FolderMetadata, SeedError> {
    tokio::task::spawn_blocking(move || {
        let created = match shared.store.create_folder(&path, false) {
            // Already there: fine for pre-populating.
            Err(StoreError::Failure(crate::store::WriteFailure::Conflict(
                crate::store::Conflict::Folder,
            ))) => shared
                .store
                .lookup(&path, false)
                .map_err(|_| StoreError::Io(std::io::Error::other("the folder vanished"))),
            other => other,
        };
        match created {
            Ok(e) => match &e.kind {
                ViewKind::Folder { id } => Ok(folder_metadata(&e, id)),
                _ => Err(SeedError::Io(std::io::Error::other(
                    "created entry is not a folder",
                ))),
            },
            Err(StoreError::Failure(w)) => Err(SeedError::Write {
                path,
                error: write_error(&w),
            }),
            Err(StoreError::Io(e)) => Err(SeedError::Io(e)),
        }
    })
    .await
    .map_err(|e| SeedError::Io(std::io::Error::other(e.to_string())))?
}
