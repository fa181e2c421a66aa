//! The tree's rules: how a path (`/a/b`, `id:...`, `rev:...`) resolves for reading and
//! for writing, no file as a folder's parent, the casing of existing ancestors, and
//! implicit parent folders.

use super::entry::EntryView;
use super::entry::last;
use super::failures::{Conflict, LookupFailure, WriteFailure};
use super::index::{Index, Node, NodeKind};
use crate::paths::{self, DbxPath, PathRef};

/// What a path resolves to for reading.
pub(super) enum Resolved {
    /// The root folder.
    Root,
    /// A live entry (its lowercased path).
    Node(String),
    /// Nothing there (the lowercased path it would have).
    Missing(String),
}

/// Resolves a path for reading.
pub(super) fn resolve_read(index: &Index, path: &str) -> Result<Resolved, LookupFailure> {
    match paths::parse(path).map_err(|m| LookupFailure::MalformedPath(m.0))? {
        PathRef::Root => Ok(Resolved::Root),
        PathRef::Path(p) => {
            let lower = p.lower();
            if index.entries.contains_key(&lower) {
                Ok(Resolved::Node(lower))
            } else {
                Ok(Resolved::Missing(lower))
            }
        }
        PathRef::Id { id, rest } => {
            let Some(base) = index.by_id.get(&id) else {
                return Err(LookupFailure::NotFound);
            };
            if rest.is_empty() {
                return Ok(Resolved::Node(base.clone()));
            }
            let lower = format!(
                "{base}{}",
                paths::lower(&DbxPath::from_components(rest).display())
            );
            if index.entries.contains_key(&lower) {
                Ok(Resolved::Node(lower))
            } else {
                Ok(Resolved::Missing(lower))
            }
        }
        PathRef::Rev(rev) => index
            .entries
            .iter()
            .find(|(_, n)| matches!(&n.kind, NodeKind::File(f) if f.rev == rev))
            .map(|(k, _)| Resolved::Node(k.clone()))
            .ok_or(LookupFailure::NotFound),
        PathRef::Namespace => Err(LookupFailure::NotFound),
    }
}

/// Resolves the target of a write (never the root).
pub(super) fn resolve_write_target(index: &Index, path: &str) -> Result<DbxPath, WriteFailure> {
    match paths::parse(path).map_err(|m| WriteFailure::MalformedPath(m.0))? {
        PathRef::Path(p) if !p.is_root() => Ok(p),
        PathRef::Id { id, rest } => {
            let Some(base) = index.by_id.get(&id) else {
                return Err(WriteFailure::MalformedPath(format!(
                    "no entry with id {id}"
                )));
            };
            let Some(node) = index.entries.get(base) else {
                return Err(WriteFailure::MalformedPath(format!(
                    "no entry with id {id}"
                )));
            };
            let base = display_path(&node.display);
            if rest.is_empty() {
                if base.is_root() {
                    return Err(WriteFailure::MalformedPath("cannot write the root".into()));
                }
                return Ok(base);
            }
            Ok(base.join(&rest))
        }
        PathRef::Root | PathRef::Path(_) => Err(WriteFailure::MalformedPath(
            "cannot write to the root folder".into(),
        )),
        PathRef::Rev(_) | PathRef::Namespace => Err(WriteFailure::MalformedPath(
            "unsupported path form for writing".into(),
        )),
    }
}

/// A display path as a [`DbxPath`].
pub(super) fn display_path(display: &str) -> DbxPath {
    DbxPath::from_components(
        display
            .split('/')
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

/// Fails when a proper ancestor of `path` is a file.
pub(super) fn check_ancestors(index: &Index, path: &DbxPath) -> Result<(), WriteFailure> {
    let comps = path.components();
    for i in 1..comps.len() {
        let anc = DbxPath::from_components(comps[..i].to_vec());
        if let Some(Node {
            kind: NodeKind::File(_),
            ..
        }) = index.entries.get(&anc.lower())
        {
            return Err(WriteFailure::Conflict(Conflict::FileAncestor));
        }
    }
    Ok(())
}

/// `path` with the casing of existing ancestors.
pub(super) fn canonical(index: &Index, path: &DbxPath) -> DbxPath {
    let comps = path.components();
    let mut out: Vec<String> = Vec::with_capacity(comps.len());
    for i in 0..comps.len() {
        let prefix = DbxPath::from_components(comps[..=i].to_vec());
        let name = if i + 1 < comps.len() {
            index
                .entries
                .get(&prefix.lower())
                .map(|n| last(&n.display))
                .unwrap_or_else(|| comps[i].clone())
        } else {
            comps[i].clone()
        };
        out.push(name);
    }
    DbxPath::from_components(out)
}

/// Creates the missing parent folders of `path`.
pub(super) fn ensure_parents(index: &mut Index, path: &DbxPath) {
    let comps = path.components();
    for i in 1..comps.len() {
        let anc = DbxPath::from_components(comps[..i].to_vec());
        if !index.entries.contains_key(&anc.lower()) {
            insert_folder(index, &anc);
        }
    }
}

/// Records a folder at `path`.
pub(super) fn insert_folder(index: &mut Index, path: &DbxPath) -> EntryView {
    let lower = path.lower();
    let id = crate::ids::file_id();
    index.seq += 1;
    let node = Node {
        display: path.display(),
        seq: index.seq,
        kind: NodeKind::Folder { id: id.clone() },
    };
    index.tombstones.remove(&lower);
    index.by_id.insert(id, lower.clone());
    let view = EntryView::of(&lower, &node);
    index.entries.insert(lower, node);
    view
}
