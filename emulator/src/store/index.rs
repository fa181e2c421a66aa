//! The metadata index in memory: entries by lowercased path, deletion tombstones and
//! counters, and how it is read from `index.json`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use super::entry::{EntryView, FileInfo, ViewKind, last};

/// The version of `index.json` this code reads and writes.
const INDEX_FORMAT: u32 = 1;

/// What a live entry is.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(super) enum NodeKind {
    /// A folder with this id.
    Folder {
        /// `id:...`.
        id: String,
    },
    /// A file.
    File(FileInfo),
}

/// A live entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Node {
    /// Display path.
    pub(super) display: String,
    /// Change sequence number of its last change.
    pub(super) seq: u64,
    /// What it is.
    #[serde(flatten)]
    pub(super) kind: NodeKind,
}

/// A deleted entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Tomb {
    /// Display path it had.
    pub(super) display: String,
    /// Change sequence number of the deletion.
    pub(super) seq: u64,
}

/// The metadata index (what `index.json` holds, plus lookups rebuilt at load).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Index {
    format: u32,
    /// The last change sequence number.
    pub(super) seq: u64,
    /// The last revision number handed out.
    pub(super) rev_counter: u64,
    /// Live entries by lowercased path.
    pub(super) entries: BTreeMap<String, Node>,
    /// Deleted entries by lowercased path.
    pub(super) tombstones: BTreeMap<String, Tomb>,
    /// Lowercased path by id.
    #[serde(skip)]
    pub(super) by_id: HashMap<String, String>,
    /// Bumped by every change; what `IndexFile::persist_through` compares.
    #[serde(skip)]
    pub(super) generation: u64,
}

impl Index {
    /// Parses `index.json` (`None`: there is none yet, an empty index) and returns the
    /// index with the names of the blobs it refers to.
    pub(super) fn load(
        bytes: Option<&[u8]>,
        is_blob_name: impl Fn(&str) -> bool,
    ) -> io::Result<(Index, HashSet<String>)> {
        let mut index = match bytes {
            Some(bytes) => serde_json::from_slice::<Index>(bytes).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("corrupt index.json: {e}"),
                )
            })?,
            None => Index {
                format: INDEX_FORMAT,
                ..Index::default()
            },
        };
        if index.format != INDEX_FORMAT {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unsupported index format {}", index.format),
            ));
        }
        let mut referenced = HashSet::new();
        for (lower, node) in &index.entries {
            let id = match &node.kind {
                NodeKind::Folder { id } => id,
                NodeKind::File(f) => {
                    if !is_blob_name(&f.blob) {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "corrupt index.json: bad blob name",
                        ));
                    }
                    referenced.insert(f.blob.clone());
                    &f.id
                }
            };
            index.by_id.insert(id.clone(), lower.clone());
        }
        Ok((index, referenced))
    }

    /// Records a change; returns the generation to persist through.
    pub(super) fn changed(&mut self) -> u64 {
        self.generation += 1;
        self.generation
    }
}

/// Locks the index.
pub(super) fn lock(index: &Mutex<Index>) -> MutexGuard<'_, Index> {
    // A panic while holding the lock cannot leave the index half-updated in a way
    // that matters more than losing the server, so recover from poisoning.
    index.lock().unwrap_or_else(|p| p.into_inner())
}

impl EntryView {
    /// The view of a live entry.
    pub(super) fn of(lower: &str, node: &Node) -> EntryView {
        EntryView {
            display: node.display.clone(),
            lower: lower.to_string(),
            name: last(&node.display),
            kind: match &node.kind {
                NodeKind::Folder { id } => ViewKind::Folder { id: id.clone() },
                NodeKind::File(f) => ViewKind::File(f.clone()),
            },
        }
    }

    /// The view of a deleted entry.
    pub(super) fn deleted(lower: &str, tomb: &Tomb) -> EntryView {
        EntryView {
            display: tomb.display.clone(),
            lower: lower.to_string(),
            name: last(&tomb.display),
            kind: ViewKind::Deleted,
        }
    }
}
