//! Committing files: where and how (`add`, `overwrite`, `update`, autorename), the
//! content to commit, and the rules of a commit against the index.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::blobs::Blobs;
use super::entry::{EntryView, FileInfo};
use super::failures::{Conflict, StoreError, WriteFailure};
use super::index::{Index, Node, NodeKind};
use super::tree::{canonical, check_ancestors, display_path, ensure_parents, resolve_write_target};
use crate::paths::{self, DbxPath};

/// The first revision number (revisions are at least 9 hex digits, as Dropbox's).
const REV_BASE: u64 = 0x0150_0000_0000;

/// How a commit treats an existing file at the target path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "m", content = "rev", rename_all = "snake_case")]
pub(crate) enum Mode {
    /// Never overwrite.
    Add,
    /// Always overwrite.
    Overwrite,
    /// Overwrite only if the current rev is this one.
    Update(String),
}

/// Where and how to commit content.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CommitSpec {
    /// Target path (a path or `id:`).
    pub(crate) path: String,
    /// Write mode.
    pub(crate) mode: Mode,
    /// Pick a free name instead of failing on a conflict.
    pub(crate) autorename: bool,
    /// Conflict even when an `update` target has been deleted.
    pub(crate) strict_conflict: bool,
    /// The client's modification time (defaults to the server time).
    pub(crate) client_modified: Option<DateTime<Utc>>,
}

/// Content ready to be committed: a complete, fsynced file that the store may rename into
/// its blob directory (same file system).
#[derive(Debug, Clone)]
pub(crate) struct Content {
    /// The file holding the bytes.
    pub(crate) file: PathBuf,
    /// Its size.
    pub(crate) size: u64,
    /// Its Dropbox content hash (hex).
    pub(crate) content_hash: String,
}

/// The result of a commit.
#[derive(Debug, Clone)]
pub(crate) struct Committed {
    /// The file as stored.
    pub(crate) entry: EntryView,
    /// Whether the content was taken (renamed into the store). When false (identical
    /// content already there), the caller's file is left where it was.
    pub(crate) took_content: bool,
}

/// Commits one file into a locked index (the caller persists the index, then deletes
/// the blobs left in `garbage`).
pub(super) fn commit_one(
    blobs: &Blobs,
    index: &mut Index,
    spec: &CommitSpec,
    content: &Content,
    now: DateTime<Utc>,
    garbage: &mut Vec<String>,
) -> Result<Committed, StoreError<WriteFailure>> {
    let fail = |f| Err(StoreError::Failure(f));
    let target = match resolve_write_target(index, &spec.path) {
        Ok(t) => t,
        Err(f) => return fail(f),
    };
    if paths::is_disallowed_name(target.name()) {
        return fail(WriteFailure::DisallowedName);
    }
    if let Err(f) = check_ancestors(index, &target) {
        return fail(f);
    }
    let target = canonical(index, &target);
    let client_modified = spec.client_modified.unwrap_or(now).timestamp();
    let mut n = 0u64;
    loop {
        let cand = if n == 0 {
            target.clone()
        } else {
            target.with_name(paths::numbered(target.name(), n))
        };
        let lower = cand.lower();
        let existing = index.entries.get(&lower).cloned();
        match existing {
            None => {
                if n == 0 && spec.strict_conflict && matches!(spec.mode, Mode::Update(_)) {
                    if spec.autorename {
                        n += 1;
                        continue;
                    }
                    return fail(WriteFailure::Conflict(Conflict::File));
                }
                let id = crate::ids::file_id();
                let entry = place(blobs, index, &cand, id, content, client_modified, now)?;
                return Ok(Committed {
                    entry,
                    took_content: true,
                });
            }
            Some(Node {
                kind: NodeKind::Folder { .. },
                ..
            }) => {
                if spec.autorename {
                    n += 1;
                    continue;
                }
                return fail(WriteFailure::Conflict(Conflict::Folder));
            }
            Some(
                node @ Node {
                    kind: NodeKind::File(_),
                    ..
                },
            ) => {
                let NodeKind::File(f) = &node.kind else {
                    continue;
                };
                if n > 0 {
                    n += 1;
                    continue;
                }
                let rev_matches = match &spec.mode {
                    Mode::Update(rev) => *rev == f.rev,
                    _ => true,
                };
                if f.content_hash == content.content_hash
                    && f.size == content.size
                    && (rev_matches || !spec.strict_conflict)
                {
                    // Identical content: nothing changes.
                    return Ok(Committed {
                        entry: EntryView::of(&lower, &node),
                        took_content: false,
                    });
                }
                let replace = match &spec.mode {
                    Mode::Add => false,
                    Mode::Overwrite => true,
                    Mode::Update(_) => rev_matches,
                };
                if replace {
                    garbage.push(f.blob.clone());
                    // Overwriting keeps the existing name's casing.
                    let cand = display_path(&node.display);
                    let entry = place(
                        blobs,
                        index,
                        &cand,
                        f.id.clone(),
                        content,
                        client_modified,
                        now,
                    )?;
                    return Ok(Committed {
                        entry,
                        took_content: true,
                    });
                }
                if spec.autorename {
                    n += 1;
                    continue;
                }
                return fail(WriteFailure::Conflict(Conflict::File));
            }
        }
    }
}

/// Moves the content into a blob and records the file at `path` (parents created).
fn place(
    blobs: &Blobs,
    index: &mut Index,
    path: &DbxPath,
    id: String,
    content: &Content,
    client_modified: i64,
    now: DateTime<Utc>,
) -> Result<EntryView, StoreError<WriteFailure>> {
    let blob = blobs.take(&content.file)?;
    ensure_parents(index, path);
    index.rev_counter += 1;
    let rev = format!("{:012x}", REV_BASE + index.rev_counter);
    index.seq += 1;
    let lower = path.lower();
    let node = Node {
        display: path.display(),
        seq: index.seq,
        kind: NodeKind::File(FileInfo {
            id: id.clone(),
            rev,
            size: content.size,
            content_hash: content.content_hash.clone(),
            blob,
            client_modified,
            server_modified: now.timestamp(),
        }),
    };
    index.tombstones.remove(&lower);
    index.by_id.insert(id, lower.clone());
    let view = EntryView::of(&lower, &node);
    index.entries.insert(lower, node);
    Ok(view)
}
