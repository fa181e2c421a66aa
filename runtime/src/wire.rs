//! Serde helpers that implement Dropbox's JSON wire format for the generated types.
