//! Resuming across restarts: the state of an upload, saved after every acknowledged chunk,
//! and the identity of its source so that a changed file is refused.

use std::io;
use std::path::{Path, PathBuf};

use dropbox_api::files::CommitInfo;
use dropbox_content_hash::ContentHash;

pub use crate::source::SourceIdentity;

/// How a session receives its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum SessionType {
    /// One append at a time, in order.
    #[default]
    Sequential,
    /// Appends in parallel at their offsets (multiples of 4 MiB), the short tail last.
    Concurrent,
}

/// Everything needed to continue an upload later.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UploadState {
    /// Format version of this record.
    pub version: u32,
    /// The local file.
    pub path: PathBuf,
    /// The upload session.
    pub session_id: String,
    /// Its type.
    pub session_type: SessionType,
    /// Bytes per chunk.
    pub chunk_size: u64,
    /// Total size.
    pub total: u64,
    /// Byte ranges the server has acknowledged, `[start, end)`, sorted and merged.
    pub acked: Vec<(u64, u64)>,
    /// Where the file goes.
    pub commit: CommitInfo,
    /// The source as it was when the upload started.
    pub source: SourceIdentity,
}

impl UploadState {
    /// Bytes acknowledged.
    pub fn acked_bytes(&self) -> u64 {
        self.acked.iter().map(|(a, b)| b - a).sum()
    }

    /// For a sequential session: the contiguous prefix the server holds.
    pub fn acked_prefix(&self) -> u64 {
        match self.acked.first() {
            Some((0, end)) => *end,
            _ => 0,
        }
    }

    /// Whether `[start, end)` is acknowledged.
    pub fn covers(&self, start: u64, end: u64) -> bool {
        self.acked.iter().any(|(a, b)| *a <= start && end <= *b)
    }

    /// Records `[start, end)` as acknowledged.
    pub fn ack(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        self.acked.push((start, end));
        self.acked.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(self.acked.len());
        for (a, b) in self.acked.drain(..) {
            match merged.last_mut() {
                Some((_, e)) if a <= *e => *e = (*e).max(b),
                _ => merged.push((a, b)),
            }
        }
        self.acked = merged;
    }
}

/// Saves and loads [`UploadState`] as JSON in a file, replacing it atomically.
#[derive(Debug, Clone)]
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    /// A state file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        StateFile { path: path.into() }
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the state (to a temporary file, then renamed over the old one).
    pub fn save(&self, state: &UploadState) -> io::Result<()> {
        let json = serde_json::to_vec_pretty(state).map_err(io::Error::other)?;
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, json)?;
        std::fs::rename(&tmp, &self.path)
    }

    /// Reads the state, if the file exists.
    pub fn load(&self) -> io::Result<Option<UploadState>> {
        match std::fs::read(&self.path) {
            Ok(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(io::Error::other),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Deletes the state (after a successful upload).
    pub fn remove(&self) -> io::Result<()> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// A sink for [`UploadOptions::state_sink`](crate::UploadOptions::state_sink).
    pub fn sink(&self) -> impl Fn(&UploadState) -> Result<(), String> + Send + Sync + 'static {
        let me = self.clone();
        move |s| me.save(s).map_err(|e| e.to_string())
    }
}

/// Combines block digests (one per 4 MiB block, in order) into the file's hash.
pub(crate) fn file_hash(blocks: &[[u8; 32]]) -> ContentHash {
    ContentHash::from_block_digests(blocks.iter())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_merge() {
        let mut s = UploadState {
            version: 1,
            path: "x".into(),
            session_id: "s".into(),
            session_type: SessionType::Concurrent,
            chunk_size: 4,
            total: 20,
            acked: vec![],
            commit: CommitInfo::new("/x"),
            source: SourceIdentity {
                len: 20,
                modified_ns: 0,
                first_block: String::new(),
            },
        };
        s.ack(8, 12);
        s.ack(0, 4);
        s.ack(4, 8);
        s.ack(16, 20);
        assert_eq!(s.acked, vec![(0, 12), (16, 20)]);
        assert!(s.covers(4, 12) && !s.covers(12, 16));
        assert_eq!(s.acked_prefix(), 12);
        assert_eq!(s.acked_bytes(), 16);
    }
}
