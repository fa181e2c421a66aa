//! Reading single entries: metadata lookups, the file a download reads, and the parent
//! folder of a write target.

use super::entry::{EntryView, FileInfo};
use super::failures::LookupFailure;
use super::index::{Index, NodeKind};
use super::tree::{Resolved, resolve_read, resolve_write_target};

/// Looks up an entry (including deleted ones when `include_deleted`).
pub(super) fn lookup(
    index: &Index,
    path: &str,
    include_deleted: bool,
) -> Result<EntryView, LookupFailure> {
    match resolve_read(index, path)? {
        Resolved::Node(lower) => index
            .entries
            .get(&lower)
            .map(|n| EntryView::of(&lower, n))
            .ok_or(LookupFailure::NotFound),
        Resolved::Root => Err(LookupFailure::MalformedPath(
            "the root folder has no metadata".into(),
        )),
        Resolved::Missing(lower) => match index.tombstones.get(&lower) {
            Some(t) if include_deleted => Ok(EntryView::deleted(&lower, t)),
            _ => Err(LookupFailure::NotFound),
        },
    }
}

/// The file at `path`; `rev`, when given, must be the current rev.
pub(super) fn file(
    index: &Index,
    path: &str,
    rev: Option<&str>,
) -> Result<(EntryView, FileInfo), LookupFailure> {
    let lower = match resolve_read(index, path) {
        Ok(Resolved::Node(lower)) => lower,
        Ok(Resolved::Root) => return Err(LookupFailure::NotFile),
        Ok(Resolved::Missing(_)) => return Err(LookupFailure::NotFound),
        Err(e) => return Err(e),
    };
    let Some(node) = index.entries.get(&lower) else {
        return Err(LookupFailure::NotFound);
    };
    let NodeKind::File(f) = &node.kind else {
        return Err(LookupFailure::NotFile);
    };
    if let Some(rev) = rev
        && rev != f.rev
    {
        return Err(LookupFailure::NotFound);
    }
    Ok((EntryView::of(&lower, node), f.clone()))
}

/// The lowercased parent folder of a write target, for write-contention checks.
pub(super) fn parent_key(index: &Index, path: &str) -> Option<String> {
    resolve_write_target(index, path)
        .ok()
        .map(|p| p.parent().lower())
}
