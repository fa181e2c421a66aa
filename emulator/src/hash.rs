//! Content hashing, with `dropbox-content-hash`.
//!
//! Sequential sessions keep a running [`BlockHasher`] (cloned per request, so a failed
//! request rolls back with its data); concurrent sessions keep the digest of every 4 MiB
//! block they receive, in any order, and [`combine`] them at finish without reading the
//! data again.

pub(crate) use dropbox_content_hash::ContentHasher as BlockHasher;

/// The Dropbox content-hash block size (4 MiB).
pub(crate) const BLOCK: u64 = dropbox_content_hash::BLOCK_SIZE as u64;

/// The content hash (hex) of data whose blocks have these digests, in order.
pub(crate) fn combine(blocks: &[[u8; 32]]) -> String {
    dropbox_content_hash::ContentHash::from_block_digests(blocks.iter()).to_hex()
}

/// Finishes a hasher into the hex content hash.
pub(crate) fn finish_hex(h: BlockHasher) -> String {
    h.finish().to_hex()
}

/// Hex content hash of a byte slice.
pub(crate) fn hash_bytes(data: &[u8]) -> String {
    dropbox_content_hash::content_hash(data).to_hex()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_digests_of_aligned_pieces_combine_into_the_whole() {
        let data: Vec<u8> = (0..(BLOCK as usize * 2 + 12345))
            .map(|i| (i * 31 % 251) as u8)
            .collect();
        let mut blocks = Vec::new();
        for piece in data.chunks(BLOCK as usize) {
            let mut h = BlockHasher::default();
            h.update(piece);
            blocks.extend(h.finish_blocks());
        }
        assert_eq!(combine(&blocks), hash_bytes(&data));
        assert_eq!(
            combine(&[]),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let mut running = BlockHasher::default();
        for chunk in data.chunks(1_000_003) {
            running.update(chunk);
        }
        assert_eq!(finish_hex(running), hash_bytes(&data));
    }
}
