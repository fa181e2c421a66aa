//! The file tree: a metadata index plus content blobs on disk.
//!
//! Layout of the data directory:
//!
//! - `index.json`: the metadata index (entries by lowercased path, deletion tombstones,
//!   counters). Rewritten atomically after every change: written to `tmp/`, fsynced,
//!   renamed over the old one, and the directory fsynced.
//! - `blobs/<32 hex>`: committed file contents, named by random ids (never by user paths).
//!   A blob is complete and fsynced before the index refers to it, so a crash leaves at
//!   worst an unreferenced blob, which is deleted at the next start.
//! - `tmp/`: files being written (single-call uploads, index updates); cleared at start.
//! - `sessions/`: upload-session spool files (see the `sessions` module).
//!
//! All methods are synchronous and may block on disk I/O; async callers run them on the
//! blocking pool.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::paths::{self, DbxPath, PathRef};

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

/// Kinds of write conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Conflict {
    /// A file is in the way.
    File,
    /// A folder is in the way.
    Folder,
    /// A parent of the path is a file.
    FileAncestor,
}

/// Why a write failed (maps to `files.WriteError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WriteFailure {
    /// The path is not valid.
    MalformedPath(String),
    /// Something is in the way.
    Conflict(Conflict),
    /// The name is one Dropbox does not store.
    DisallowedName,
}

/// Why a lookup failed (maps to `files.LookupError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LookupFailure {
    /// The path is not valid.
    MalformedPath(String),
    /// Nothing there.
    NotFound,
    /// Expected a file.
    NotFile,
    /// Expected a folder.
    NotFolder,
}

/// Why a delete failed (maps to `files.DeleteError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DeleteFailure {
    /// The path could not be looked up.
    Lookup(LookupFailure),
    /// The delete conflicts (for example `parent_rev` does not match).
    Write(WriteFailure),
}

/// A store error: either a Dropbox-level failure or an I/O problem.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError<F> {
    /// A failure reported to the client as a route error.
    #[error("route failure")]
    Failure(F),
    /// A disk problem (reported as a 500).
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
}

/// The stored facts about a file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct FileInfo {
    /// `id:...`.
    pub(crate) id: String,
    /// Revision, lowercase hex, at least 9 digits.
    pub(crate) rev: String,
    /// Size in bytes.
    pub(crate) size: u64,
    /// Dropbox content hash.
    pub(crate) content_hash: String,
    /// Blob name below `blobs/`.
    pub(crate) blob: String,
    /// Client modification time (Unix seconds).
    pub(crate) client_modified: i64,
    /// Server modification time (Unix seconds).
    pub(crate) server_modified: i64,
}

impl FileInfo {
    /// Client modification time.
    pub(crate) fn client_modified(&self) -> DateTime<Utc> {
        secs(self.client_modified)
    }
    /// Server modification time.
    pub(crate) fn server_modified(&self) -> DateTime<Utc> {
        secs(self.server_modified)
    }
}

fn secs(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(s, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum NodeKind {
    Folder { id: String },
    File(FileInfo),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Node {
    display: String,
    seq: u64,
    #[serde(flatten)]
    kind: NodeKind,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Tomb {
    display: String,
    seq: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    format: u32,
    seq: u64,
    rev_counter: u64,
    entries: BTreeMap<String, Node>,
    tombstones: BTreeMap<String, Tomb>,
    #[serde(skip)]
    by_id: HashMap<String, String>,
    /// Bumped by every change; what [`Store::persist_through`] compares.
    #[serde(skip)]
    generation: u64,
}

/// What an entry looks like to the API layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntryView {
    /// Display path (`/Photos/a.jpg`).
    pub(crate) display: String,
    /// Lowercased path.
    pub(crate) lower: String,
    /// Last component of the display path.
    pub(crate) name: String,
    /// What it is.
    pub(crate) kind: ViewKind,
}

/// The kind of an [`EntryView`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ViewKind {
    /// A folder with this id.
    Folder {
        /// `id:...`.
        id: String,
    },
    /// A file.
    File(FileInfo),
    /// A deleted entry.
    Deleted,
}

impl EntryView {
    fn of(lower: &str, node: &Node) -> EntryView {
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

    fn deleted(lower: &str, tomb: &Tomb) -> EntryView {
        EntryView {
            display: tomb.display.clone(),
            lower: lower.to_string(),
            name: last(&tomb.display),
            kind: ViewKind::Deleted,
        }
    }
}

fn last(display: &str) -> String {
    display.rsplit('/').next().unwrap_or("").to_string()
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

/// The file tree of one account.
#[derive(Debug)]
pub(crate) struct Store {
    blobs: PathBuf,
    tmp: PathBuf,
    index_path: PathBuf,
    root: PathBuf,
    durable: bool,
    fence: crate::fence::Fence,
    index: Mutex<Index>,
    /// The generation of the index last written to disk (and the lock that serialises
    /// writers: one write covers every change made before it started).
    persisted: Mutex<u64>,
}

const INDEX_FORMAT: u32 = 1;
const REV_BASE: u64 = 0x0150_0000_0000;

impl Store {
    /// Opens (or creates) the store in `dir`, loading the index and removing leftovers of
    /// an earlier crash (temporary files, unreferenced blobs).
    pub(crate) fn open(dir: &Path, durable: bool) -> io::Result<Store> {
        let blobs = dir.join("blobs");
        let tmp = dir.join("tmp");
        fs::create_dir_all(&blobs)?;
        fs::create_dir_all(&tmp)?;
        for e in fs::read_dir(&tmp)? {
            let e = e?;
            if e.file_type()?.is_file() {
                fs::remove_file(e.path())?;
            }
        }
        let index_path = dir.join("index.json");
        let mut index = match fs::read(&index_path) {
            Ok(bytes) => serde_json::from_slice::<Index>(&bytes).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("corrupt index.json: {e}"),
                )
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Index {
                format: INDEX_FORMAT,
                ..Index::default()
            },
            Err(e) => return Err(e),
        };
        if index.format != INDEX_FORMAT {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unsupported index format {}", index.format),
            ));
        }
        let mut referenced = std::collections::HashSet::new();
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
        for e in fs::read_dir(&blobs)? {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            if !referenced.contains(&name) && e.file_type()?.is_file() {
                fs::remove_file(e.path())?;
            }
        }
        Ok(Store {
            blobs,
            tmp,
            index_path,
            root: dir.to_path_buf(),
            durable,
            fence: Default::default(),
            index: Mutex::new(index),
            persisted: Mutex::new(0),
        })
    }

    /// Makes the store refuse all writes once `fence` is raised (after a crash).
    pub(crate) fn with_fence(mut self, fence: crate::fence::Fence) -> Store {
        self.fence = fence;
        self
    }

    /// Whether data is fsynced before it is acknowledged.
    pub(crate) fn durable(&self) -> bool {
        self.durable
    }

    /// A fresh temporary file path.
    pub(crate) fn temp_path(&self) -> PathBuf {
        self.tmp.join(format!("{}.part", crate::ids::hex_id()))
    }

    fn lock(&self) -> MutexGuard<'_, Index> {
        // A panic while holding the lock cannot leave the index half-updated in a way
        // that matters more than losing the server, so recover from poisoning.
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The number of files and folders.
    pub(crate) fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Commits one file.
    pub(crate) fn commit(
        &self,
        spec: &CommitSpec,
        content: &Content,
        now: DateTime<Utc>,
    ) -> Result<Committed, StoreError<WriteFailure>> {
        let mut out = self.commit_many(&[(spec.clone(), content.clone())], now)?;
        out.pop()
            .unwrap_or_else(|| Err(StoreError::Io(io::Error::other("empty commit result"))))
    }

    /// Commits several files, persisting the index once. Each result says whether that
    /// file's content was taken; a failed entry leaves its content file untouched.
    pub(crate) fn commit_many(
        &self,
        items: &[(CommitSpec, Content)],
        now: DateTime<Utc>,
    ) -> Result<Vec<Result<Committed, StoreError<WriteFailure>>>, io::Error> {
        let mut index = self.lock();
        let mut results = Vec::with_capacity(items.len());
        let mut garbage = Vec::new();
        let mut changed = false;
        for (spec, content) in items {
            let r = self.commit_locked(&mut index, spec, content, now, &mut garbage);
            if let Ok(c) = &r {
                changed |= c.took_content;
            }
            results.push(r);
        }
        let generation = changed.then(|| Self::changed(&mut index));
        drop(index);
        if let Some(generation) = generation {
            self.persist_through(generation)?;
        }
        for blob in garbage {
            let _ = fs::remove_file(self.blobs.join(blob));
        }
        Ok(results)
    }

    fn commit_locked(
        &self,
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
                    let entry = self.place(index, &cand, id, content, client_modified, now)?;
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
                        let entry =
                            self.place(index, &cand, f.id.clone(), content, client_modified, now)?;
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
        &self,
        index: &mut Index,
        path: &DbxPath,
        id: String,
        content: &Content,
        client_modified: i64,
        now: DateTime<Utc>,
    ) -> Result<EntryView, StoreError<WriteFailure>> {
        let blob = crate::ids::hex_id();
        self.fence.check()?;
        fs::rename(&content.file, self.blobs.join(&blob))?;
        if self.durable {
            sync_dir(&self.blobs)?;
        }
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

    /// Writes the index atomically.
    /// Records a change to the index; returns the generation to persist through.
    fn changed(index: &mut Index) -> u64 {
        index.generation += 1;
        index.generation
    }

    /// Returns once an index containing change `generation` is on disk. Concurrent
    /// commits share writes (group commit): whoever writes takes a snapshot of every
    /// change made so far, and the others find their change already covered.
    fn persist_through(&self, generation: u64) -> io::Result<()> {
        let mut persisted = self.persisted.lock().unwrap_or_else(|p| p.into_inner());
        if *persisted >= generation {
            return Ok(());
        }
        let (bytes, snapshot) = {
            let index = self.lock();
            (
                serde_json::to_vec(&*index).map_err(io::Error::other)?,
                index.generation,
            )
        };
        self.write_index(&bytes)?;
        *persisted = snapshot;
        Ok(())
    }

    fn write_index(&self, bytes: &[u8]) -> io::Result<()> {
        self.fence.check()?;
        let tmp = self
            .tmp
            .join(format!("index-{}.json", crate::ids::hex_id()));
        {
            let mut f = File::create(&tmp)?;
            f.write_all(bytes)?;
            if self.durable {
                f.sync_all()?;
            }
        }
        fs::rename(&tmp, &self.index_path)?;
        if self.durable {
            sync_dir(&self.root)?;
        }
        Ok(())
    }

    /// Looks up an entry (including deleted ones when `include_deleted`).
    pub(crate) fn lookup(
        &self,
        path: &str,
        include_deleted: bool,
    ) -> Result<EntryView, LookupFailure> {
        let index = self.lock();
        match resolve_read(&index, path)? {
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

    /// Opens a file's content for reading; `rev`, when given, must be the current rev.
    pub(crate) fn open_file(
        &self,
        path: &str,
        rev: Option<&str>,
    ) -> Result<Result<(EntryView, FileInfo, File), LookupFailure>, io::Error> {
        let index = self.lock();
        let lower = match resolve_read(&index, path) {
            Ok(Resolved::Node(lower)) => lower,
            Ok(Resolved::Root) => return Ok(Err(LookupFailure::NotFile)),
            Ok(Resolved::Missing(_)) => return Ok(Err(LookupFailure::NotFound)),
            Err(e) => return Ok(Err(e)),
        };
        let Some(node) = index.entries.get(&lower) else {
            return Ok(Err(LookupFailure::NotFound));
        };
        let NodeKind::File(f) = &node.kind else {
            return Ok(Err(LookupFailure::NotFile));
        };
        if let Some(rev) = rev
            && rev != f.rev
        {
            return Ok(Err(LookupFailure::NotFound));
        }
        let file = File::open(self.blobs.join(&f.blob))?;
        Ok(Ok((EntryView::of(&lower, node), f.clone(), file)))
    }

    /// Creates a folder (and missing parents).
    pub(crate) fn create_folder(
        &self,
        path: &str,
        autorename: bool,
    ) -> Result<EntryView, StoreError<WriteFailure>> {
        let mut index = self.lock();
        let target = match resolve_write_target(&index, path) {
            Ok(t) => t,
            Err(f) => return Err(StoreError::Failure(f)),
        };
        if paths::is_disallowed_name(target.name()) {
            return Err(StoreError::Failure(WriteFailure::DisallowedName));
        }
        check_ancestors(&index, &target).map_err(StoreError::Failure)?;
        let target = canonical(&index, &target);
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
                    return Err(StoreError::Failure(WriteFailure::Conflict(
                        Conflict::Folder,
                    )));
                }
                Some(NodeKind::File(_)) => {
                    return Err(StoreError::Failure(WriteFailure::Conflict(Conflict::File)));
                }
            }
        };
        ensure_parents(&mut index, &cand);
        let view = insert_folder(&mut index, &cand);
        let generation = Self::changed(&mut index);
        drop(index);
        self.persist_through(generation)?;
        Ok(view)
    }

    /// Deletes a file or a folder tree.
    pub(crate) fn delete(
        &self,
        path: &str,
        parent_rev: Option<&str>,
    ) -> Result<EntryView, StoreError<DeleteFailure>> {
        let mut index = self.lock();
        let lower = match resolve_read(&index, path) {
            Ok(Resolved::Node(lower)) => lower,
            Ok(Resolved::Root) => {
                return Err(StoreError::Failure(DeleteFailure::Lookup(
                    LookupFailure::MalformedPath("cannot delete the root folder".into()),
                )));
            }
            Ok(Resolved::Missing(_)) => {
                return Err(StoreError::Failure(DeleteFailure::Lookup(
                    LookupFailure::NotFound,
                )));
            }
            Err(e) => return Err(StoreError::Failure(DeleteFailure::Lookup(e))),
        };
        let Some(node) = index.entries.get(&lower).cloned() else {
            return Err(StoreError::Failure(DeleteFailure::Lookup(
                LookupFailure::NotFound,
            )));
        };
        if let Some(parent_rev) = parent_rev {
            match &node.kind {
                NodeKind::File(f) if f.rev != parent_rev => {
                    return Err(StoreError::Failure(DeleteFailure::Write(
                        WriteFailure::Conflict(Conflict::File),
                    )));
                }
                NodeKind::Folder { .. } => {
                    return Err(StoreError::Failure(DeleteFailure::Lookup(
                        LookupFailure::NotFile,
                    )));
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
        let generation = Self::changed(&mut index);
        drop(index);
        self.persist_through(generation)?;
        for blob in garbage {
            let _ = fs::remove_file(self.blobs.join(blob));
        }
        Ok(view)
    }

    /// Resolves the folder to list: `Ok(lower)` (`""` for the root).
    pub(crate) fn list_root(&self, path: &str) -> Result<String, LookupFailure> {
        let index = self.lock();
        match resolve_read(&index, path)? {
            Resolved::Root => Ok(String::new()),
            Resolved::Node(lower) => match index.entries.get(&lower).map(|n| &n.kind) {
                Some(NodeKind::Folder { .. }) => Ok(lower),
                Some(NodeKind::File(_)) => Err(LookupFailure::NotFolder),
                None => Err(LookupFailure::NotFound),
            },
            Resolved::Missing(_) => Err(LookupFailure::NotFound),
        }
    }

    /// The current change sequence number.
    pub(crate) fn seq(&self) -> u64 {
        self.lock().seq
    }

    /// One page of a listing of the folder `root` (lowercased, `""` for the root).
    pub(crate) fn list_page(
        &self,
        root: &str,
        recursive: bool,
        include_deleted: bool,
        pos: &ListPosition,
        limit: usize,
    ) -> Page {
        let index = self.lock();
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

    /// The lowercased parent folder of a write target, for write-contention checks.
    pub(crate) fn parent_key(&self, path: &str) -> Option<String> {
        let index = self.lock();
        resolve_write_target(&index, path)
            .ok()
            .map(|p| p.parent().lower())
    }
}

fn is_blob_name(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    match OpenOptions::new().read(true).open(dir) {
        Ok(d) => d.sync_all().or(Ok(())),
        Err(_) => Ok(()),
    }
}

enum Resolved {
    Root,
    Node(String),
    Missing(String),
}

fn resolve_read(index: &Index, path: &str) -> Result<Resolved, LookupFailure> {
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

fn resolve_write_target(index: &Index, path: &str) -> Result<DbxPath, WriteFailure> {
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

fn display_path(display: &str) -> DbxPath {
    DbxPath::from_components(
        display
            .split('/')
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

/// Fails when a proper ancestor of `path` is a file.
fn check_ancestors(index: &Index, path: &DbxPath) -> Result<(), WriteFailure> {
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
fn canonical(index: &Index, path: &DbxPath) -> DbxPath {
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

fn ensure_parents(index: &mut Index, path: &DbxPath) {
    let comps = path.components();
    for i in 1..comps.len() {
        let anc = DbxPath::from_components(comps[..i].to_vec());
        if !index.entries.contains_key(&anc.lower()) {
            insert_folder(index, &anc);
        }
    }
}

fn insert_folder(index: &mut Index, path: &DbxPath) -> EntryView {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn content(store: &Store, data: &[u8]) -> Content {
        let p = store.temp_path();
        fs::write(&p, data).unwrap();
        Content {
            file: p,
            size: data.len() as u64,
            content_hash: crate::hash::hash_bytes(data),
        }
    }

    fn spec(path: &str, mode: Mode, autorename: bool) -> CommitSpec {
        CommitSpec {
            path: path.into(),
            mode,
            autorename,
            strict_conflict: false,
            client_modified: None,
        }
    }

    fn file(e: &EntryView) -> &FileInfo {
        match &e.kind {
            ViewKind::File(f) => f,
            other => panic!("not a file: {other:?}"),
        }
    }

    #[test]
    fn commit_modes_and_restart() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        let store = Store::open(dir.path(), true).unwrap();
        let a = store
            .commit(
                &spec("/Docs/A.txt", Mode::Add, false),
                &content(&store, b"one"),
                now,
            )
            .unwrap();
        assert_eq!(a.entry.display, "/Docs/A.txt");
        assert_eq!(a.entry.lower, "/docs/a.txt");
        let rev1 = file(&a.entry).rev.clone();
        assert!(rev1.len() >= 9);
        // add on an existing different file: conflict
        let r = store.commit(
            &spec("/docs/a.TXT", Mode::Add, false),
            &content(&store, b"two"),
            now,
        );
        assert!(matches!(
            r,
            Err(StoreError::Failure(WriteFailure::Conflict(Conflict::File)))
        ));
        // identical content: no-op
        let same = store
            .commit(
                &spec("/docs/a.txt", Mode::Add, false),
                &content(&store, b"one"),
                now,
            )
            .unwrap();
        assert!(!same.took_content);
        assert_eq!(file(&same.entry).rev, rev1);
        // autorename
        let r = store
            .commit(
                &spec("/docs/a.txt", Mode::Add, true),
                &content(&store, b"two"),
                now,
            )
            .unwrap();
        assert_eq!(r.entry.display, "/Docs/a (1).txt");
        // update with wrong rev
        let r = store.commit(
            &spec("/docs/a.txt", Mode::Update("0123456789".into()), false),
            &content(&store, b"three"),
            now,
        );
        assert!(matches!(
            r,
            Err(StoreError::Failure(WriteFailure::Conflict(Conflict::File)))
        ));
        // update with right rev keeps the id
        let r = store
            .commit(
                &spec("/docs/a.txt", Mode::Update(rev1.clone()), false),
                &content(&store, b"three"),
                now,
            )
            .unwrap();
        assert_eq!(file(&r.entry).id, file(&a.entry).id);
        assert_ne!(file(&r.entry).rev, rev1);
        // file ancestor
        let r = store.commit(
            &spec("/docs/a.txt/x", Mode::Add, false),
            &content(&store, b"x"),
            now,
        );
        assert!(matches!(
            r,
            Err(StoreError::Failure(WriteFailure::Conflict(
                Conflict::FileAncestor
            )))
        ));
        // folder in the way
        let r = store.commit(
            &spec("/DOCS", Mode::Overwrite, false),
            &content(&store, b"x"),
            now,
        );
        assert!(matches!(
            r,
            Err(StoreError::Failure(WriteFailure::Conflict(
                Conflict::Folder
            )))
        ));
        drop(store);
        let store = Store::open(dir.path(), true).unwrap();
        let e = store.lookup("/docs/A.TXT", false).unwrap();
        assert_eq!(file(&e).size, 5);
        let blobs = fs::read_dir(dir.path().join("blobs")).unwrap().count();
        assert_eq!(blobs, 2, "old blob removed, two files left");
        let by_id = store.lookup(&file(&e).id, false).unwrap();
        assert_eq!(by_id.display, "/Docs/A.txt");
    }

    #[test]
    fn strict_update_of_missing_file_conflicts() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), false).unwrap();
        let mut s = spec("/x.txt", Mode::Update("0123456789".into()), false);
        s.strict_conflict = true;
        let r = store.commit(&s, &content(&store, b"x"), Utc::now());
        assert!(matches!(
            r,
            Err(StoreError::Failure(WriteFailure::Conflict(Conflict::File)))
        ));
        s.strict_conflict = false;
        assert!(store.commit(&s, &content(&store, b"x"), Utc::now()).is_ok());
    }

    #[test]
    fn listing_pages_and_changes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), false).unwrap();
        let now = Utc::now();
        for p in ["/a/1", "/a/2", "/a/b/3", "/a-x", "/z"] {
            store
                .commit(
                    &spec(p, Mode::Add, false),
                    &content(&store, p.as_bytes()),
                    now,
                )
                .unwrap();
        }
        let root = store.list_root("/a").unwrap();
        let snap = store.seq();
        let p1 = store.list_page(
            &root,
            true,
            false,
            &ListPosition::Walk {
                after: None,
                snapshot: snap,
            },
            2,
        );
        let names: Vec<_> = p1.entries.iter().map(|e| e.display.clone()).collect();
        assert_eq!(names, ["/a", "/a/1"]);
        assert!(p1.has_more);
        let p2 = store.list_page(&root, true, false, &p1.next, 10);
        let names: Vec<_> = p2.entries.iter().map(|e| e.display.clone()).collect();
        assert_eq!(names, ["/a/2", "/a/b", "/a/b/3"]);
        assert!(!p2.has_more);
        store.delete("/a/b", None).unwrap();
        let p3 = store.list_page(&root, true, false, &p2.next, 10);
        let got: Vec<_> = p3
            .entries
            .iter()
            .map(|e| (e.display.clone(), e.kind == ViewKind::Deleted))
            .collect();
        assert_eq!(got, [("/a/b".into(), true), ("/a/b/3".into(), true)]);
        // non-recursive root listing
        let p = store.list_page(
            "",
            false,
            true,
            &ListPosition::Walk {
                after: None,
                snapshot: store.seq(),
            },
            100,
        );
        let names: Vec<_> = p.entries.iter().map(|e| e.display.clone()).collect();
        assert_eq!(names, ["/a", "/a-x", "/z"]);
    }

    #[test]
    fn orphans_and_temp_files_are_removed_at_open() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path(), false).unwrap());
        fs::write(dir.path().join("blobs").join("0".repeat(32)), b"orphan").unwrap();
        fs::write(dir.path().join("tmp").join("x.part"), b"half").unwrap();
        drop(Store::open(dir.path(), false).unwrap());
        assert_eq!(fs::read_dir(dir.path().join("blobs")).unwrap().count(), 0);
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }
}
