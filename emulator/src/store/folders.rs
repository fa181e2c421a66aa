//! Creating folders (`files/create_folder_v2`).

use super::entry::EntryView;
use super::failures::{Conflict, WriteFailure};
use super::index::{Index, NodeKind};
use super::tree::{
    canonical, check_ancestors, ensure_parents, insert_folder, resolve_write_target,
};
use crate::paths;

/// Creates a folder (and missing parents) in a locked index; the caller persists it.
pub(super) fn create(
    index: &mut Index,
    path: &str,
    autorename: bool,
) -> Result<EntryView, WriteFailure> {
    let target = resolve_write_target(index, path)?;
    if paths::is_disallowed_name(target.name()) {
        return Err(WriteFailure::DisallowedName);
    }
    check_ancestors(index, &target)?;
    let target = canonical(index, &target);
    let mut n = 0u64;
    let cand = loop {
        let cand = if n == 0 {
            target.clone()
        } else {
            target.with_name(paths::numbered(target.name(), n))
        };
        match index.entries.get(&cand.lower()).map(|n| &n.kind) {
            None => break cand,
            Some(_) if autorename => n += 1,
            Some(NodeKind::Folder { .. }) => {
                return Err(WriteFailure::Conflict(Conflict::Folder));
            }
            Some(NodeKind::File(_)) => {
                return Err(WriteFailure::Conflict(Conflict::File));
            }
        }
    };
    ensure_parents(index, &cand);
    let view = insert_folder(index, &cand);
    Ok(view)
}
