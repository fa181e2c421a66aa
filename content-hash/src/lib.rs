//! The Dropbox content hash.
//!
//! Dropbox identifies file contents with a hash that can be computed in parallel and in
//! pieces: split the bytes into 4 MiB blocks, SHA-256 each block, concatenate the 32-byte
//! block digests, and SHA-256 that concatenation. The result is written as 64 lowercase hex
//! characters. The empty input hashes to the SHA-256 of nothing.
//!
//! ```
//! use dropbox_content_hash::{ContentHasher, content_hash};
//!
//! let mut h = ContentHasher::new();
//! h.update(b"hello ");
//! h.update(b"world");
//! assert_eq!(h.finish(), content_hash(b"hello world"));
//! assert_eq!(
//!     content_hash(b"").to_hex(),
//!     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
//! );
//! ```
//!
//! Hashing chunk by chunk: when every chunk but the last is a multiple of 4 MiB (as upload
//! session chunks are), the block digests of the chunks concatenate into those of the whole
//! file, so [`ContentHash::from_block_digests`] gives the file's hash without reading the
//! data twice.

#![forbid(unsafe_code)]

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// Size of a hashing block: 4 MiB.
pub const BLOCK_SIZE: usize = 4 * 1024 * 1024;

/// A Dropbox content hash (32 bytes).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContentHash([u8; 32]);

impl ContentHash {
    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The 64-character lowercase hex form Dropbox uses.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The hash of data whose 4 MiB blocks have these digests, in order.
    pub fn from_block_digests<'a>(digests: impl IntoIterator<Item = &'a [u8; 32]>) -> Self {
        let mut outer = Sha256::new();
        for d in digests {
            outer.update(d);
        }
        ContentHash(outer.finalize().into())
    }

    /// Checks the content hash Dropbox reported for the stored bytes (`None` when it
    /// reported none) against this one, computed locally. Hex case does not matter.
    ///
    /// ```
    /// let local = dropbox_content_hash::content_hash(b"abc");
    /// assert!(local.verify(Some(&local.to_hex())).is_ok());
    /// let err = local.verify(Some("00")).unwrap_err();
    /// assert_eq!(err.dropbox.as_deref(), Some("00"));
    /// ```
    pub fn verify(&self, dropbox: Option<&str>) -> Result<(), HashMismatch> {
        match dropbox {
            Some(d) if d.eq_ignore_ascii_case(&self.to_hex()) => Ok(()),
            other => Err(HashMismatch {
                local: self.to_hex(),
                dropbox: other.map(str::to_owned),
            }),
        }
    }
}

/// Dropbox stored bytes whose content hash differs from the hash of the local bytes: the
/// upload is not what was read. Every uploader of this workspace reports it with this type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("content hash mismatch: local {local}, Dropbox {}", .dropbox.as_deref().unwrap_or("(none)"))]
pub struct HashMismatch {
    /// The hash of the bytes read locally.
    pub local: String,
    /// The hash Dropbox reported for what it stored (`None` when it reported none).
    pub dropbox: Option<String>,
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentHash({})", self.to_hex())
    }
}

/// A string that is not 64 hex characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a content hash is 64 hex characters, got {len} characters{}", if *.bad_char { " with a non-hex one" } else { "" })]
pub struct ParseContentHashError {
    len: usize,
    bad_char: bool,
}

impl FromStr for ContentHash {
    type Err = ParseContentHashError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 32];
        match hex::decode_to_slice(s, &mut out) {
            Ok(()) => Ok(ContentHash(out)),
            Err(_) => Err(ParseContentHashError {
                len: s.chars().count(),
                bad_char: !s.chars().all(|c| c.is_ascii_hexdigit()),
            }),
        }
    }
}

/// Streaming content hasher: feed bytes in pieces of any size, then [`finish`](Self::finish).
#[derive(Clone)]
pub struct ContentHasher {
    block: Sha256,
    in_block: usize,
    digests: Vec<[u8; 32]>,
}

impl Default for ContentHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ContentHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContentHasher")
            .field("bytes", &self.len())
            .finish()
    }
}

impl ContentHasher {
    /// A hasher with no input yet.
    pub fn new() -> Self {
        ContentHasher {
            block: Sha256::new(),
            in_block: 0,
            digests: Vec::new(),
        }
    }

    /// Bytes hashed so far.
    pub fn len(&self) -> u64 {
        self.digests.len() as u64 * BLOCK_SIZE as u64 + self.in_block as u64
    }

    /// Whether nothing was hashed yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds bytes.
    pub fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let take = (BLOCK_SIZE - self.in_block).min(data.len());
            self.block.update(&data[..take]);
            self.in_block += take;
            data = &data[take..];
            if self.in_block == BLOCK_SIZE {
                let digest = std::mem::take(&mut self.block).finalize();
                self.digests.push(digest.into());
                self.in_block = 0;
            }
        }
    }

    /// The digests of the 4 MiB blocks completed so far.
    pub fn block_digests(&self) -> &[[u8; 32]] {
        &self.digests
    }

    /// Finishes and returns the block digests, the last (partial) block included.
    pub fn finish_blocks(mut self) -> Vec<[u8; 32]> {
        if self.in_block > 0 {
            self.digests.push(self.block.finalize().into());
        }
        self.digests
    }

    /// The content hash of everything added.
    pub fn finish(self) -> ContentHash {
        let digests = self.finish_blocks();
        ContentHash::from_block_digests(digests.iter())
    }
}

impl io::Write for ContentHasher {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The content hash of a byte slice.
pub fn content_hash(data: &[u8]) -> ContentHash {
    let mut h = ContentHasher::new();
    h.update(data);
    h.finish()
}

/// The content hash of a file, read sequentially on this thread.
pub fn hash_file(path: impl AsRef<Path>) -> io::Result<ContentHash> {
    let mut file = File::open(path)?;
    let mut h = ContentHasher::new();
    let mut buf = vec![0u8; 1024 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finish())
}

/// The content hash of a file, its 4 MiB blocks hashed on `threads` threads (the available
/// parallelism when `None`). Each thread reads one block at a time, so memory stays at one
/// block per thread.
pub fn hash_file_parallel(
    path: impl AsRef<Path>,
    threads: Option<usize>,
) -> io::Result<ContentHash> {
    let path = path.as_ref();
    let len = std::fs::metadata(path)?.len();
    let blocks = len.div_ceil(BLOCK_SIZE as u64) as usize;
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, blocks.max(1));
    if threads == 1 || blocks <= 1 {
        return hash_file(path);
    }
    let mut digests = vec![[0u8; 32]; blocks];
    let chunk = blocks.div_ceil(threads);
    std::thread::scope(|scope| -> io::Result<()> {
        let mut handles = Vec::new();
        for (i, out) in digests.chunks_mut(chunk).enumerate() {
            let first = i * chunk;
            handles.push(scope.spawn(move || -> io::Result<()> {
                let mut file = File::open(path)?;
                let mut buf = vec![0u8; BLOCK_SIZE];
                for (j, slot) in out.iter_mut().enumerate() {
                    let offset = (first + j) as u64 * BLOCK_SIZE as u64;
                    let want = (len - offset).min(BLOCK_SIZE as u64) as usize;
                    read_at(&mut file, offset, &mut buf[..want])?;
                    *slot = Sha256::digest(&buf[..want]).into();
                }
                Ok(())
            }));
        }
        for h in handles {
            h.join()
                .map_err(|_| io::Error::other("a hashing thread panicked"))??;
        }
        Ok(())
    })?;
    Ok(ContentHash::from_block_digests(digests.iter()))
}

/// Reads exactly `buf.len()` bytes at `offset`.
fn read_at(file: &mut File, offset: u64, buf: &mut [u8]) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt as _;
        file.read_exact_at(buf, offset)
    }
    #[cfg(not(unix))]
    {
        use std::io::Seek as _;
        file.seek(io::SeekFrom::Start(offset))?;
        file.read_exact(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The deterministic test pattern: byte i is (i * 7 + 3) mod 251.
    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| ((i * 7 + 3) % 251) as u8).collect()
    }

    const MIB4: usize = BLOCK_SIZE;

    /// Expected hashes computed independently with coreutils (`split -b 4194304`,
    /// `sha256sum` per block, `xxd -r -p`, `sha256sum`) over `pattern(len)`.
    const KNOWN: &[(usize, &str)] = &[
        (
            0,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            1,
            "c942a06c127c2c18022677e888020afb174208d299354f3ecfedb124a1f3fa45",
        ),
        (
            MIB4 - 1,
            "b8a5fc431bd24dd7cbf0a922d2616d11cc3253698d5b0eaf61345d48a881936e",
        ),
        (
            MIB4,
            "e778b044d0f8d74788d6b6eb0e9a083d3abc99b5a3cacaf9c99ccc8b0e5e1450",
        ),
        (
            MIB4 + 1,
            "111bce38e12619d0ae855be9f7ddddc2e578ddcfb5be82f8081d058c80b23654",
        ),
        (
            2 * MIB4,
            "ff8889c6e44f20156da7475a9683e1a7e7a1901e70ce603e980340fb79be9451",
        ),
        (
            10 * 1024 * 1024 + 3,
            "a88ffb75d9e1f9f8d9e0d91ed1e4200a2c194e90c9e25c475bffb12a0738456c",
        ),
    ];

    #[test]
    fn known_answers() {
        for (len, want) in KNOWN {
            assert_eq!(content_hash(&pattern(*len)).to_hex(), *want, "length {len}");
        }
    }

    #[test]
    fn streaming_in_odd_pieces_matches_one_shot() {
        let data = pattern(2 * MIB4 + 12345);
        let mut h = ContentHasher::new();
        for piece in data.chunks(999_983) {
            h.update(piece);
        }
        assert_eq!(h.len(), data.len() as u64);
        assert_eq!(h.finish(), content_hash(&data));
    }

    #[test]
    fn chunk_block_digests_combine_into_the_file_hash() {
        let data = pattern(3 * MIB4 + 77);
        let mut all = Vec::new();
        for chunk in data.chunks(2 * MIB4) {
            let mut h = ContentHasher::new();
            h.update(chunk);
            all.extend(h.finish_blocks());
        }
        assert_eq!(
            ContentHash::from_block_digests(all.iter()),
            content_hash(&data)
        );
    }

    #[test]
    fn files_sequential_and_parallel() {
        let dir = std::env::temp_dir().join(format!("content-hash-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for len in [0, 1, MIB4 - 1, MIB4, MIB4 + 1, 10 * 1024 * 1024 + 3] {
            let p = dir.join(format!("f{len}"));
            let data = pattern(len);
            std::fs::write(&p, &data).unwrap();
            let want = content_hash(&data);
            assert_eq!(hash_file(&p).unwrap(), want);
            assert_eq!(hash_file_parallel(&p, Some(3)).unwrap(), want);
            assert_eq!(hash_file_parallel(&p, None).unwrap(), want);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn parse_and_display() {
        let h = content_hash(b"x");
        let back: ContentHash = h.to_hex().parse().unwrap();
        assert_eq!(back, h);
        assert_eq!(format!("{h}"), h.to_hex());
        assert!("abc".parse::<ContentHash>().is_err());
        assert!("z".repeat(64).parse::<ContentHash>().is_err());
    }
}

/// The example of this crate's `README.md`, compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct CrateReadme;
