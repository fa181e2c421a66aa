//! `blobs/<32 hex>`: committed file contents, named by random ids (never by user paths).
//! A blob is complete and fsynced before the index refers to it, so a crash leaves at
//! worst an unreferenced blob, which is deleted at the next start.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use super::fsync::sync_dir;
use crate::fence::Fence;

/// The blob directory.
#[derive(Debug)]
pub(super) struct Blobs {
    dir: PathBuf,
    durable: bool,
    /// Refuses writes once raised (after a crash).
    pub(super) fence: Fence,
}

impl Blobs {
    /// The blob directory `dir` (created if missing).
    pub(super) fn create(dir: PathBuf, durable: bool) -> io::Result<Blobs> {
        fs::create_dir_all(&dir)?;
        Ok(Blobs {
            dir,
            durable,
            fence: Fence::default(),
        })
    }

    /// Deletes every blob the index does not refer to (left by a crash).
    pub(super) fn remove_unreferenced(&self, referenced: &HashSet<String>) -> io::Result<()> {
        for e in fs::read_dir(&self.dir)? {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            if !referenced.contains(&name) && e.file_type()?.is_file() {
                fs::remove_file(e.path())?;
            }
        }
        Ok(())
    }

    /// Moves a complete file into a new blob; returns the blob's name.
    pub(super) fn take(&self, file: &Path) -> io::Result<String> {
        let blob = crate::ids::hex_id();
        self.fence.check()?;
        fs::rename(file, self.dir.join(&blob))?;
        if self.durable {
            sync_dir(&self.dir)?;
        }
        Ok(blob)
    }

    /// Opens a blob for reading.
    pub(super) fn open(&self, blob: &str) -> io::Result<File> {
        File::open(self.dir.join(blob))
    }

    /// Deletes blobs no entry refers to any more (best effort: a leftover goes at the
    /// next start).
    pub(super) fn remove(&self, blobs: Vec<String>) {
        for blob in blobs {
            let _ = fs::remove_file(self.dir.join(blob));
        }
    }
}

/// Whether `s` is a blob name (32 hex digits).
pub(super) fn is_blob_name(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}
