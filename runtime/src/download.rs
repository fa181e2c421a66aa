//! Download results: the decoded `Dropbox-API-Result` plus the body as a stream.

use std::fmt;

use bytes::Bytes;
use std::time::{Duration, Instant};

use futures_util::Stream;

use crate::retry::RetryPolicy;
use crate::stall::{Checkpoint, IdleRule};
use crate::token::BoxFuture;

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
    /// The rest of this range once its first `received` bytes arrived.
    pub fn after(&self, received: u64) -> ByteRange {
        match *self {
            ByteRange::From(a) => ByteRange::From(a.saturating_add(received)),
            ByteRange::Inclusive { start, end } => ByteRange::Inclusive {
                start: start.saturating_add(received),
                end,
            },
            ByteRange::Last(n) => ByteRange::Last(n.saturating_sub(received)),
        }
    }

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

/// Reopens a download at a range: the response and its request id, or `None` when the
/// request failed or the file is not the same any more.
pub(crate) type Reopen = Box<
    dyn Fn(ByteRange) -> BoxFuture<'static, Option<(reqwest::Response, Option<String>)>>
        + Send
        + Sync,
>;

/// How a download whose body broke off continues.
pub(crate) struct Resume {
    /// The range asked for at first (`None`: the whole file).
    pub(crate) range: Option<ByteRange>,
    /// Sends the request again for the bytes not received yet.
    pub(crate) reopen: Reopen,
    /// The retry policy: resumes left and the wait before each.
    pub(crate) policy: RetryPolicy,
}

/// The result of a download route: its metadata and the content, read as a stream under
/// the idle timeout (only the time spent waiting for the server counts, not the time the
/// caller takes between chunks).
///
/// A body that stalls or breaks off is resumed where it stopped: the request is sent again
/// with a `Range` for the bytes not received yet (and must describe the same file), as often
/// as the client's retry policy allows; the caller sees one uninterrupted stream.
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
    resume: Option<Resume>,
    /// Body bytes received so far, across resumes.
    received: u64,
    /// Resumes made.
    resumed: u32,
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
        resume: Option<Resume>,
    ) -> Self {
        Download {
            result,
            content_length: response.content_length(),
            status: response.status().as_u16(),
            request_id,
            response,
            idle,
            checkpoint: Checkpoint::new(),
            resume,
            received: 0,
            resumed: 0,
        }
    }

    /// How often the body was resumed after it stalled or broke off.
    pub fn resumed(&self) -> u32 {
        self.resumed
    }

    /// The next chunk of the body, or `None` at the end; resumes a body that stalled or broke
    /// off while the retry policy allows.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, BodyError> {
        loop {
            match self.chunk_once().await {
                Ok(Some(c)) => {
                    self.received += c.len() as u64;
                    return Ok(Some(c));
                }
                Ok(None) => return Ok(None),
                Err(e) => {
                    if !self.reopen().await {
                        return Err(e);
                    }
                }
            }
        }
    }

    /// Sends the request again for the rest of the body; whether that worked.
    async fn reopen(&mut self) -> bool {
        let Some(resume) = &self.resume else {
            return false;
        };
        if self.resumed + 1 >= resume.policy.max_attempts.max(1) {
            return false;
        }
        self.resumed += 1;
        let range = match resume.range {
            Some(r) => r.after(self.received),
            None => ByteRange::From(self.received),
        };
        if matches!(range, ByteRange::Last(0)) {
            return false;
        }
        tokio::time::sleep(resume.policy.backoff(self.resumed, None)).await;
        tracing::debug!(target: "dropbox_api_runtime", received = self.received, resumed = self.resumed, "resuming a download");
        match (resume.reopen)(range).await {
            Some((response, request_id)) => {
                self.response = response;
                if request_id.is_some() {
                    self.request_id = request_id;
                }
                self.checkpoint = Checkpoint::new();
                true
            }
            None => false,
        }
    }

    async fn chunk_once(&mut self) -> Result<Option<Bytes>, BodyError> {
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
