//! The body of an upload request.

use std::fmt;

use bytes::Bytes;

/// The body of an upload route: bytes in memory or a stream.
///
/// Bytes are shared, not copied: the same buffer is sent again, as-is, when the request
/// lifecycle retries the call or refreshes an expired access token. A stream is sent once: a
/// call whose streamed body would have to be sent again fails with the last attempt's error.
///
/// ```
/// use dropbox_api_runtime::Body;
/// let a = Body::from("text");
/// let b = Body::from(vec![0u8; 16]);
/// let c = Body::from(bytes::Bytes::from_static(b"shared"));
/// assert_eq!(a.len(), Some(4));
/// assert_eq!(b.len(), Some(16));
/// assert_eq!(c.len(), Some(6));
/// ```
pub struct Body(Inner);

enum Inner {
    Bytes(Bytes),
    Stream(reqwest::Body),
}

impl Body {
    /// A body read from a stream of byte chunks (sent once, never resent).
    pub fn wrap_stream<S>(stream: S) -> Self
    where
        S: futures_util::TryStream + Send + 'static,
        S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        Bytes: From<S::Ok>,
    {
        Body(Inner::Stream(reqwest::Body::wrap_stream(stream)))
    }

    /// The length, when the body is in memory.
    pub fn len(&self) -> Option<u64> {
        match &self.0 {
            Inner::Bytes(b) => Some(b.len() as u64),
            Inner::Stream(s) => s.as_bytes().map(|b| b.len() as u64),
        }
    }

    /// Whether the body is known to be empty.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// The shared bytes, or the stream.
    pub(crate) fn into_inner(self) -> Result<Bytes, reqwest::Body> {
        match self.0 {
            Inner::Bytes(b) => Ok(b),
            Inner::Stream(s) => Err(s),
        }
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Inner::Bytes(b) => write!(f, "Body({} bytes)", b.len()),
            Inner::Stream(_) => f.write_str("Body(stream)"),
        }
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Body(Inner::Bytes(b))
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Self {
        Body(Inner::Bytes(Bytes::from(v)))
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Body(Inner::Bytes(Bytes::from(s)))
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Self {
        Body(Inner::Bytes(Bytes::from_static(s.as_bytes())))
    }
}

impl From<&'static [u8]> for Body {
    fn from(s: &'static [u8]) -> Self {
        Body(Inner::Bytes(Bytes::from_static(s)))
    }
}

impl From<reqwest::Body> for Body {
    fn from(b: reqwest::Body) -> Self {
        // A reqwest body made from bytes is still re-sendable; its bytes are copied once here
        // (reqwest does not hand them back). Prefer `Bytes` to avoid that copy.
        match b.as_bytes() {
            Some(bytes) => Body(Inner::Bytes(Bytes::copy_from_slice(bytes))),
            None => Body(Inner::Stream(b)),
        }
    }
}
