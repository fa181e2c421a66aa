//! Deleting files and folder trees (`files/delete_v2`): entries become tombstones, so
//! listings with `include_deleted` and change feeds report them.

use std::ops::Bound;

use super::entry::EntryView;
use super::failures::{Conflict, DeleteFailure, LookupFailure, WriteFailure};
use super::index::{Index, NodeKind, Tomb};
use super::tree::{Resolved, resolve_read};

/// Deletes a file or a folder tree from a locked index; returns the deleted entry and
/// the blobs to delete once the index is persisted.
pub(super) fn delete(
    index: &mut Index,
    path: &str,
    parent_rev: Option<&str>,
) -> Result<(EntryView, Vec<String>), DeleteFailure> {
    let lower = match resolve_read(index, path) {
        Ok(Resolved::Node(lower)) => lower,
        Ok(Resolved::Root) => {
            return Err(DeleteFailure::Lookup(LookupFailure::MalformedPath(
                "cannot delete the root folder".into(),
            )));
        }
        Ok(Resolved::Missing(_)) => {
            return Err(DeleteFailure::Lookup(LookupFailure::NotFound));
        }
        Err(e) => return Err(DeleteFailure::Lookup(e)),
    };
    let Some(node) = index.entries.get(&lower).cloned() else {
        return Err(DeleteFailure::Lookup(LookupFailure::NotFound));
    };
    if let Some(parent_rev) = parent_rev {
        match &node.kind {
            NodeKind::File(f) if f.rev != parent_rev => {
                return Err(DeleteFailure::Write(WriteFailure::Conflict(Conflict::File)));
            }
            NodeKind::Folder { .. } => {
                return Err(DeleteFailure::Lookup(LookupFailure::NotFile));
            }
            _ => {}
        }
    }
    let view = EntryView::of(&lower, &node);
    let prefix = format!("{lower}/");
    let mut doomed: Vec<String> = vec![lower.clone()];
    doomed.extend(
        index
            .entries
            .range::<String, _>((Bound::Excluded(&lower), Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone()),
    );
    let mut garbage = Vec::new();
    for key in doomed {
        if let Some(n) = index.entries.remove(&key) {
            let id = match &n.kind {
                NodeKind::Folder { id } => id.clone(),
                NodeKind::File(f) => {
                    garbage.push(f.blob.clone());
                    f.id.clone()
                }
            };
            index.by_id.remove(&id);
            index.seq += 1;
            let seq = index.seq;
            index.tombstones.insert(
                key,
                Tomb {
                    display: n.display,
                    seq,
                },
            );
        }
    }
    Ok((view, garbage))
}
