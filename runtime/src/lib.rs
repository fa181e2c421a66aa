//! Runtime for the generated `dropbox-api` crate.
//!
//! The generated crate holds one type per Stone definition and one `async fn` per route;
//! everything those functions need at run time lives here: the HTTP transport and the
//! clients (one per auth type), tokens and their refresh, the error type, the
//! `Dropbox-API-Arg` header escaping, retries, and the serde helpers that implement
//! Dropbox's JSON wire format.

pub mod route;
pub mod validate;
pub mod wire;
