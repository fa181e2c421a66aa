//! Small durable records: the metadata of upload sessions, async `finish_batch` jobs and
//! unused temporary upload links.
//!
//! # On-disk format
//!
//! Every record is one small JSON file, replaced atomically: the new content is written to
//! `<name>.tmp` next to it (fsynced unless the emulator runs with `--no-fsync`), renamed
//! over `<name>.json`, and the directory is fsynced. A reader therefore sees either the old
//! or the new record, never a mix; a crash can at worst leave a stray `.tmp` file (deleted
//! at the next start) or, without fsync and after a power loss, a torn or empty record,
//! which recovery reports (at warn, without secrets) and drops without affecting the
//! other records.
//!
//! One file per record, rather than one append-only journal, keeps recovery trivial (no
//! replay, no compaction) and makes a damaged record cost only that record. Records are
//! rewritten only when a request is acknowledged, at most once per request, so the cost is
//! one small write (plus, with fsync, as many fsyncs as a commit of the file index).
//!
//! - `sessions/<32 hex>.json` + `sessions/<32 hex>.spool`: an upload session (see
//!   the `sessions` module); the spool file holds its data.
//! - `jobs/<job id without "dbjid:">.json`: a `finish_batch` job, running (with its entries,
//!   re-run after a restart) or complete (with its result).
//! - `links/<32 hex>.json`: an unused temporary upload link (its secret id is inside,
//!   never in a file name); deleted when the link is used.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use dropbox_api::files as f;
use serde::{Deserialize, Serialize};

pub(crate) use crate::fence::Fence;
use crate::handoffs::{Job, Link, LinkState};
use crate::store::CommitSpec;

/// The format number written into every record.
pub(crate) const FORMAT: u32 = 1;

/// fsyncs a directory (so renames and new files in it are durable).
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    match OpenOptions::new().read(true).open(dir) {
        Ok(d) => d.sync_all().or(Ok(())),
        Err(_) => Ok(()),
    }
}

/// Replaces `path` with `bytes` atomically (temp file, fsync, rename, fsync of the
/// directory; no fsync unless `durable`).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], durable: bool) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        if durable {
            f.sync_all()?;
        }
    }
    fs::rename(&tmp, path)?;
    if durable && let Some(dir) = path.parent() {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Removes a file; a missing file is fine.
pub(crate) fn remove(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// `<32 lowercase hex>`.
pub(crate) fn is_hex_name(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Unix milliseconds.
pub(crate) fn to_millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// From Unix milliseconds.
pub(crate) fn from_millis(ms: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms).single()
}

/// The records of one directory: `(stem, bytes)` of every `*.json`, after deleting
/// leftover `*.tmp` files.
fn read_records(dir: &Path) -> io::Result<Vec<(String, PathBuf, Vec<u8>)>> {
    fs::create_dir_all(dir)?;
    let mut out = Vec::new();
    for e in fs::read_dir(dir)? {
        let e = e?;
        if !e.file_type()?.is_file() {
            continue;
        }
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".json") {
            match fs::read(&path) {
                Ok(bytes) => out.push((stem.to_string(), path, bytes)),
                Err(err) => {
                    tracing::warn!(error = %err, "cannot read a record; dropping it");
                    let _ = fs::remove_file(&path);
                }
            }
        } else {
            // Temporary files of interrupted writes, and anything else.
            fs::remove_file(&path)?;
        }
    }
    Ok(out)
}

#[derive(Debug, Serialize, Deserialize)]
struct JobRecord {
    format: u32,
    id: String,
    /// Running: the entries to (re-)commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    entries: Option<Vec<f::UploadSessionFinishArg>>,
    /// Complete: the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    result: Option<f::UploadSessionFinishBatchResult>,
}

/// A job found at start.
#[derive(Debug)]
pub(crate) enum RecoveredJob {
    /// It was running: commit these entries again.
    Running(Vec<f::UploadSessionFinishArg>),
    /// It had completed.
    Done(f::UploadSessionFinishBatchResult),
}

/// The `jobs/` directory.
#[derive(Debug)]
pub(crate) struct Jobs {
    dir: PathBuf,
    durable: bool,
    fence: Fence,
}

fn job_stem(id: &str) -> Option<&str> {
    let stem = id.strip_prefix("dbjid:")?;
    (!stem.is_empty() && stem.len() <= 128 && stem.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then_some(stem)
}

impl Jobs {
    /// Opens the directory and loads its jobs (damaged records are dropped).
    pub(crate) fn open(
        dir: &Path,
        durable: bool,
        fence: Fence,
    ) -> io::Result<(Jobs, Vec<(String, RecoveredJob)>)> {
        let mut found = Vec::new();
        for (stem, path, bytes) in read_records(dir)? {
            let rec = match serde_json::from_slice::<JobRecord>(&bytes) {
                Ok(r) if r.format == FORMAT && job_stem(&r.id) == Some(stem.as_str()) => r,
                Ok(_) => {
                    tracing::warn!("job record with a wrong format or name; dropping it");
                    fs::remove_file(&path)?;
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "corrupt job record; dropping it");
                    fs::remove_file(&path)?;
                    continue;
                }
            };
            let job = match (rec.result, rec.entries) {
                (Some(r), _) => RecoveredJob::Done(r),
                (None, Some(e)) => RecoveredJob::Running(e),
                (None, None) => {
                    tracing::warn!("job record without entries or result; dropping it");
                    fs::remove_file(&path)?;
                    continue;
                }
            };
            found.push((rec.id, job));
        }
        Ok((
            Jobs {
                dir: dir.to_path_buf(),
                durable,
                fence,
            },
            found,
        ))
    }

    /// Records a job's state (entries while it runs).
    pub(crate) fn save(
        &self,
        id: &str,
        job: &Job,
        entries: &[f::UploadSessionFinishArg],
    ) -> io::Result<()> {
        self.fence.check()?;
        let Some(stem) = job_stem(id) else {
            return Err(io::Error::other("job id not usable as a file name"));
        };
        let rec = match job {
            Job::Running => JobRecord {
                format: FORMAT,
                id: id.to_string(),
                entries: Some(entries.to_vec()),
                result: None,
            },
            Job::Done(r) => JobRecord {
                format: FORMAT,
                id: id.to_string(),
                entries: None,
                result: Some(r.clone()),
            },
        };
        let bytes = serde_json::to_vec(&rec).map_err(io::Error::other)?;
        write_atomic(&self.dir.join(format!("{stem}.json")), &bytes, self.durable)
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct LinkRecord {
    format: u32,
    id: String,
    expires: i64,
    commit: CommitSpec,
}

/// The `links/` directory.
#[derive(Debug)]
pub(crate) struct Links {
    dir: PathBuf,
    durable: bool,
    fence: Fence,
}

impl Links {
    /// Opens the directory and loads the unused links (damaged records are dropped).
    pub(crate) fn open(
        dir: &Path,
        durable: bool,
        fence: Fence,
    ) -> io::Result<(Links, Vec<(String, Link)>)> {
        let mut found = Vec::new();
        for (stem, path, bytes) in read_records(dir)? {
            let parsed = serde_json::from_slice::<LinkRecord>(&bytes)
                .ok()
                .filter(|r| r.format == FORMAT && is_hex_name(&stem) && !r.id.is_empty())
                .and_then(|r| Some((from_millis(r.expires)?, r)));
            let Some((expires, rec)) = parsed else {
                // Never log the record: it holds the link's secret id.
                tracing::warn!("corrupt temporary upload link record; dropping it");
                fs::remove_file(&path)?;
                continue;
            };
            found.push((
                rec.id,
                Link {
                    commit: rec.commit,
                    expires,
                    state: LinkState::Fresh,
                    file: stem,
                },
            ));
        }
        Ok((
            Links {
                dir: dir.to_path_buf(),
                durable,
                fence,
            },
            found,
        ))
    }

    /// Records an unused link.
    pub(crate) fn save(&self, id: &str, link: &Link) -> io::Result<()> {
        self.fence.check()?;
        let rec = LinkRecord {
            format: FORMAT,
            id: id.to_string(),
            expires: to_millis(link.expires),
            commit: link.commit.clone(),
        };
        let bytes = serde_json::to_vec(&rec).map_err(io::Error::other)?;
        write_atomic(
            &self.dir.join(format!("{}.json", link.file)),
            &bytes,
            self.durable,
        )
    }

    /// Forgets a link (used or long expired).
    pub(crate) fn remove(&self, link: &Link) -> io::Result<()> {
        self.fence.check()?;
        remove(&self.dir.join(format!("{}.json", link.file)))?;
        if self.durable {
            sync_dir(&self.dir)?;
        }
        Ok(())
    }
}
