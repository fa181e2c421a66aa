//! Single entries of the tree: `files/get_metadata`, `files/delete_v2` and
//! `files/create_folder_v2`.

use std::sync::Arc;

use axum::response::Response;
use dropbox_api::files as f;

use super::support::blocking;
use crate::api::convert::{delete_error, folder_metadata, lookup_error, metadata, write_error};
use crate::api::wire::{Refusal, internal, ok};
use crate::state::Shared;
use crate::store::{StoreError, ViewKind};

/// `files/get_metadata`.
pub(super) async fn get_metadata(
    shared: Arc<Shared>,
    arg: f::GetMetadataArg,
) -> Result<Response, Refusal> {
    let store = shared.store.clone();
    let r = blocking(move || store.lookup(&arg.path, arg.include_deleted)).await?;
    match r {
        Ok(e) => Ok(ok(&metadata(&e))),
        Err(l) => Err(Refusal::route(&f::GetMetadataError::Path(lookup_error(&l)))),
    }
}

/// `files/delete_v2`.
pub(super) async fn delete(shared: Arc<Shared>, arg: f::DeleteArg) -> Result<Response, Refusal> {
    let store = shared.store.clone();
    let r = blocking(move || store.delete(&arg.path, arg.parent_rev.as_deref())).await?;
    match r {
        Ok(e) => Ok(ok(&f::DeleteResult::new(metadata(&e)))),
        Err(StoreError::Failure(d)) => Err(Refusal::route(&delete_error(&d))),
        Err(StoreError::Io(e)) => Err(internal(e)),
    }
}

/// `files/create_folder_v2`.
pub(super) async fn create_folder(
    shared: Arc<Shared>,
    arg: f::CreateFolderArg,
) -> Result<Response, Refusal> {
    let store = shared.store.clone();
    let r = blocking(move || store.create_folder(&arg.path, arg.autorename)).await?;
    match r {
        Ok(e) => match &e.kind {
            ViewKind::Folder { id } => Ok(ok(&f::CreateFolderResult::new(folder_metadata(&e, id)))),
            _ => Err(internal("created entry is not a folder")),
        },
        Err(StoreError::Failure(w)) => {
            Err(Refusal::route(&f::CreateFolderError::Path(write_error(&w))))
        }
        Err(StoreError::Io(e)) => Err(internal(e)),
    }
}
