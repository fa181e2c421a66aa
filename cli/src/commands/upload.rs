//! `dbx upload`: one file through the toolkit's single-file upload (resumable), or a
//! directory as one batch.

use std::path::{Path, PathBuf};
use std::time::Instant;

use dropbox_api::UserClient;
use dropbox_api::files::{CommitInfo, WriteMode};
use dropbox_upload::BatchOptions;
use dropbox_upload::prelude::*;
use serde_json::json;

use crate::args::{Mode, Session, UploadArgs};
use crate::failure::{CmdResult, Failure, Kind};
use crate::output::{Output, bytes, rate};

/// The remote path for `local` given the user's `remote` (a trailing `/` means "inside").
pub fn remote_path(remote: &str, local: &Path) -> String {
    let mut r = remote.trim().to_owned();
    if !r.starts_with('/') {
        r.insert(0, '/');
    }
    if r.ends_with('/') {
        let name = local
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        r.push_str(&name);
    }
    r
}

/// A commit for a path with the user's conflict options.
pub fn commit_info(path: String, mode: Mode, autorename: bool) -> CommitInfo {
    let mode = match mode {
        Mode::Add => WriteMode::Add,
        Mode::Overwrite => WriteMode::Overwrite,
    };
    CommitInfo::new(path)
        .with_mode(mode)
        .with_autorename(autorename)
}

/// Where upload states are kept.
fn state_dir(args: &UploadArgs) -> PathBuf {
    if let Some(d) = &args.state_dir {
        return d.clone();
    }
    match std::env::var_os("XDG_STATE_HOME") {
        Some(d) if !d.is_empty() => PathBuf::from(d).join("dbx"),
        _ => match std::env::var_os("HOME") {
            Some(h) => PathBuf::from(h).join(".local/state/dbx"),
            None => std::env::temp_dir().join("dbx-state"),
        },
    }
}

/// The state file of an upload of `local` to `remote`.
fn state_file(args: &UploadArgs, local: &Path, remote: &str) -> StateFile {
    let abs = std::fs::canonicalize(local).unwrap_or_else(|_| local.to_path_buf());
    let key = format!("{}\0{}", abs.display(), remote.to_lowercase());
    let hash = dropbox_upload::content_hash(key.as_bytes()).to_hex();
    StateFile::new(state_dir(args).join(format!("upload-{}.json", &hash[..24])))
}

fn options(args: &UploadArgs) -> UploadOptions {
    UploadOptions::default()
        .chunk_size(args.chunk_size)
        .concurrency(args.concurrency)
        .session_type(match args.session {
            Session::Sequential => SessionType::Sequential,
            Session::Concurrent => SessionType::Concurrent,
        })
}

/// Runs `dbx upload`.
pub async fn run(client: &UserClient, args: &UploadArgs, out: &Output) -> CmdResult {
    let meta = std::fs::metadata(&args.local)
        .map_err(|e| Failure::new(Kind::Usage, format!("{}: {e}", args.local.display())))?;
    options(args).validate().map_err(Failure::from)?;
    if meta.is_dir() {
        if args.resume {
            return Err(Failure::new(
                Kind::Usage,
                "--resume applies to a file; a directory batch is simply uploaded again",
            ));
        }
        upload_dir(client, args, out).await
    } else {
        upload_one(client, args, out).await
    }
}

async fn upload_one(client: &UserClient, args: &UploadArgs, out: &Output) -> CmdResult {
    let remote = remote_path(&args.remote, &args.local);
    let state = state_file(args, &args.local, &remote);
    let view = out.progress(&remote, 1);
    let options = options(args)
        .progress(view.reporter())
        .state_sink(state.sink());
    let started = Instant::now();
    let result = if args.resume {
        let saved = state.load().map_err(|e| {
            Failure::new(
                Kind::Failure,
                format!("reading {}: {e}", state.path().display()),
            )
        })?;
        let Some(saved) = saved else {
            return Err(Failure::new(
                Kind::Usage,
                format!(
                    "there is no interrupted upload of {} to {remote} to resume",
                    args.local.display()
                ),
            )
            .hint("run the same command without --resume"));
        };
        out.note(format!(
            "dbx: resuming: {} of {} already uploaded",
            bytes(saved.acked_bytes()),
            bytes(saved.total)
        ));
        client.resume_upload(saved, &options).await
    } else {
        if state.path().exists() {
            out.note("dbx: an earlier upload of this file was interrupted; starting over (use --resume to continue it)");
        }
        let commit = commit_info(remote.clone(), args.mode, args.autorename);
        client.upload_file(&args.local, commit, &options).await
    };
    view.finish();
    let done = match result {
        Ok(done) => done,
        Err(e) => {
            let failure = Failure::from(e);
            let resumable = state.load().ok().flatten().is_some();
            return Err(if resumable && failure.kind == Kind::Transient {
                failure.hint(format!(
                    "continue where it stopped: dbx upload --resume {} {}",
                    args.local.display(),
                    args.remote
                ))
            } else {
                failure
            });
        }
    };
    let _ = state.remove();
    let elapsed = started.elapsed();
    let shown = done
        .metadata
        .path_display
        .clone()
        .unwrap_or_else(|| remote.as_str().into());
    out.line(format!(
        "uploaded {} to {shown} ({}) in {:.1} s ({}); content hash verified: {}",
        args.local.display(),
        bytes(done.bytes),
        elapsed.as_secs_f64(),
        rate(done.bytes, elapsed),
        done.content_hash
    ));
    out.json(json!({
        "uploaded": [{
            "local": args.local.display().to_string(),
            "remote": shown,
            "size": done.bytes,
            "content_hash": done.content_hash.to_hex(),
            "rev": done.metadata.rev,
        }],
        "failed": [],
        "verified": true,
        "seconds": elapsed.as_secs_f64(),
    }));
    Ok(())
}

/// Files under `dir`, sorted, with their paths relative to it.
fn walk(dir: &Path) -> std::io::Result<Vec<(PathBuf, String)>> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((d, rel)) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&d)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            let path = e.path();
            let child = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let meta = std::fs::metadata(&path)?;
            if meta.is_dir() {
                stack.push((path, child));
            } else if meta.is_file() {
                out.push((path, child));
            }
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

async fn upload_dir(client: &UserClient, args: &UploadArgs, out: &Output) -> CmdResult {
    let files = walk(&args.local).map_err(|e| {
        Failure::new(
            Kind::Failure,
            format!("reading {}: {e}", args.local.display()),
        )
    })?;
    let base = {
        let mut r = args.remote.trim().trim_end_matches('/').to_owned();
        if !r.starts_with('/') {
            r.insert(0, '/');
        }
        r
    };
    if files.is_empty() {
        out.line(format!(
            "{} has no files; nothing to upload",
            args.local.display()
        ));
        out.json(json!({"uploaded": [], "failed": [], "verified": true, "seconds": 0.0}));
        return Ok(());
    }
    let items: Vec<BatchItem> = files
        .iter()
        .map(|(path, rel)| {
            let remote = if base == "/" {
                format!("/{rel}")
            } else {
                format!("{base}/{rel}")
            };
            BatchItem::file(path, commit_info(remote, args.mode, args.autorename))
        })
        .collect();
    let view = out.progress(&base, items.len() as u64);
    let batch = BatchOptions {
        upload: options(args).progress(view.reporter()),
        ..BatchOptions::default()
    };
    let started = Instant::now();
    let report = client.upload_batch(items, &batch).await;
    view.finish();
    let report = report.map_err(Failure::from)?;
    let elapsed = started.elapsed();
    let mut uploaded = Vec::new();
    let mut failed = Vec::new();
    let mut total = 0u64;
    let mut worst: Option<Kind> = None;
    let mut conflicts = 0usize;
    for ((local, rel), result) in files.iter().zip(&report.results) {
        match result {
            Ok(meta) => {
                total += meta.size;
                uploaded.push(json!({
                    "local": local.display().to_string(),
                    "remote": meta.path_display,
                    "size": meta.size,
                    "content_hash": meta.content_hash,
                    "rev": meta.rev,
                }));
            }
            Err(e) => {
                let kind = crate::failure::upload_kind(e);
                if e.to_string().contains("conflict") {
                    conflicts += 1;
                }
                worst = Some(match worst {
                    Some(Kind::Transient) | None => kind,
                    Some(k) => k,
                });
                if !out.quiet {
                    eprintln!("dbx: failed: {rel}: {e}");
                }
                failed.push(json!({"local": local.display().to_string(), "error": e.to_string(), "kind": kind.name()}));
            }
        }
    }
    out.line(format!(
        "uploaded {} of {} files ({}) from {} to {base} in {:.1} s ({}), {} commit call{}; content hashes verified",
        uploaded.len(),
        files.len(),
        bytes(total),
        args.local.display(),
        elapsed.as_secs_f64(),
        rate(total, elapsed),
        report.commit_calls,
        if report.commit_calls == 1 { "" } else { "s" },
    ));
    let n_failed = failed.len();
    out.json(json!({
        "uploaded": uploaded,
        "failed": failed,
        "verified": true,
        "commit_calls": report.commit_calls,
        "seconds": elapsed.as_secs_f64(),
    }));
    match worst {
        None => Ok(()),
        Some(kind) => {
            let mut f = Failure::new(
                kind,
                format!("{n_failed} of {} files were not uploaded", files.len()),
            );
            if conflicts > 0 {
                f = f.hint(format!(
                    "{conflicts} already existed with other contents: use --mode overwrite or --autorename"
                ));
            }
            f.reported_in_json = true;
            Err(f)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_paths() {
        let f = Path::new("/tmp/a b.txt");
        assert_eq!(remote_path("/x/", f), "/x/a b.txt");
        assert_eq!(remote_path("x/y.txt", f), "/x/y.txt");
        assert_eq!(remote_path("/", f), "/a b.txt");
    }
}
