//! The integration tests of `dbx` as one test binary: one compilation and one link of
//! everything they share, instead of one per file (each file is a module; `cargo test -p
//! dbx --test integration <module>::` runs one of them).

mod commands;
mod common;
mod login;
mod progress_tty;
mod resume_and_secrets;
mod serve_and_credentials;
mod timeouts;
