//! Dropbox API code generator.
