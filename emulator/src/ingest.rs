//! Streaming a request body to disk.
//!
//! The async side pulls chunks from the connection and counts them (stopping as soon as a
//! limit is passed); a blocking thread writes them with positional writes and hashes them.
//! The two run in parallel with a small bounded queue between them, so memory stays at a
//! few megabytes whatever the upload size, and there is no per-chunk `tokio::fs` round trip.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc;

use crate::hash::BlockHasher;

/// Hash state carried through an ingest.
#[derive(Debug, Default, Clone)]
pub(crate) struct Hashers {
    /// A running hash continued by this data (sequential sessions, single uploads).
    pub(crate) running: Option<BlockHasher>,
    /// A fresh hash of just this request's bytes (content_hash checks, concurrent blocks).
    pub(crate) request: Option<BlockHasher>,
}

impl Hashers {
    fn update(&mut self, data: &[u8]) {
        if let Some(h) = &mut self.running {
            h.update(data);
        }
        if let Some(h) = &mut self.request {
            h.update(data);
        }
    }
}

/// Why an ingest stopped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum IngestError {
    /// More than `limit` bytes arrived; reading stopped there.
    #[error("body larger than the limit")]
    OverLimit,
    /// The client's body failed (connection dropped, truncated body, reset).
    #[error("request body failed: {0}")]
    Body(String),
    /// Writing failed.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
}

/// The result of a successful ingest.
#[derive(Debug)]
pub(crate) struct Ingested {
    /// Bytes written.
    pub(crate) len: u64,
    /// The hashers after the data.
    pub(crate) hashers: Hashers,
}

const QUEUE: usize = 32;

/// Writes the stream to `file` starting at `offset`, accepting at most `limit` bytes.
/// Once `fence` is raised (the emulator crashed) nothing more is written.
pub(crate) async fn ingest<S, E>(
    mut body: S,
    file: Arc<File>,
    offset: u64,
    limit: u64,
    hashers: Hashers,
    fence: Option<crate::persist::Fence>,
) -> Result<Ingested, IngestError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let (tx, mut rx) = mpsc::channel::<Bytes>(QUEUE);
    let writer = tokio::task::spawn_blocking(move || -> io::Result<Hashers> {
        let mut hashers = hashers;
        let mut pos = offset;
        while let Some(chunk) = rx.blocking_recv() {
            if let Some(f) = &fence {
                f.check()?;
            }
            file.write_all_at(&chunk, pos)?;
            pos += chunk.len() as u64;
            hashers.update(&chunk);
        }
        Ok(hashers)
    });
    let mut total: u64 = 0;
    let mut failure: Option<IngestError> = None;
    while let Some(item) = body.next().await {
        match item {
            Ok(chunk) => {
                if chunk.is_empty() {
                    continue;
                }
                total += chunk.len() as u64;
                if total > limit {
                    failure = Some(IngestError::OverLimit);
                    break;
                }
                if tx.send(chunk).await.is_err() {
                    // The writer stopped; its error is reported below.
                    break;
                }
            }
            Err(e) => {
                failure = Some(IngestError::Body(e.to_string()));
                break;
            }
        }
    }
    drop(tx);
    let written = writer
        .await
        .map_err(|e| IngestError::Io(io::Error::other(e.to_string())))?;
    let hashers = written?;
    if let Some(f) = failure {
        return Err(f);
    }
    Ok(Ingested {
        len: total,
        hashers,
    })
}

/// Reads and discards a body, up to `limit` bytes; returns how many bytes there were.
pub(crate) async fn drain<S, E>(mut body: S, limit: u64) -> Result<u64, IngestError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut total = 0u64;
    while let Some(item) = body.next().await {
        let chunk = item.map_err(|e| IngestError::Body(e.to_string()))?;
        total += chunk.len() as u64;
        if total > limit {
            return Err(IngestError::OverLimit);
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(
        parts: Vec<Result<&'static [u8], &'static str>>,
    ) -> impl Stream<Item = Result<Bytes, String>> + Unpin {
        futures_util::stream::iter(
            parts
                .into_iter()
                .map(|p| p.map(Bytes::from_static).map_err(str::to_string)),
        )
    }

    #[tokio::test]
    async fn writes_at_offset_and_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let file = Arc::new(File::create_new(&path).unwrap());
        let h = Hashers {
            running: Some(BlockHasher::default()),
            request: Some(BlockHasher::default()),
        };
        let got = ingest(
            chunks(vec![Ok(b"hello "), Ok(b"world")]),
            file.clone(),
            3,
            100,
            h,
            None,
        )
        .await
        .unwrap();
        assert_eq!(got.len, 11);
        assert_eq!(std::fs::read(&path).unwrap(), b"\0\0\0hello world");
        assert_eq!(
            crate::hash::finish_hex(got.hashers.request.unwrap()),
            crate::hash::hash_bytes(b"hello world")
        );
    }

    #[tokio::test]
    async fn stops_past_limit_and_reports_body_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = Arc::new(File::create_new(dir.path().join("f")).unwrap());
        let r = ingest(
            chunks(vec![Ok(b"12345"), Ok(b"6")]),
            file.clone(),
            0,
            5,
            Hashers::default(),
            None,
        )
        .await;
        assert!(matches!(r, Err(IngestError::OverLimit)));
        let r = ingest(
            chunks(vec![Ok(b"12"), Err("reset")]),
            file,
            0,
            5,
            Hashers::default(),
            None,
        )
        .await;
        assert!(matches!(r, Err(IngestError::Body(m)) if m == "reset"));
    }
}
