//! Runtime for the generated `dropbox-api` crate.
//!
//! The generated crate holds one type per Stone definition and one function per route;
//! everything those need at run time lives here:
//!
//! - [`auth`]: clients per auth type ([`UserClient`], [`TeamClient`], [`AppClient`],
//!   [`NoAuthClient`]) and the marker traits that make the type system check route auth;
//! - [`client`]: [`ClientBuilder`] (tokens, hosts, timeouts, path root) and the
//!   [`Transport`] that sends rpc, upload and download calls;
//! - [`error`]: one [`Error`] type mapping every Dropbox status (400, 401, 403, 409, 422,
//!   429 with `Retry-After`, 5xx) to a variant;
//! - [`token`]: fixed tokens and refresh-token providers; [`secret`]: values that never print;
//! - [`header`]: the `Dropbox-API-Arg` escaping; [`retry`]: backoff with jitter;
//! - [`wire`] and [`validate`]: Dropbox's JSON format and spec constraints for generated types.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use dropbox_api_runtime::{ClientBuilder, UserClient};
//! // The real servers:
//! let client = UserClient::new("sl.your-access-token")?;
//! // Or a local emulator:
//! let local = ClientBuilder::new()
//!     .access_token("dev-token")
//!     .base_url("http://127.0.0.1:8080")
//!     .build_user()?;
//! # let _ = (client, local);
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

pub mod auth;
pub mod body;
pub mod client;
pub mod download;
pub mod error;
pub mod header;
pub mod retry;
pub mod route;
pub mod secret;
pub mod shape;
pub mod token;
pub mod validate;
pub mod wire;

pub use auth::{AppClient, NoAuthClient, TeamClient, UserClient};
pub use body::Body;
pub use client::{BuildError, ClientBuilder, Config, Transport};
pub use download::{ByteRange, Download};
pub use error::{ApiError, Error, ErrorTypes, NoError, RateLimitReason, Untyped, UserMessage};
pub use retry::{RetryPolicy, retry};
pub use secret::Secret;
pub use token::{RefreshingToken, StaticToken, TokenError, TokenProvider};
pub use wire::Timestamp;
