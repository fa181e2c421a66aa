//! The Dropbox content hash.
