//! Runtime for the generated `dropbox-api` crate.
//!
//! The generated crate holds one type per Stone definition and one function per route;
//! everything those need at run time lives here:
//!
//! - [`auth`]: clients per auth type ([`UserClient`], [`TeamClient`], [`AppClient`],
//!   [`NoAuthClient`]) and the marker traits that make the type system check route auth;
//! - [`builder`]: [`ClientBuilder`] (credentials, hosts, timeouts, retry policy,
//!   interceptors, path root); [`config`]: [`Config`] and [`Timeouts`];
//! - [`transport`]: the [`Transport`] every client holds; [`calls`]: rpc, upload and
//!   download calls (and posts to temporary upload links), encoded and decoded; `lifecycle` (private): the one request
//!   lifecycle every call goes through (attempt, classify, wait, retry), with the stall
//!   detector of `stall` (private) for the idle timeout;
//! - [`retry`]: [`RetryPolicy`]; [`classify`]: [`RouteError`], the generated
//!   classification of route errors; [`hooks`]: [`Interceptor`]s around each attempt;
//! - [`error`]: one [`Error`] type mapping every Dropbox status (400, 401, 403, 409, 422,
//!   429 with `Retry-After`, 5xx), transport failures and timeouts, with the request id;
//! - [`token`]: fixed tokens, refresh-token providers, the token endpoint and the
//!   [`TokenStore`] told each new token; [`oauth`]: signing in (authorize URL, PKCE, the
//!   code exchange, revoking); [`secret`]: values that never print;
//! - [`header`]: the `Dropbox-API-Arg` escaping;
//! - [`json`]: the JSON codec every call uses ([`json::from_slice`], [`json::to_vec`]), and
//!   [`Str`], the string type of the generated types;
//! - [`Validate`]: the spec's constraints, checked before a request is sent; the wire format
//!   helpers and the typed route calls that only generated code uses live in a hidden
//!   module (`__private`), which is not part of the API.
//! - [`tls`]: the TLS backend the cargo features chose ([`http_client_builder`]).
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
pub mod builder;
pub mod calls;
pub mod classify;
pub mod config;
mod credentials;
pub mod download;
pub mod error;
pub mod header;
pub mod hooks;
pub mod json;
mod lifecycle;
pub mod oauth;
mod paginate;
pub mod retry;
pub mod route;
pub mod secret;
mod stall;
mod status;
mod str;
pub mod tags;
pub mod tls;
pub mod token;
pub mod transport;

pub use auth::{AppClient, NoAuthClient, TeamClient, UserClient};
pub use body::Body;
pub use builder::{BuildError, ClientBuilder};
pub use calls::RawAnswer;
pub use classify::RouteError;
pub use config::{Config, Timeouts};
pub use download::{BodyError, ByteRange, Download};
pub use error::{
    ApiError, Error, ErrorTypes, NoError, RateLimitReason, TimeoutKind, Untyped, UserMessage,
};
pub use hooks::Interceptor;
pub use oauth::{AuthorizeUrlBuilder, PkceCode, TokenAccessType};
pub use paginate::PageError;
pub use retry::{LostAnswer, RetryPolicy};
pub use secret::Secret;
pub use str::Str;
pub use tls::http_client_builder;
pub use token::{
    IssuedToken, RefreshingToken, StaticToken, TokenEndpoint, TokenError, TokenProvider, TokenStore,
};
pub use transport::Transport;
pub use validate::{Validate, ValidationError, Violation};
pub use wire::{Timestamp, TimestampFormat};

/// What generated code needs; not part of the API (see its module docs).
#[doc(hidden)]
#[path = "for_generated/mod.rs"]
pub mod __private;

use __private::{validate, wire};

/// The example of this crate's `README.md`, compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct CrateReadme;
