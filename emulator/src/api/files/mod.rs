//! The `files` routes, one module per concern:
//!
//! - [`upload`] holds `files/upload`;
//! - [`sessions`] holds upload sessions (`start`, `start_batch`, `append`, `append_v2`,
//!   `append_batch`, `finish`);
//! - [`batches`] holds `finish_batch` (async job), `finish_batch/check`, `finish_batch_v2`;
//! - [`links`] holds temporary upload links;
//! - [`download`] (with [`range`], the `Range` header);
//! - [`listing`] (with [`cursor`], the `list_folder` cursors);
//! - [`entries`] holds `get_metadata`, `delete_v2`, `create_folder_v2`;
//! - [`support`] holds what the handlers share.
#![allow(deprecated)]

use std::sync::Arc;

use axum::response::Response;
use dropbox_api::r#async::PollArg;
use dropbox_api::files as f;
use dropbox_api::files::routes as r;

use super::call::Call;
use super::routes;
use super::wire::Refusal;
use crate::state::Shared;

mod batches;
mod cursor;
mod download;
mod entries;
mod links;
mod listing;
mod range;
mod sessions;
mod support;
mod upload;

pub(crate) use batches::resume_job;
pub(crate) use links::consume_upload_link;

/// Routes a checked v2 call (one the route table says the emulator serves) to its
/// handler.
pub(crate) async fn dispatch(shared: Arc<Shared>, mut call: Call) -> Result<Response, Refusal> {
    let rpc_limit = shared.limits.max_rpc_body_bytes;
    let spec = *call.spec;
    // Route constants are typed by their auth, so they are compared rather than matched.
    macro_rules! is {
        ($route:expr) => {
            spec == $route.spec()
        };
    }
    match () {
        _ if is!(r::UPLOAD) => upload::upload(shared, call).await,
        _ if is!(r::UPLOAD_SESSION_START) => sessions::start(shared, call).await,
        _ if is!(r::UPLOAD_SESSION_START_BATCH) => {
            let arg: f::UploadSessionStartBatchArg = call.rpc_arg(rpc_limit).await?;
            sessions::start_batch(shared, arg)
        }
        _ if is!(r::UPLOAD_SESSION_APPEND) => {
            let arg: f::UploadSessionCursor = call.header_arg()?;
            sessions::append(shared, call, arg.session_id.into(), arg.offset, false, None).await
        }
        _ if is!(r::UPLOAD_SESSION_APPEND_V2) => {
            let arg: f::UploadSessionAppendArg = call.header_arg()?;
            sessions::append(
                shared,
                call,
                arg.cursor.session_id.into(),
                arg.cursor.offset,
                arg.close,
                arg.content_hash.map(String::from),
            )
            .await
        }
        _ if is!(r::UPLOAD_SESSION_APPEND_BATCH) => sessions::append_batch(shared, call).await,
        _ if is!(r::UPLOAD_SESSION_FINISH) => sessions::finish(shared, call).await,
        _ if is!(r::UPLOAD_SESSION_FINISH_BATCH) => {
            let arg: f::UploadSessionFinishBatchArg = call.rpc_arg(rpc_limit).await?;
            batches::finish_batch_v1(shared, arg)
        }
        _ if is!(r::UPLOAD_SESSION_FINISH_BATCH_V2) => {
            let arg: f::UploadSessionFinishBatchArg = call.rpc_arg(rpc_limit).await?;
            batches::finish_batch_v2(shared, arg).await
        }
        _ if is!(r::UPLOAD_SESSION_FINISH_BATCH_CHECK) => {
            let arg: PollArg = call.rpc_arg(rpc_limit).await?;
            batches::finish_batch_check(&shared, &arg)
        }
        _ if is!(r::GET_TEMPORARY_UPLOAD_LINK) => {
            let arg: f::GetTemporaryUploadLinkArg = call.rpc_arg(rpc_limit).await?;
            links::temporary_upload_link(&shared, &arg)
        }
        _ if is!(r::GET_METADATA) => {
            let arg: f::GetMetadataArg = call.rpc_arg(rpc_limit).await?;
            entries::get_metadata(shared, arg).await
        }
        _ if is!(r::DOWNLOAD) => {
            let arg: f::DownloadArg = call.header_arg()?;
            download::download(shared, call, arg).await
        }
        _ if is!(r::DELETE_V2) => {
            let arg: f::DeleteArg = call.rpc_arg(rpc_limit).await?;
            entries::delete(shared, arg).await
        }
        _ if is!(r::CREATE_FOLDER_V2) => {
            let arg: f::CreateFolderArg = call.rpc_arg(rpc_limit).await?;
            entries::create_folder(shared, arg).await
        }
        _ if is!(r::LIST_FOLDER) => {
            let arg: f::ListFolderArg = call.rpc_arg(rpc_limit).await?;
            listing::list_folder(shared, arg).await
        }
        _ if is!(r::LIST_FOLDER_CONTINUE) => {
            let arg: f::ListFolderContinueArg = call.rpc_arg(rpc_limit).await?;
            listing::list_folder_continue(shared, arg).await
        }
        // The route table and this match list the same routes; should they ever
        // disagree, the client gets the documented answer, not a panic.
        _ => Ok(routes::not_emulated(call.spec)),
    }
}
