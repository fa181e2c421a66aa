//! Interceptors: code of the application's that the request lifecycle calls before and after
//! every attempt, for metrics, logging, tracing headers or tests that count retries.
//!
//! ```
//! use std::sync::atomic::{AtomicU32, Ordering};
//! use dropbox_api_runtime::hooks::{AttemptEnd, AttemptStart, Interceptor};
//!
//! #[derive(Default)]
//! struct CountRetries(AtomicU32);
//!
//! impl Interceptor for CountRetries {
//!     fn after_attempt(&self, end: &AttemptEnd<'_>) {
//!         if end.retry_in.is_some() {
//!             self.0.fetch_add(1, Ordering::Relaxed);
//!         }
//!     }
//! }
//! # let _ = dropbox_api_runtime::ClientBuilder::new().interceptor(CountRetries::default());
//! ```

use std::time::Duration;

use crate::error::TimeoutKind;
use crate::route::RouteSpec;

/// Called by the request lifecycle around each attempt. Both methods do nothing by default.
/// They run on the task making the call: keep them quick and never block.
pub trait Interceptor: Send + Sync + 'static {
    /// Before attempt `start.attempt` is sent; may add or change headers of the request.
    /// The `Authorization` header is marked sensitive, so `Debug` of the request hides it.
    /// When `start.url_is_secret` (an upload to a temporary upload link, whose URL is the
    /// only credential), the request's URL and its `Debug` are secret: never log them.
    fn before_attempt(&self, start: &AttemptStart<'_>, request: &mut reqwest::Request) {
        let _ = (start, request);
    }

    /// After the attempt: its outcome, and whether the lifecycle will try again.
    fn after_attempt(&self, end: &AttemptEnd<'_>) {
        let _ = end;
    }
}

/// A shared interceptor (keep an `Arc` to read what it recorded).
impl<T: Interceptor + ?Sized> Interceptor for std::sync::Arc<T> {
    fn before_attempt(&self, start: &AttemptStart<'_>, request: &mut reqwest::Request) {
        (**self).before_attempt(start, request)
    }

    fn after_attempt(&self, end: &AttemptEnd<'_>) {
        (**self).after_attempt(end)
    }
}

/// What an attempt is about to do.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct AttemptStart<'a> {
    /// The route.
    pub route: &'a RouteSpec,
    /// The attempt number, 1 for the first.
    pub attempt: u32,
    /// The request's URL is a secret (a temporary upload link).
    pub url_is_secret: bool,
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct AttemptEnd<'a> {
    /// The route.
    pub route: &'a RouteSpec,
    /// The attempt number, 1 for the first.
    pub attempt: u32,
    /// What happened.
    pub outcome: Outcome<'a>,
    /// How long the attempt took.
    pub elapsed: Duration,
    /// Dropbox's request id, when a response arrived.
    pub request_id: Option<&'a str>,
    /// When the lifecycle will try again: after this delay. `None`: this was the last attempt.
    pub retry_in: Option<Duration>,
}

/// The outcome of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome<'a> {
    /// A response with this status arrived (and, for rpc and upload routes, its body).
    Status(u16),
    /// A bound of the timeouts fired.
    Timeout(TimeoutKind),
    /// The connection failed; the message never contains URLs or tokens.
    Transport(&'a str),
    /// The access token could not be obtained.
    Token,
}
