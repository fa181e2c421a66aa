//! The one error type of every route call, mapping Dropbox's HTTP statuses to variants.

use std::fmt;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::validate::ValidationError;

/// The spec types the runtime decodes for protocol-level errors. The generated crate
/// implements this with `auth::AuthError`, `auth::AccessError` and `common::PathRootError`.
pub trait ErrorTypes: 'static {
    /// The body of a 401 (`auth.AuthError`).
    type Auth: DeserializeOwned + fmt::Debug + Clone + Send + Sync + 'static;
    /// The body of a 403 (`auth.AccessError`).
    type Access: DeserializeOwned + fmt::Debug + Clone + Send + Sync + 'static;
    /// The body of a 422 (`common.PathRootError`).
    type PathRoot: DeserializeOwned + fmt::Debug + Clone + Send + Sync + 'static;
}

/// Protocol errors kept as raw JSON, for code that has no generated types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Untyped {}

impl ErrorTypes for Untyped {
    type Auth = serde_json::Value;
    type Access = serde_json::Value;
    type PathRoot = serde_json::Value;
}

/// A message Dropbox suggests showing to the end user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct UserMessage {
    /// The text.
    pub text: String,
    /// Its locale, such as `en`.
    pub locale: String,
}

/// A JSON error envelope: `{"error_summary": ..., "error": ..., "user_message": ...}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError<E> {
    /// The typed error.
    pub error: E,
    /// Dropbox's slash-separated summary of the error tags, for logs (`path/not_found/..`).
    pub summary: String,
    /// A message meant for the end user, when Dropbox sends one.
    pub user_message: Option<UserMessage>,
}

/// Why Dropbox rate-limited a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RateLimitReason {
    /// Too many requests in a short time (per token).
    TooManyRequests,
    /// Too many concurrent writes to one namespace (lock contention).
    TooManyWriteOperations,
    /// A reason this version does not know.
    Other(String),
}

/// What went wrong with a route call. `E` is the route's own error type and `P` supplies
/// the protocol error types.
#[non_exhaustive]
pub enum Error<E, P: ErrorTypes = Untyped> {
    /// HTTP 409: the route's own error.
    Route(ApiError<E>),
    /// HTTP 400: the request was malformed (Dropbox explains in plain text).
    BadRequest(String),
    /// HTTP 401: the token is missing, invalid, expired (after one refresh), or lacks a scope.
    Auth(ApiError<P::Auth>),
    /// HTTP 403: the account may not use this endpoint.
    Access(ApiError<P::Access>),
    /// HTTP 422: the `Dropbox-API-Path-Root` header is invalid.
    PathRoot(ApiError<P::PathRoot>),
    /// HTTP 429: slow down, for `retry_after`.
    RateLimited {
        /// Why.
        reason: RateLimitReason,
        /// How long to wait: the `Retry-After` header, else the body's `retry_after`, else 1 s.
        retry_after: Duration,
    },
    /// HTTP 5xx.
    Server {
        /// The status.
        status: u16,
        /// The body (truncated), usually plain text.
        body: String,
    },
    /// Any other unexpected HTTP status.
    UnexpectedStatus {
        /// The status.
        status: u16,
        /// The body (truncated).
        body: String,
    },
    /// The request could not be sent or the response could not be read.
    Transport(reqwest::Error),
    /// A response (body or `Dropbox-API-Result`) did not decode.
    Decode {
        /// The route's URL path.
        route: &'static str,
        /// The decoder's message.
        message: String,
    },
    /// The argument breaks a constraint of the spec; nothing was sent.
    Validation(ValidationError),
    /// The access token could not be obtained or refreshed.
    Token(crate::token::TokenError),
}

impl<E, P: ErrorTypes> Error<E, P> {
    /// Whether retrying the same request later may succeed: transport failures, 5xx and 429.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Transport(_) | Error::Server { .. } | Error::RateLimited { .. }
        )
    }

    /// How long the server asked to wait (429 only).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// The route's own error, for a 409.
    pub fn route_error(&self) -> Option<&E> {
        match self {
            Error::Route(e) => Some(&e.error),
            _ => None,
        }
    }

    /// The HTTP status, when a response was received.
    pub fn status(&self) -> Option<u16> {
        Some(match self {
            Error::Route(_) => 409,
            Error::BadRequest(_) => 400,
            Error::Auth(_) => 401,
            Error::Access(_) => 403,
            Error::PathRoot(_) => 422,
            Error::RateLimited { .. } => 429,
            Error::Server { status, .. } | Error::UnexpectedStatus { status, .. } => *status,
            Error::Transport(e) => return e.status().map(|s| s.as_u16()),
            Error::Decode { .. } | Error::Validation(_) | Error::Token(_) => return None,
        })
    }

    /// Converts the route error type, keeping every other variant.
    pub fn map_route<F, G: FnOnce(E) -> F>(self, f: G) -> Error<F, P> {
        match self {
            Error::Route(e) => Error::Route(ApiError {
                error: f(e.error),
                summary: e.summary,
                user_message: e.user_message,
            }),
            Error::BadRequest(b) => Error::BadRequest(b),
            Error::Auth(e) => Error::Auth(e),
            Error::Access(e) => Error::Access(e),
            Error::PathRoot(e) => Error::PathRoot(e),
            Error::RateLimited {
                reason,
                retry_after,
            } => Error::RateLimited {
                reason,
                retry_after,
            },
            Error::Server { status, body } => Error::Server { status, body },
            Error::UnexpectedStatus { status, body } => Error::UnexpectedStatus { status, body },
            Error::Transport(e) => Error::Transport(e),
            Error::Decode { route, message } => Error::Decode { route, message },
            Error::Validation(v) => Error::Validation(v),
            Error::Token(t) => Error::Token(t),
        }
    }
}

impl<E: fmt::Debug, P: ErrorTypes> fmt::Debug for Error<E, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Route(e) => f.debug_tuple("Route").field(e).finish(),
            Error::BadRequest(b) => f.debug_tuple("BadRequest").field(b).finish(),
            Error::Auth(e) => f.debug_tuple("Auth").field(e).finish(),
            Error::Access(e) => f.debug_tuple("Access").field(e).finish(),
            Error::PathRoot(e) => f.debug_tuple("PathRoot").field(e).finish(),
            Error::RateLimited {
                reason,
                retry_after,
            } => f
                .debug_struct("RateLimited")
                .field("reason", reason)
                .field("retry_after", retry_after)
                .finish(),
            Error::Server { status, body } => f
                .debug_struct("Server")
                .field("status", status)
                .field("body", body)
                .finish(),
            Error::UnexpectedStatus { status, body } => f
                .debug_struct("UnexpectedStatus")
                .field("status", status)
                .field("body", body)
                .finish(),
            Error::Transport(e) => f.debug_tuple("Transport").field(e).finish(),
            Error::Decode { route, message } => f
                .debug_struct("Decode")
                .field("route", route)
                .field("message", message)
                .finish(),
            Error::Validation(v) => f.debug_tuple("Validation").field(v).finish(),
            Error::Token(t) => f.debug_tuple("Token").field(t).finish(),
        }
    }
}

impl<E: fmt::Debug, P: ErrorTypes> fmt::Display for Error<E, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Route(e) => write!(f, "Dropbox refused the request (409): {}", e.summary),
            Error::BadRequest(b) => write!(f, "bad request (400): {b}"),
            Error::Auth(e) => write!(f, "authentication failed (401): {}", e.summary),
            Error::Access(e) => write!(f, "access denied (403): {}", e.summary),
            Error::PathRoot(e) => write!(f, "invalid path root (422): {}", e.summary),
            Error::RateLimited {
                reason,
                retry_after,
            } => write!(
                f,
                "rate limited (429, {reason:?}); retry after {:.1} s",
                retry_after.as_secs_f64()
            ),
            Error::Server { status, body } => write!(f, "server error ({status}): {body}"),
            Error::UnexpectedStatus { status, body } => {
                write!(f, "unexpected HTTP status {status}: {body}")
            }
            Error::Transport(e) => write!(f, "transport error: {e}"),
            Error::Decode { route, message } => {
                write!(f, "could not decode the response of {route}: {message}")
            }
            Error::Validation(v) => write!(f, "{v}"),
            Error::Token(t) => write!(f, "{t}"),
        }
    }
}

impl<E: fmt::Debug, P: ErrorTypes> std::error::Error for Error<E, P> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Transport(e) => Some(e),
            Error::Validation(v) => Some(v),
            Error::Token(t) => Some(t),
            _ => None,
        }
    }
}

/// The error type of routes whose error is `Void`: any JSON decodes to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NoError;

impl<'de> serde::Deserialize<'de> for NoError {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| NoError)
    }
}

impl fmt::Display for NoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no error details")
    }
}
