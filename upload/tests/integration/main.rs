//! The integration tests of `dropbox-upload` as one test binary: one compilation and one link of
//! everything they share, instead of one per file (each file is a module; `cargo test -p
//! dropbox-upload --test integration <module>::` runs one of them).

mod batch;
mod common;
mod faults;
mod links;
mod restart;
mod resume;
mod secrets;
mod sizes;
