//! `index.json` on disk: read at start, rewritten atomically after every change (written
//! to `tmp/`, fsynced, renamed over the old one, the directory fsynced), with concurrent
//! changes sharing writes.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::fsync::sync_dir;
use super::index::{self, Index};
use crate::fence::Fence;

/// Where the index lives and what has been written of it.
#[derive(Debug)]
pub(super) struct IndexFile {
    path: PathBuf,
    tmp: PathBuf,
    root: PathBuf,
    durable: bool,
    /// Refuses writes once raised (after a crash).
    pub(super) fence: Fence,
    /// The generation of the index last written to disk (and the lock that serialises
    /// writers: one write covers every change made before it started).
    persisted: Mutex<u64>,
}

impl IndexFile {
    /// The index file of the data directory `root`, written through `tmp`.
    pub(super) fn new(root: &Path, tmp: &Path, durable: bool) -> IndexFile {
        IndexFile {
            path: root.join("index.json"),
            tmp: tmp.to_path_buf(),
            root: root.to_path_buf(),
            durable,
            fence: Fence::default(),
            persisted: Mutex::new(0),
        }
    }

    /// The file's bytes, `None` when there is no index yet.
    pub(super) fn read(&self) -> io::Result<Option<Vec<u8>>> {
        match fs::read(&self.path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Returns once an index containing change `generation` is on disk. Concurrent
    /// commits share writes (group commit): whoever writes takes a snapshot of every
    /// change made so far, and the others find their change already covered.
    pub(super) fn persist_through(&self, index: &Mutex<Index>, generation: u64) -> io::Result<()> {
        let mut persisted = self.persisted.lock().unwrap_or_else(|p| p.into_inner());
        if *persisted >= generation {
            return Ok(());
        }
        let (bytes, snapshot) = {
            let index = index::lock(index);
            (
                serde_json::to_vec(&*index).map_err(io::Error::other)?,
                index.generation,
            )
        };
        self.write(&bytes)?;
        *persisted = snapshot;
        Ok(())
    }

    /// Writes the index atomically.
    fn write(&self, bytes: &[u8]) -> io::Result<()> {
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
        fs::rename(&tmp, &self.path)?;
        if self.durable {
            sync_dir(&self.root)?;
        }
        Ok(())
    }
}
