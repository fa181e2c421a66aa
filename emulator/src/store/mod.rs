//! The file tree: a metadata index plus content blobs on disk.
//!
//! Layout of the data directory:
//!
//! - `index.json`: the metadata index (entries by lowercased path, deletion tombstones,
//!   counters). Rewritten atomically after every change: written to `tmp/`, fsynced,
//!   renamed over the old one, and the directory fsynced ([`index_file`]).
//! - `blobs/<32 hex>`: committed file contents, named by random ids (never by user paths).
//!   A blob is complete and fsynced before the index refers to it, so a crash leaves at
//!   worst an unreferenced blob, which is deleted at the next start ([`blobs`]).
//! - `tmp/`: files being written (single-call uploads, index updates); cleared at start.
//! - `sessions/`: upload-session spool files (see the `sessions` module).
//!
//! All methods are synchronous and may block on disk I/O; async callers run them on the
//! blocking pool.
//!
//! The modules: [`entry`] and [`failures`] (what callers see), [`index`] (the index in
//! memory) and [`index_file`] (on disk), [`blobs`], [`tree`] (path resolution and the
//! tree's rules), and one module per operation: [`commit`], [`folders`], [`delete`],
//! [`lookup`], [`listing`]. [`Store`] holds the lock and puts them together.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};

mod blobs;
mod commit;
mod delete;
mod entry;
mod failures;
mod folders;
mod fsync;
mod index;
mod index_file;
mod listing;
mod lookup;
mod tree;

#[cfg(test)]
mod tests;

pub(crate) use commit::{CommitSpec, Committed, Content, Mode};
pub(crate) use entry::{EntryView, FileInfo, ViewKind};
pub(crate) use failures::{Conflict, DeleteFailure, LookupFailure, StoreError, WriteFailure};
pub(crate) use listing::{ListPosition, Page};

use blobs::Blobs;
use index::Index;
use index_file::IndexFile;

/// The file tree of one account.
#[derive(Debug)]
pub(crate) struct Store {
    blobs: Blobs,
    tmp: PathBuf,
    durable: bool,
    index: Mutex<Index>,
    index_file: IndexFile,
}

impl Store {
    /// Opens (or creates) the store in `dir`, loading the index and removing leftovers of
    /// an earlier crash (temporary files, unreferenced blobs).
    pub(crate) fn open(dir: &Path, durable: bool) -> io::Result<Store> {
        let blobs = Blobs::create(dir.join("blobs"), durable)?;
        let tmp = dir.join("tmp");
        fs::create_dir_all(&tmp)?;
        for e in fs::read_dir(&tmp)? {
            let e = e?;
            if e.file_type()?.is_file() {
                fs::remove_file(e.path())?;
            }
        }
        let index_file = IndexFile::new(dir, &tmp, durable);
        let bytes = index_file.read()?;
        let (index, referenced) = Index::load(bytes.as_deref(), blobs::is_blob_name)?;
        blobs.remove_unreferenced(&referenced)?;
        Ok(Store {
            blobs,
            tmp,
            durable,
            index: Mutex::new(index),
            index_file,
        })
    }

    /// Makes the store refuse all writes once `fence` is raised (after a crash).
    pub(crate) fn with_fence(mut self, fence: crate::fence::Fence) -> Store {
        self.blobs.fence = fence.clone();
        self.index_file.fence = fence;
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
        index::lock(&self.index)
    }

    /// Returns once change `generation` of the index is on disk.
    fn persist_through(&self, generation: u64) -> io::Result<()> {
        self.index_file.persist_through(&self.index, generation)
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
            let r = commit::commit_one(&self.blobs, &mut index, spec, content, now, &mut garbage);
            if let Ok(c) = &r {
                changed |= c.took_content;
            }
            results.push(r);
        }
        let generation = changed.then(|| index.changed());
        drop(index);
        if let Some(generation) = generation {
            self.persist_through(generation)?;
        }
        self.blobs.remove(garbage);
        Ok(results)
    }

    /// Looks up an entry (including deleted ones when `include_deleted`).
    pub(crate) fn lookup(
        &self,
        path: &str,
        include_deleted: bool,
    ) -> Result<EntryView, LookupFailure> {
        lookup::lookup(&self.lock(), path, include_deleted)
    }

    /// Opens a file's content for reading; `rev`, when given, must be the current rev.
    pub(crate) fn open_file(
        &self,
        path: &str,
        rev: Option<&str>,
    ) -> Result<Result<(EntryView, FileInfo, File), LookupFailure>, io::Error> {
        let index = self.lock();
        let (view, info) = match lookup::file(&index, path, rev) {
            Ok(found) => found,
            Err(e) => return Ok(Err(e)),
        };
        // Opened under the lock, so a concurrent overwrite cannot delete the blob first.
        let file = self.blobs.open(&info.blob)?;
        Ok(Ok((view, info, file)))
    }

    /// Creates a folder (and missing parents).
    pub(crate) fn create_folder(
        &self,
        path: &str,
        autorename: bool,
    ) -> Result<EntryView, StoreError<WriteFailure>> {
        let mut index = self.lock();
        let view = folders::create(&mut index, path, autorename).map_err(StoreError::Failure)?;
        let generation = index.changed();
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
        let (view, garbage) =
            delete::delete(&mut index, path, parent_rev).map_err(StoreError::Failure)?;
        let generation = index.changed();
        drop(index);
        self.persist_through(generation)?;
        self.blobs.remove(garbage);
        Ok(view)
    }

    /// Resolves the folder to list: `Ok(lower)` (`""` for the root).
    pub(crate) fn list_root(&self, path: &str) -> Result<String, LookupFailure> {
        listing::list_root(&self.lock(), path)
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
        listing::page(&self.lock(), root, recursive, include_deleted, pos, limit)
    }

    /// The lowercased parent folder of a write target, for write-contention checks.
    pub(crate) fn parent_key(&self, path: &str) -> Option<String> {
        lookup::parent_key(&self.lock(), path)
    }
}
