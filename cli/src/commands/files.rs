//! Everyday checks: `dbx ls`, `get`, `rm`, `mkdir`, and `hash` of a local file.

use std::io::Write;
use std::path::{Path, PathBuf};

use dropbox_api::UserClient;
use dropbox_api::files::{self, CreateFolderArg, DeleteArg, DownloadArg, ListFolderArg, Metadata};
use dropbox_api_runtime::BodyError;
use dropbox_upload::ContentHasher;
use serde_json::json;

use crate::failure::{CmdResult, Failure, Kind};
use crate::output::{Output, bytes};

/// A remote path as the API wants it: "" for the root, else starting with `/`.
fn api_path(p: &str) -> String {
    let t = p.trim().trim_end_matches('/');
    if t.is_empty() {
        String::new()
    } else if t.starts_with('/') || t.starts_with("id:") || t.starts_with("ns:") {
        t.to_owned()
    } else {
        format!("/{t}")
    }
}

/// Every entry of a folder, following the cursor.
pub async fn list_all(
    client: &UserClient,
    path: &str,
    recursive: bool,
) -> CmdResult<Vec<Metadata>> {
    let arg = ListFolderArg::new(api_path(path)).with_recursive(recursive);
    Ok(futures_util::TryStreamExt::try_collect(files::list_folder_stream(client, &arg)).await?)
}

/// `dbx ls`.
pub async fn ls(client: &UserClient, path: &str, recursive: bool, out: &Output) -> CmdResult {
    let mut entries = list_all(client, path, recursive).await?;
    entries.sort_by_key(|e| match e {
        Metadata::File(f) => f.path_lower.clone(),
        Metadata::Folder(f) => f.path_lower.clone(),
        Metadata::Deleted(f) => f.path_lower.clone(),
    });
    let mut json_entries = Vec::new();
    for e in &entries {
        match e {
            Metadata::File(f) => {
                let p = f.path_display.clone().unwrap_or_else(|| f.name.clone());
                out.line(format!("file    {:>12}  {p}", f.size));
                json_entries.push(json!({"type": "file", "path": p, "size": f.size, "content_hash": f.content_hash, "rev": f.rev}));
            }
            Metadata::Folder(f) => {
                let p = f.path_display.clone().unwrap_or_else(|| f.name.clone());
                out.line(format!("folder  {:>12}  {p}/", "-"));
                json_entries.push(json!({"type": "folder", "path": p}));
            }
            _ => {}
        }
    }
    out.json(json!({ "entries": json_entries }));
    Ok(())
}

/// `dbx get`: downloads, hashing as it writes, and compares with Dropbox's hash.
pub async fn get(
    client: &UserClient,
    remote: &str,
    local: Option<&Path>,
    out: &Output,
) -> CmdResult {
    let path = api_path(remote);
    let mut download = files::download(client, &DownloadArg::new(path.clone()), None).await?;
    let meta = download.result.clone();
    let to_stdout = local.is_some_and(|l| l == Path::new("-"));
    let target: PathBuf = match local {
        Some(l) if l.is_dir() => l.join(&meta.name),
        Some(l) => l.to_path_buf(),
        None => PathBuf::from(&meta.name),
    };
    let mut hasher = ContentHasher::new();
    let mut written = 0u64;
    let tmp = target.with_extension("dbx-partial");
    let mut sink: Box<dyn Write> = if to_stdout {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(
            std::fs::File::create(&tmp)
                .map_err(|e| Failure::new(Kind::Failure, format!("{}: {e}", tmp.display())))?,
        )
    };
    loop {
        let chunk = match download.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => {
                drop(sink);
                if !to_stdout {
                    let _ = std::fs::remove_file(&tmp);
                }
                return Err(interrupted(&e));
            }
        };
        hasher.update(&chunk);
        sink.write_all(&chunk)?;
        written += chunk.len() as u64;
    }
    sink.flush()?;
    drop(sink);
    let local_hash = hasher.finish().to_hex();
    if meta
        .content_hash
        .as_deref()
        .is_some_and(|h| h != local_hash)
    {
        if !to_stdout {
            let _ = std::fs::remove_file(&tmp);
        }
        return Err(Failure::new(
            Kind::Verification,
            format!("{path}: the downloaded bytes do not match Dropbox's content hash"),
        ));
    }
    if !to_stdout {
        std::fs::rename(&tmp, &target)?;
    }
    if !to_stdout {
        out.line(format!(
            "downloaded {path} to {} ({}); content hash verified: {local_hash}",
            target.display(),
            bytes(written)
        ));
    }
    out.json(json!({"remote": path, "local": if to_stdout { "-".to_owned() } else { target.display().to_string() }, "size": written, "content_hash": local_hash, "verified": true}));
    Ok(())
}

/// A download whose body broke off or stalled: transient, with the response's request id.
fn interrupted(e: &BodyError) -> Failure {
    let f = Failure::new(
        Kind::Transient,
        format!("the download was interrupted: {e}"),
    )
    .request_id(e.request_id());
    match e {
        BodyError::Idle { .. } => f.hint(crate::failure::TIMEOUT_HINT),
        _ => f,
    }
}

/// `dbx rm`.
pub async fn rm(client: &UserClient, path: &str, out: &Output) -> CmdResult {
    let res = files::delete_v2(client, &DeleteArg::new(api_path(path))).await?;
    let shown = match &res.metadata {
        Metadata::File(f) => f.path_display.clone(),
        Metadata::Folder(f) => f.path_display.clone(),
        _ => None,
    }
    .unwrap_or_else(|| api_path(path).into());
    out.line(format!("deleted {shown}"));
    out.json(json!({"deleted": shown}));
    Ok(())
}

/// `dbx mkdir`.
pub async fn mkdir(client: &UserClient, path: &str, out: &Output) -> CmdResult {
    let res = files::create_folder_v2(client, &CreateFolderArg::new(api_path(path))).await?;
    let shown = res
        .metadata
        .path_display
        .clone()
        .unwrap_or_else(|| api_path(path).into());
    out.line(format!("created {shown}/"));
    out.json(json!({"created": shown}));
    Ok(())
}

/// `dbx hash`.
pub async fn hash(file: &Path, out: &Output) -> CmdResult {
    let len = std::fs::metadata(file)
        .map_err(|e| Failure::new(Kind::Usage, format!("{}: {e}", file.display())))?
        .len();
    let p = file.to_path_buf();
    let hash = tokio::task::spawn_blocking(move || dropbox_upload::hash_file_parallel(&p, None))
        .await
        .map_err(|e| Failure::new(Kind::Failure, e.to_string()))?
        .map_err(|e| Failure::new(Kind::Failure, format!("{}: {e}", file.display())))?;
    out.line(format!("{hash}  {}", file.display()));
    out.json(
        json!({"path": file.display().to_string(), "size": len, "content_hash": hash.to_hex()}),
    );
    Ok(())
}
