//! The integration tests of `dbx-emulator` as one test binary: one compilation and one link of
//! everything they share, instead of one per file (each file is a module; `cargo test -p
//! dbx-emulator --test integration <module>::` runs one of them).

mod as_dev_dependency;
mod common;
mod durability;
mod faults_and_stats;
mod files;
mod generated_client;
mod malformed;
mod module_graph;
mod oauth_pkce;
mod paginators;
mod persistence;
mod protocol;
mod stalls;
mod temp_links_v1_oauth;
mod upload_sessions;
