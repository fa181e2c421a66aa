//! Small pieces the `files` handlers share: blocking store work, temporary files, and
//! the mapping of session and commit failures to refusals.

use std::path::PathBuf;

use bytes::Bytes;
use dropbox_api::files as f;
use dropbox_api::json::Json;

use crate::api::convert::file_metadata;
use crate::api::wire::{Refusal, internal};
use crate::sessions::SessionFailure;
use crate::store::{EntryView, StoreError, ViewKind};

/// A body that is known to be empty (for `finish_batch` entries).
pub(super) type NoBody = futures_util::stream::Empty<Result<Bytes, std::convert::Infallible>>;

/// Runs blocking store work off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Refusal> {
    tokio::task::spawn_blocking(f).await.map_err(internal)
}

/// Removes a temporary file when dropped, unless disarmed.
pub(super) struct TempFile(pub(super) Option<PathBuf>);

impl TempFile {
    pub(super) fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Maps a session error with a route's error union.
pub(super) fn session_err<E: Json>(
    call_route: &str,
    e: StoreError<SessionFailure>,
    map: impl Fn(&SessionFailure) -> Option<E>,
) -> Refusal {
    match e {
        StoreError::Io(e) => internal(e),
        StoreError::Failure(SessionFailure::BodyFailed(m)) => Refusal::BadRequest(format!(
            "Error in call to API function \"{call_route}\": the request body was cut short ({m})"
        )),
        StoreError::Failure(f) => match map(&f) {
            Some(e) => Refusal::route(&e),
            None => internal(format!("unexpected session failure {f:?}")),
        },
    }
}

pub(super) fn body_failed(route: &str, m: &str) -> Refusal {
    Refusal::BadRequest(format!(
        "Error in call to API function \"{route}\": the request body was cut short ({m})"
    ))
}

pub(super) fn file_result(entry: &EntryView) -> Result<f::FileMetadata, Refusal> {
    match &entry.kind {
        ViewKind::File(info) => Ok(file_metadata(entry, info)),
        _ => Err(internal("committed entry is not a file")),
    }
}
