//! Listing folders in pages (`files/list_folder` and `/continue`): a walk in path order
//! over a snapshot, then the changes after it.

use std::ops::Bound;

use serde::{Deserialize, Serialize};

use super::entry::EntryView;
use super::failures::LookupFailure;
use super::index::{Index, NodeKind};
use super::tree::{Resolved, resolve_read};

/// One page of a listing.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    /// Entries of the page.
    pub(crate) entries: Vec<EntryView>,
    /// Where the next page starts.
    pub(crate) next: ListPosition,
    /// Whether more entries are available right now.
    pub(crate) has_more: bool,
}

/// A position in a listing, carried in list_folder cursors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "m", rename_all = "snake_case")]
pub(crate) enum ListPosition {
    /// Walking the entries in path order after `after` (None: from the start); changes
    /// after sequence number `snapshot` are reported once the walk is over.
    Walk {
        /// Last key returned.
        after: Option<String>,
        /// Sequence number when the listing started.
        snapshot: u64,
    },
    /// Reporting changes after sequence number `since`.
    Changes {
        /// Last sequence number reported.
        since: u64,
    },
}

/// Resolves the folder to list: `Ok(lower)` (`""` for the root).
pub(super) fn list_root(index: &Index, path: &str) -> Result<String, LookupFailure> {
    match resolve_read(index, path)? {
        Resolved::Root => Ok(String::new()),
        Resolved::Node(lower) => match index.entries.get(&lower).map(|n| &n.kind) {
            Some(NodeKind::Folder { .. }) => Ok(lower),
            Some(NodeKind::File(_)) => Err(LookupFailure::NotFolder),
            None => Err(LookupFailure::NotFound),
        },
        Resolved::Missing(_) => Err(LookupFailure::NotFound),
    }
}

/// One page of a listing of the folder `root` (lowercased, `""` for the root).
pub(super) fn page(
    index: &Index,
    root: &str,
    recursive: bool,
    include_deleted: bool,
    pos: &ListPosition,
    limit: usize,
) -> Page {
    let limit = limit.max(1);
    let prefix = format!("{root}/");
    let in_scope = |key: &str| -> bool {
        match key.strip_prefix(&prefix) {
            Some(rest) => recursive || !rest.contains('/'),
            None => recursive && key == root && !root.is_empty(),
        }
    };
    match pos {
        ListPosition::Walk { after, snapshot } => {
            // The folder itself comes first in a recursive listing (not for the root).
            let mut picked: Vec<(String, EntryView)> = Vec::new();
            if after.is_none()
                && recursive
                && !root.is_empty()
                && let Some(n) = index.entries.get(root)
            {
                picked.push((root.to_string(), EntryView::of(root, n)));
            }
            // Then the keys below `root/` in path order after `after`, from entries and
            // (optionally) tombstones.
            let start = match after {
                Some(a) if a.as_str() >= prefix.as_str() => Bound::Excluded(a.clone()),
                _ => Bound::Included(prefix.clone()),
            };
            let mut live = index
                .entries
                .range::<String, _>((start.clone(), Bound::Unbounded))
                .take_while(|(k, _)| k.starts_with(&prefix))
                .filter(|(k, _)| in_scope(k))
                .map(|(k, n)| (k.clone(), EntryView::of(k, n)))
                .peekable();
            let mut dead = index
                .tombstones
                .range::<String, _>((start, Bound::Unbounded))
                .take_while(|(k, _)| k.starts_with(&prefix))
                .filter(|(k, _)| include_deleted && in_scope(k))
                .map(|(k, t)| (k.clone(), EntryView::deleted(k, t)))
                .peekable();
            let mut has_more = false;
            loop {
                let take_live = match (live.peek(), dead.peek()) {
                    (None, None) => break,
                    (Some(_), None) => true,
                    (None, Some(_)) => false,
                    (Some((a, _)), Some((b, _))) => a <= b,
                };
                if picked.len() >= limit {
                    has_more = true;
                    break;
                }
                let item = if take_live { live.next() } else { dead.next() };
                if let Some(item) = item {
                    picked.push(item);
                }
            }
            let next = if has_more {
                ListPosition::Walk {
                    after: picked.last().map(|(k, _)| k.clone()),
                    snapshot: *snapshot,
                }
            } else {
                ListPosition::Changes { since: *snapshot }
            };
            Page {
                entries: picked.into_iter().map(|(_, v)| v).collect(),
                next,
                has_more,
            }
        }
        ListPosition::Changes { since } => {
            let mut changed: Vec<(u64, EntryView)> = index
                .entries
                .iter()
                .filter(|(k, n)| n.seq > *since && in_scope(k))
                .map(|(k, n)| (n.seq, EntryView::of(k, n)))
                .chain(
                    index
                        .tombstones
                        .iter()
                        .filter(|(k, t)| t.seq > *since && in_scope(k))
                        .map(|(k, t)| (t.seq, EntryView::deleted(k, t))),
                )
                .collect();
            changed.sort_by_key(|(s, _)| *s);
            let has_more = changed.len() > limit;
            changed.truncate(limit);
            let next_since = if has_more {
                changed.last().map(|(s, _)| *s).unwrap_or(*since)
            } else {
                index.seq.max(*since)
            };
            Page {
                entries: changed.into_iter().map(|(_, v)| v).collect(),
                next: ListPosition::Changes { since: next_since },
                has_more,
            }
        }
    }
}
