//! Where upload bytes come from: a file (positional reads, any order), bytes in memory, a
//! seekable reader, or a plain stream (read once, in order).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use dropbox_content_hash::{BLOCK_SIZE, ContentHash, ContentHasher};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncSeek, AsyncSeekExt as _};
use tokio::sync::Mutex;

use crate::error::UploadError;

/// A seekable async reader.
pub trait SeekRead: AsyncRead + AsyncSeek + Send + Unpin {}
impl<T: AsyncRead + AsyncSeek + Send + Unpin> SeekRead for T {}

/// The bytes to upload.
pub enum UploadSource {
    /// A local file.
    File(PathBuf),
    /// Bytes in memory.
    Bytes(Bytes),
    /// A seekable reader of known length.
    Seekable {
        /// The reader.
        reader: Box<dyn SeekRead>,
        /// Its length in bytes.
        len: u64,
    },
    /// A plain stream, read once; unacknowledged chunks are kept in memory to resend.
    Stream {
        /// The reader.
        reader: Box<dyn AsyncRead + Send + Unpin>,
        /// The length, if known.
        len: Option<u64>,
    },
}

impl fmt::Debug for UploadSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UploadSource::File(p) => f.debug_tuple("File").field(p).finish(),
            UploadSource::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            UploadSource::Seekable { len, .. } => write!(f, "Seekable({len} bytes)"),
            UploadSource::Stream { len, .. } => write!(f, "Stream({len:?} bytes)"),
        }
    }
}

/// One chunk read from a source, with its hashes.
#[derive(Debug, Clone)]
pub(crate) struct Chunk {
    /// Where it starts.
    pub(crate) offset: u64,
    /// The bytes.
    pub(crate) data: Bytes,
    /// The content hash of these bytes (sent as the request's `content_hash`).
    pub(crate) hash: ContentHash,
    /// Digests of its 4 MiB blocks, when the chunk starts on a block boundary.
    pub(crate) blocks: Option<Vec<[u8; 32]>>,
}

impl Chunk {
    pub(crate) fn end(&self) -> u64 {
        self.offset + self.data.len() as u64
    }
}

/// Hashes a chunk on a blocking thread.
pub(crate) async fn hash_chunk(offset: u64, data: Bytes) -> Chunk {
    let aligned = offset.is_multiple_of(BLOCK_SIZE as u64);
    let work = data.clone();
    let blocks = tokio::task::spawn_blocking(move || {
        let mut h = ContentHasher::new();
        h.update(&work);
        h.finish_blocks()
    })
    .await
    .unwrap_or_else(|_| {
        let mut h = ContentHasher::new();
        h.update(&data);
        h.finish_blocks()
    });
    let hash = ContentHash::from_block_digests(blocks.iter());
    Chunk {
        offset,
        data,
        hash,
        blocks: aligned.then_some(blocks),
    }
}

/// A source opened for reading.
pub(crate) enum Reader {
    /// Random access to a file.
    File {
        path: PathBuf,
        file: Arc<std::fs::File>,
        len: u64,
        buffers: Buffers,
    },
    /// Random access to memory.
    Bytes(Bytes),
    /// Random access through seeks.
    Seekable {
        reader: Mutex<Box<dyn SeekRead>>,
        len: u64,
        buffers: Buffers,
    },
    /// Read once, in order.
    Stream {
        reader: Mutex<(Box<dyn AsyncRead + Send + Unpin>, u64)>,
        len: Option<u64>,
    },
}

impl Reader {
    pub(crate) async fn open(source: UploadSource) -> Result<Reader, UploadError> {
        Ok(match source {
            UploadSource::File(path) => {
                let p = path.clone();
                let (file, len) = tokio::task::spawn_blocking(move || -> io::Result<_> {
                    let f = std::fs::File::open(&p)?;
                    let len = f.metadata()?.len();
                    Ok((f, len))
                })
                .await
                .map_err(|e| io_err(&path, io::Error::other(e)))?
                .map_err(|e| io_err(&path, e))?;
                Reader::File {
                    path,
                    file: Arc::new(file),
                    len,
                    buffers: Buffers::default(),
                }
            }
            UploadSource::Bytes(b) => Reader::Bytes(b),
            UploadSource::Seekable { reader, len } => Reader::Seekable {
                reader: Mutex::new(reader),
                len,
                buffers: Buffers::default(),
            },
            UploadSource::Stream { reader, len } => Reader::Stream {
                reader: Mutex::new((reader, 0)),
                len,
            },
        })
    }

    /// The total length, when known.
    pub(crate) fn len(&self) -> Option<u64> {
        match self {
            Reader::File { len, .. } | Reader::Seekable { len, .. } => Some(*len),
            Reader::Bytes(b) => Some(b.len() as u64),
            Reader::Stream { len, .. } => *len,
        }
    }

    /// Whether any offset can be read again.
    pub(crate) fn rewindable(&self) -> bool {
        !matches!(self, Reader::Stream { .. })
    }

    /// The path, for messages.
    pub(crate) fn label(&self) -> PathBuf {
        match self {
            Reader::File { path, .. } => path.clone(),
            Reader::Bytes(_) => PathBuf::from("<bytes>"),
            Reader::Seekable { .. } => PathBuf::from("<reader>"),
            Reader::Stream { .. } => PathBuf::from("<stream>"),
        }
    }

    /// Reads up to `len` bytes at `offset` (random-access sources).
    pub(crate) async fn read_at(&self, offset: u64, len: u64) -> Result<Chunk, UploadError> {
        let data = match self {
            Reader::File {
                path,
                file,
                len: total,
                buffers,
            } => {
                let want = len.min(total.saturating_sub(offset)) as usize;
                let file = file.clone();
                let mut buf = buffers.take(want);
                tokio::task::spawn_blocking(move || -> io::Result<Bytes> {
                    read_exact_at(&file, offset, &mut buf)?;
                    Ok(buf.freeze())
                })
                .await
                .map_err(|e| io_err(path, io::Error::other(e)))?
                .map_err(|e| io_err(path, e))?
            }
            Reader::Bytes(b) => {
                let start = (offset as usize).min(b.len());
                let end = (start + len as usize).min(b.len());
                b.slice(start..end)
            }
            Reader::Seekable {
                reader,
                len: total,
                buffers,
            } => {
                let want = len.min(total.saturating_sub(offset)) as usize;
                let mut r = reader.lock().await;
                r.seek(io::SeekFrom::Start(offset))
                    .await
                    .map_err(|e| io_err(Path::new("<reader>"), e))?;
                let mut buf = buffers.take(want);
                r.read_exact(&mut buf)
                    .await
                    .map_err(|e| io_err(Path::new("<reader>"), e))?;
                buf.freeze()
            }
            Reader::Stream { .. } => {
                return Err(UploadError::Protocol(
                    "a stream cannot be read at an offset".into(),
                ));
            }
        };
        Ok(hash_chunk(offset, data).await)
    }

    /// Gives a chunk's buffer back once its request is done, for the next read.
    pub(crate) fn recycle(&self, data: Bytes) {
        match self {
            Reader::File { buffers, .. } | Reader::Seekable { buffers, .. } => buffers.give(data),
            Reader::Bytes(_) | Reader::Stream { .. } => {}
        }
    }

    /// Reads the next chunk of up to `len` bytes of a stream (shorter only at the end).
    pub(crate) async fn next(&self, len: u64) -> Result<Chunk, UploadError> {
        let Reader::Stream { reader, .. } = self else {
            return Err(UploadError::Protocol("not a stream".into()));
        };
        let mut guard = reader.lock().await;
        let (r, pos) = &mut *guard;
        let offset = *pos;
        let mut buf = BytesMut::with_capacity(len as usize);
        while (buf.len() as u64) < len {
            let n = r
                .as_mut()
                .take(len - buf.len() as u64)
                .read_buf(&mut buf)
                .await
                .map_err(|e| io_err(Path::new("<stream>"), e))?;
            if n == 0 {
                break;
            }
        }
        *pos += buf.len() as u64;
        drop(guard);
        Ok(hash_chunk(offset, buf.freeze()).await)
    }

    /// The identity of a file source (size, modification time, first block hash).
    pub(crate) async fn identity(&self) -> Option<SourceIdentity> {
        let Reader::File {
            path, file, len, ..
        } = self
        else {
            return None;
        };
        let file = file.clone();
        let (len, path) = (*len, path.clone());
        tokio::task::spawn_blocking(move || SourceIdentity::of(&path, &file, len))
            .await
            .ok()
            .and_then(Result::ok)
    }
}

/// Chunk buffers given back after their request and reused by the next read, so that a
/// long upload keeps at most about `concurrency + 1` chunk buffers alive instead of
/// leaving a trail of freed multi-MiB blocks that the allocator may keep resident.
#[derive(Debug, Default)]
pub(crate) struct Buffers(std::sync::Mutex<Vec<BytesMut>>);

impl Buffers {
    /// Buffers kept for reuse at most.
    const KEEP: usize = 32;

    /// A buffer of `len` bytes (zeroed or reused).
    fn take(&self, len: usize) -> BytesMut {
        let reused = {
            let mut v = self.0.lock().unwrap_or_else(|p| p.into_inner());
            v.iter()
                .position(|b| b.capacity() >= len)
                .map(|i| v.swap_remove(i))
        };
        match reused {
            Some(mut b) => {
                b.clear();
                b.resize(len, 0);
                b
            }
            None => BytesMut::zeroed(len),
        }
    }

    /// Keeps `data`'s buffer if nothing else refers to it.
    fn give(&self, data: Bytes) {
        if let Ok(b) = data.try_into_mut() {
            let mut v = self.0.lock().unwrap_or_else(|p| p.into_inner());
            if v.len() < Self::KEEP {
                v.push(b);
            }
        }
    }
}

fn io_err(path: &Path, source: io::Error) -> UploadError {
    UploadError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads exactly `buf.len()` bytes at `offset`.
pub(crate) fn read_exact_at(file: &std::fs::File, offset: u64, buf: &mut [u8]) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt as _;
        file.read_exact_at(buf, offset)
    }
    #[cfg(not(unix))]
    {
        use std::io::{Read as _, Seek as _};
        let mut f = file.try_clone()?;
        f.seek(io::SeekFrom::Start(offset))?;
        f.read_exact(buf)
    }
}

/// What identifies a file's contents cheaply: size, modification time, and the hash of its
/// first 4 MiB block.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SourceIdentity {
    /// Size in bytes.
    pub len: u64,
    /// Modification time, nanoseconds since the Unix epoch (0 when unknown).
    pub modified_ns: u128,
    /// Content hash of the first block (hex).
    pub first_block: String,
}

impl SourceIdentity {
    pub(crate) fn of(path: &Path, file: &std::fs::File, len: u64) -> io::Result<Self> {
        let meta = std::fs::metadata(path)?;
        let modified_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let mut buf = vec![0u8; (len.min(BLOCK_SIZE as u64)) as usize];
        read_exact_at(file, 0, &mut buf)?;
        Ok(SourceIdentity {
            len,
            modified_ns,
            first_block: dropbox_content_hash::content_hash(&buf).to_hex(),
        })
    }

    /// Reads the identity of a file now.
    pub fn of_path(path: &Path) -> io::Result<Self> {
        let file = std::fs::File::open(path)?;
        let len = file.metadata()?.len();
        Self::of(path, &file, len)
    }

    /// Why `now` is not the same source, if it is not.
    pub fn differs(&self, now: &SourceIdentity) -> Option<String> {
        if self.len != now.len {
            return Some(format!(
                "its size changed from {} to {} bytes",
                self.len, now.len
            ));
        }
        if self.modified_ns != now.modified_ns {
            return Some("its modification time changed".into());
        }
        if self.first_block != now.first_block {
            return Some("its first block changed".into());
        }
        None
    }
}
