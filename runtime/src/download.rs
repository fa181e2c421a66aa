//! Download results: the decoded `Dropbox-API-Result` plus the body as a stream.

use std::fmt;

use bytes::Bytes;
use std::time::{Duration, Instant};

use futures_util::Stream;

use crate::stall::{Checkpoint, IdleRule};

/// A byte range for the `Range` header of a download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// From this offset to the end (`bytes=a-`).
    From(u64),
    /// From `start` to `end`, both included (`bytes=a-b`).
    Inclusive {
        /// First byte.
        start: u64,
        /// Last byte (included).
        end: u64,
    },
    /// The last `n` bytes (`bytes=-n`).
    Last(u64),
}

impl ByteRange {
    /// The `Range` header value.
    pub fn header_value(&self) -> String {
        match self {
            ByteRange::From(a) => format!("bytes={a}-"),
            ByteRange::Inclusive { start, end } => format!("bytes={start}-{end}"),
            ByteRange::Last(n) => format!("bytes=-{n}"),
        }
    }
}

/// Why reading a download's body failed. Both kinds are transient: the download can be
/// resumed from the bytes received with a [`ByteRange::From`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// The body stalled: too few bytes arrived within the idle timeout.
    #[error("idle timeout: the download stalled (no data for {:.1} s){}", after.as_secs_f64(), id_suffix(request_id))]
    Idle {
        /// How long the wait was.
        after: Duration,
        /// The response's request id.
        request_id: Option<String>,
    },
    /// The connection failed while the body was read.
    #[error("the download broke off: {source}{}", id_suffix(request_id))]
    Transport {
        /// The HTTP client's error (without the URL).
        source: reqwest::Error,
        /// The response's request id.
        request_id: Option<String>,
    },
}

fn id_suffix(id: &Option<String>) -> String {
    id.as_deref()
        .map(|id| format!(" (request id {id})"))
        .unwrap_or_default()
}

impl BodyError {
    /// The response's `X-Dropbox-Request-Id`.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            BodyError::Idle { request_id, .. } | BodyError::Transport { request_id, .. } => {
                request_id.as_deref()
            }
        }
    }
}

impl From<BodyError> for std::io::Error {
    fn from(e: BodyError) -> Self {
        let kind = match e {
            BodyError::Idle { .. } => std::io::ErrorKind::TimedOut,
            BodyError::Transport { .. } => std::io::ErrorKind::ConnectionAborted,
        };
        std::io::Error::new(kind, e)
    }
}

/// The result of a download route: its metadata and the content, read as a stream under
/// the idle timeout (only the time spent waiting for the server counts, not the time the
/// caller takes between chunks).
pub struct Download<R> {
    /// The result decoded from `Dropbox-API-Result`.
    pub result: R,
    /// The content length, when the server sent one.
    pub content_length: Option<u64>,
    /// The HTTP status (200, or 206 for a range).
    pub status: u16,
    /// Dropbox's `X-Dropbox-Request-Id` of the response.
    pub request_id: Option<String>,
    response: reqwest::Response,
    idle: Option<IdleRule>,
    checkpoint: Checkpoint,
}

impl<R: fmt::Debug> fmt::Debug for Download<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Download")
            .field("result", &self.result)
            .field("content_length", &self.content_length)
            .field("status", &self.status)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

impl<R> Download<R> {
    pub(crate) fn new(
        result: R,
        response: reqwest::Response,
        request_id: Option<String>,
        idle: Option<IdleRule>,
    ) -> Self {
        Download {
            result,
            content_length: response.content_length(),
            status: response.status().as_u16(),
            request_id,
            response,
            idle,
            checkpoint: Checkpoint::new(),
        }
    }

    /// The next chunk of the body, or `None` at the end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, BodyError> {
        let Some(rule) = self.idle else {
            return self
                .response
                .chunk()
                .await
                .map_err(|e| BodyError::Transport {
                    source: e.without_url(),
                    request_id: self.request_id.clone(),
                });
        };
        loop {
            let started = Instant::now();
            let wait = self.checkpoint.remaining(rule);
            match tokio::time::timeout(wait, self.response.chunk()).await {
                Ok(Ok(Some(chunk))) => {
                    let _ = self
                        .checkpoint
                        .observe(rule, started.elapsed(), chunk.len() as u64);
                    return Ok(Some(chunk));
                }
                Ok(Ok(None)) => return Ok(None),
                Ok(Err(e)) => {
                    return Err(BodyError::Transport {
                        source: e.without_url(),
                        request_id: self.request_id.clone(),
                    });
                }
                Err(_) => {
                    if let Some(after) = self.checkpoint.observe(rule, started.elapsed(), 0) {
                        return Err(BodyError::Idle {
                            after,
                            request_id: self.request_id.clone(),
                        });
                    }
                }
            }
        }
    }

    /// Reads the whole body into memory.
    pub async fn bytes(mut self) -> Result<Bytes, BodyError> {
        let mut out = bytes::BytesMut::new();
        while let Some(chunk) = self.chunk().await? {
            out.extend_from_slice(&chunk);
        }
        Ok(out.freeze())
    }

    /// The body as a stream of chunks.
    pub fn into_stream(self) -> impl Stream<Item = Result<Bytes, BodyError>> + Send
    where
        R: Send,
    {
        futures_util::stream::unfold(self, |mut d| async move {
            match d.chunk().await {
                Ok(Some(c)) => Some((Ok(c), d)),
                Ok(None) => None,
                Err(e) => Some((Err(e), d)),
            }
        })
    }

    /// Copies the body into a writer, returning the number of bytes written.
    pub async fn copy_to<W>(mut self, writer: &mut W) -> std::io::Result<u64>
    where
        W: tokio::io::AsyncWrite + Unpin,
    {
        use tokio::io::AsyncWriteExt as _;
        let mut n = 0u64;
        while let Some(chunk) = self.chunk().await? {
            writer.write_all(&chunk).await?;
            n += chunk.len() as u64;
        }
        writer.flush().await?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_headers() {
        assert_eq!(ByteRange::From(10).header_value(), "bytes=10-");
        assert_eq!(
            ByteRange::Inclusive { start: 0, end: 99 }.header_value(),
            "bytes=0-99"
        );
        assert_eq!(ByteRange::Last(5).header_value(), "bytes=-5");
    }
}
