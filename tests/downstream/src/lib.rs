//! What an application would write: a function that backs a file up to Dropbox.

use std::path::Path;

use dropbox_api::UserClient;
use dropbox_api::files::{CommitInfo, WriteMode};
use dropbox_upload::prelude::*;

/// Uploads `local` to `/backups/<name>` in chunks of 4 MiB, replacing what is there.
pub async fn back_up(
    client: &UserClient,
    local: &Path,
    name: &str,
) -> Result<UploadOutcome, UploadError> {
    let options = UploadOptions::default()
        .single_request_max(4 * MIB)
        .chunk_size(4 * MIB);
    let commit = CommitInfo::new(format!("/backups/{name}")).with_mode(WriteMode::Overwrite);
    client.upload_file(local, commit, &options).await
}
