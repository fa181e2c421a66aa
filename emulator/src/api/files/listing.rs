//! `files/list_folder` and `files/list_folder/continue`.

use std::sync::Arc;

use axum::response::Response;
use dropbox_api::files as f;

use super::cursor::{Cursor, decode_cursor, encode_cursor};
use super::support::blocking;
use crate::api::convert::{lookup_error, metadata};
use crate::api::wire::{Refusal, ok};
use crate::state::Shared;
use crate::store::ListPosition;

pub(super) async fn list_folder(
    shared: Arc<Shared>,
    arg: f::ListFolderArg,
) -> Result<Response, Refusal> {
    if arg.path == "/" {
        return Err(Refusal::BadRequest(
            "Error in call to API function \"files/list_folder\": request body: path: Specify the root folder as an empty string rather than as \"/\".".into(),
        ));
    }
    let store = shared.store.clone();
    let limit = arg.limit.unwrap_or(2000).clamp(1, 2000) as usize;
    let (recursive, include_deleted) = (arg.recursive, arg.include_deleted);
    let page = blocking(move || {
        let root = store.list_root(&arg.path)?;
        let pos = ListPosition::Walk {
            after: None,
            snapshot: store.seq(),
        };
        Ok((
            root.clone(),
            store.list_page(&root, recursive, include_deleted, &pos, limit),
        ))
    })
    .await?;
    let (root, page) =
        page.map_err(|l| Refusal::route(&f::ListFolderError::Path(lookup_error(&l))))?;
    let cursor = encode_cursor(&Cursor {
        root,
        rec: recursive,
        del: include_deleted,
        lim: limit,
        pos: page.next,
    })?;
    let entries = page.entries.iter().map(metadata).collect();
    Ok(ok(&f::ListFolderResult::new(
        entries,
        cursor,
        page.has_more,
    )))
}

pub(super) async fn list_folder_continue(
    shared: Arc<Shared>,
    arg: f::ListFolderContinueArg,
) -> Result<Response, Refusal> {
    let Some(cursor) = decode_cursor(&arg.cursor) else {
        return Err(Refusal::BadRequest(
            "Error in call to API function \"files/list_folder/continue\": Invalid \"cursor\" parameter.".into(),
        ));
    };
    let store = shared.store.clone();
    let c = cursor.clone();
    let page = blocking(move || {
        let seq = store.seq();
        let mark = match &c.pos {
            ListPosition::Walk { snapshot, .. } => *snapshot,
            ListPosition::Changes { since } => *since,
        };
        if mark > seq {
            return Err(None);
        }
        if !c.root.is_empty() {
            store.list_root(&c.root).map_err(Some)?;
        }
        Ok(store.list_page(&c.root, c.rec, c.del, &c.pos, c.lim))
    })
    .await?;
    let page = match page {
        Ok(p) => p,
        Err(None) => return Err(Refusal::route(&f::ListFolderContinueError::Reset)),
        Err(Some(l)) => {
            return Err(Refusal::route(&f::ListFolderContinueError::Path(
                lookup_error(&l),
            )));
        }
    };
    let next = encode_cursor(&Cursor {
        pos: page.next,
        ..cursor
    })?;
    let entries = page.entries.iter().map(metadata).collect();
    Ok(ok(&f::ListFolderResult::new(entries, next, page.has_more)))
}
