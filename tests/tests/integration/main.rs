//! Workspace integration tests that need no emitted fixture code at the crate root, as one test
//! binary (each file is a module). `families.rs` and `fixtures_compile.rs` stay binaries of their
//! own: they `include!` emitted namespaces whose `crate::` paths expect the crate root, and
//! `codegen_snapshots.rs` keeps its own so that its `insta` snapshot names stay as they are.

mod full_api;
mod json_codec;
mod roundtrip_props;
mod route_errors;
mod tls;
mod wire_format;
