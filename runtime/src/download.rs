//! Download results: the decoded `Dropbox-API-Result` plus the body as a stream.

use std::fmt;

use bytes::Bytes;
use futures_util::{Stream, StreamExt as _};

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

/// The result of a download route: its metadata and the content.
pub struct Download<R> {
    /// The result decoded from `Dropbox-API-Result`.
    pub result: R,
    /// The content length, when the server sent one.
    pub content_length: Option<u64>,
    /// The HTTP status (200, or 206 for a range).
    pub status: u16,
    response: reqwest::Response,
}

impl<R: fmt::Debug> fmt::Debug for Download<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Download")
            .field("result", &self.result)
            .field("content_length", &self.content_length)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl<R> Download<R> {
    pub(crate) fn new(result: R, response: reqwest::Response) -> Self {
        Download {
            result,
            content_length: response.content_length(),
            status: response.status().as_u16(),
            response,
        }
    }

    /// Reads the whole body into memory.
    pub async fn bytes(self) -> Result<Bytes, reqwest::Error> {
        self.response.bytes().await.map_err(|e| e.without_url())
    }

    /// The next chunk of the body, or `None` at the end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, reqwest::Error> {
        self.response.chunk().await.map_err(|e| e.without_url())
    }

    /// The body as a stream of chunks.
    pub fn into_stream(self) -> impl Stream<Item = Result<Bytes, reqwest::Error>> + Send {
        self.response
            .bytes_stream()
            .map(|r| r.map_err(|e| e.without_url()))
    }

    /// Copies the body into a writer, returning the number of bytes written.
    pub async fn copy_to<W>(mut self, writer: &mut W) -> std::io::Result<u64>
    where
        W: tokio::io::AsyncWrite + Unpin,
    {
        use tokio::io::AsyncWriteExt as _;
        let mut n = 0u64;
        while let Some(chunk) = self
            .response
            .chunk()
            .await
            .map_err(|e| std::io::Error::other(e.without_url()))?
        {
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
