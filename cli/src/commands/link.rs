//! `dbx link create` and `dbx link put`: temporary upload links.

use std::time::{Instant, UNIX_EPOCH};

use dropbox_api::UserClient;
use dropbox_upload::prelude::*;
use serde_json::json;

use crate::args::Mode;
use crate::commands::upload::{commit_info, remote_path};
use crate::failure::{CmdResult, Failure, Kind};
use crate::output::{Output, bytes, rate};

/// Issues a link and prints it (the one place the link is meant to be shown).
pub async fn create(
    client: &UserClient,
    remote: &str,
    duration: std::time::Duration,
    mode: Mode,
    autorename: bool,
    out: &Output,
) -> CmdResult {
    if !(60..=4 * 3600).contains(&duration.as_secs()) {
        return Err(Failure::new(
            Kind::Usage,
            "a link lasts between 60 s and 4 h (--duration 90s, 30m, 4h)",
        ));
    }
    let path = remote_path(remote, std::path::Path::new(""));
    let link = client
        .create_upload_link(commit_info(path.clone(), mode, autorename), duration)
        .await
        .map_err(Failure::from)?;
    let expires = link
        .expires_at()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs());
    out.note(format!(
        "dbx: a link to upload one file to {path}, valid {} s; anyone holding it can use it once:",
        duration.as_secs()
    ));
    if !out.json {
        // Printed even with --quiet: the link is the result.
        println!("{}", link.url().expose());
    }
    out.json(json!({
        "url": link.url().expose(),
        "path": path,
        "expires_unix": expires,
        "duration_seconds": duration.as_secs(),
    }));
    Ok(())
}

/// Uploads a file through a link; needs no credentials.
pub async fn put(
    url: &dropbox_api_runtime::Secret,
    file: &std::path::Path,
    out: &Output,
) -> CmdResult {
    let len = std::fs::metadata(file)
        .map_err(|e| Failure::new(Kind::Usage, format!("{}: {e}", file.display())))?
        .len();
    let started = Instant::now();
    let hash = TemporaryUploadLink::from_url(url.clone())
        .upload_file(file)
        .await
        .map_err(Failure::from)?;
    let elapsed = started.elapsed();
    out.line(format!(
        "uploaded {} ({}) through the link in {:.1} s ({}); content hash verified: {hash}",
        file.display(),
        bytes(len),
        elapsed.as_secs_f64(),
        rate(len, elapsed)
    ));
    out.json(json!({
        "local": file.display().to_string(),
        "size": len,
        "content_hash": hash.to_hex(),
        "verified": true,
        "seconds": elapsed.as_secs_f64(),
    }));
    Ok(())
}
