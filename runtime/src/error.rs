//! The one error type of every route call, mapping Dropbox's HTTP statuses to variants.

use std::fmt;
use std::time::Duration;

use serde::de::DeserializeOwned;

pub use crate::classify::RouteError;
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
    /// Dropbox's `X-Dropbox-Request-Id` of the response, the one thing Dropbox support asks for.
    pub request_id: Option<String>,
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

/// Which bound of [`Timeouts`](crate::Timeouts) ended an attempt or a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeoutKind {
    /// No connection could be established in time.
    Connect,
    /// Too few bytes moved in either direction for the idle timeout.
    Idle,
    /// One attempt took longer than the per-attempt timeout.
    Attempt,
    /// The whole call (all attempts and waits) took longer than the per-call timeout.
    Call,
}

impl TimeoutKind {
    /// The name used in messages: `connect`, `idle`, `attempt` or `call`.
    pub fn name(self) -> &'static str {
        match self {
            TimeoutKind::Connect => "connect",
            TimeoutKind::Idle => "idle",
            TimeoutKind::Attempt => "attempt",
            TimeoutKind::Call => "call",
        }
    }
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What went wrong with a route call. `E` is the route's own error type and `P` supplies
/// the protocol error types.
///
/// Every variant made from a response keeps Dropbox's request id
/// ([`Error::request_id`]), and `Display` shows it.
#[non_exhaustive]
pub enum Error<E, P: ErrorTypes = Untyped> {
    /// HTTP 409: the route's own error.
    Route(ApiError<E>),
    /// HTTP 400: the request was malformed (Dropbox explains in plain text).
    BadRequest {
        /// Dropbox's explanation.
        message: String,
        /// The response's request id.
        request_id: Option<String>,
    },
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
        /// The response's request id.
        request_id: Option<String>,
    },
    /// HTTP 5xx.
    Server {
        /// The status.
        status: u16,
        /// The body (truncated), usually plain text.
        body: String,
        /// The response's request id.
        request_id: Option<String>,
    },
    /// Any other unexpected HTTP status.
    UnexpectedStatus {
        /// The status.
        status: u16,
        /// The body (truncated).
        body: String,
        /// The response's request id.
        request_id: Option<String>,
    },
    /// The request could not be sent or the response could not be read (refused, reset).
    Transport {
        /// The HTTP client's error (without the URL).
        source: reqwest::Error,
        /// The request id, when the response headers had arrived.
        request_id: Option<String>,
    },
    /// A bound of [`Timeouts`](crate::Timeouts) fired.
    Timeout {
        /// Which one.
        kind: TimeoutKind,
        /// After how long.
        after: Duration,
        /// The request id, when the response headers had arrived.
        request_id: Option<String>,
    },
    /// A response (body or `Dropbox-API-Result`) did not decode.
    Decode {
        /// The route's URL path.
        route: &'static str,
        /// The decoder's message.
        message: String,
        /// The response's request id.
        request_id: Option<String>,
    },
    /// The argument breaks a constraint of the spec; nothing was sent.
    Validation(ValidationError),
    /// The access token could not be obtained or refreshed.
    Token(crate::token::TokenError),
}

/// How the request lifecycle treats a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Trying again cannot help.
    Permanent,
    /// The request was refused or never arrived, so it had no effect: safe to send again,
    /// after the wait the server asked for, if any.
    Refused(Option<Duration>),
    /// The request may have taken effect but the answer was lost.
    Lost,
}

impl<E, P: ErrorTypes> Error<E, P> {
    /// The route's own error, for a 409.
    pub fn route_error(&self) -> Option<&E> {
        match self {
            Error::Route(e) => Some(&e.error),
            _ => None,
        }
    }

    /// Dropbox's `X-Dropbox-Request-Id`, when a response (or its headers) arrived.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Route(ApiError { request_id, .. })
            | Error::Auth(ApiError { request_id, .. })
            | Error::Access(ApiError { request_id, .. })
            | Error::PathRoot(ApiError { request_id, .. })
            | Error::BadRequest { request_id, .. }
            | Error::RateLimited { request_id, .. }
            | Error::Server { request_id, .. }
            | Error::UnexpectedStatus { request_id, .. }
            | Error::Transport { request_id, .. }
            | Error::Timeout { request_id, .. }
            | Error::Decode { request_id, .. } => request_id.as_deref(),
            Error::Validation(_) | Error::Token(_) => None,
        }
    }

    /// The timeout that fired, and after how long.
    pub fn timeout(&self) -> Option<(TimeoutKind, Duration)> {
        match self {
            Error::Timeout { kind, after, .. } => Some((*kind, *after)),
            _ => None,
        }
    }

    /// The HTTP status, when a response was received.
    pub fn status(&self) -> Option<u16> {
        Some(match self {
            Error::Route(_) => 409,
            Error::BadRequest { .. } => 400,
            Error::Auth(_) => 401,
            Error::Access(_) => 403,
            Error::PathRoot(_) => 422,
            Error::RateLimited { .. } => 429,
            Error::Server { status, .. } | Error::UnexpectedStatus { status, .. } => *status,
            Error::Transport { source, .. } => return source.status().map(|s| s.as_u16()),
            Error::Timeout { .. }
            | Error::Decode { .. }
            | Error::Validation(_)
            | Error::Token(_) => return None,
        })
    }

    /// Sets the request id on a variant that has none yet (the lifecycle does this for
    /// failures that happen after the response headers arrived).
    pub(crate) fn with_request_id(mut self, id: Option<&str>) -> Self {
        let Some(id) = id else { return self };
        match &mut self {
            Error::Route(ApiError { request_id, .. })
            | Error::Auth(ApiError { request_id, .. })
            | Error::Access(ApiError { request_id, .. })
            | Error::PathRoot(ApiError { request_id, .. })
            | Error::BadRequest { request_id, .. }
            | Error::RateLimited { request_id, .. }
            | Error::Server { request_id, .. }
            | Error::UnexpectedStatus { request_id, .. }
            | Error::Transport { request_id, .. }
            | Error::Timeout { request_id, .. }
            | Error::Decode { request_id, .. } => {
                if request_id.is_none() {
                    *request_id = Some(id.to_owned());
                }
            }
            Error::Validation(_) | Error::Token(_) => {}
        }
        self
    }

    /// Converts the route error type, keeping every other variant.
    pub fn map_route<F, G: FnOnce(E) -> F>(self, f: G) -> Error<F, P> {
        match self {
            Error::Route(e) => Error::Route(ApiError {
                error: f(e.error),
                summary: e.summary,
                user_message: e.user_message,
                request_id: e.request_id,
            }),
            Error::BadRequest {
                message,
                request_id,
            } => Error::BadRequest {
                message,
                request_id,
            },
            Error::Auth(e) => Error::Auth(e),
            Error::Access(e) => Error::Access(e),
            Error::PathRoot(e) => Error::PathRoot(e),
            Error::RateLimited {
                reason,
                retry_after,
                request_id,
            } => Error::RateLimited {
                reason,
                retry_after,
                request_id,
            },
            Error::Server {
                status,
                body,
                request_id,
            } => Error::Server {
                status,
                body,
                request_id,
            },
            Error::UnexpectedStatus {
                status,
                body,
                request_id,
            } => Error::UnexpectedStatus {
                status,
                body,
                request_id,
            },
            Error::Transport { source, request_id } => Error::Transport { source, request_id },
            Error::Timeout {
                kind,
                after,
                request_id,
            } => Error::Timeout {
                kind,
                after,
                request_id,
            },
            Error::Decode {
                route,
                message,
                request_id,
            } => Error::Decode {
                route,
                message,
                request_id,
            },
            Error::Validation(v) => Error::Validation(v),
            Error::Token(t) => Error::Token(t),
        }
    }

    /// Boxes the route error as a [`RouteError`] trait object, so that errors of different
    /// routes fit one type and keep their classification.
    pub fn boxed(self) -> Error<Box<dyn RouteError>, P>
    where
        E: RouteError,
    {
        self.map_route(|e| Box::new(e) as Box<dyn RouteError>)
    }
}

impl<E: RouteError, P: ErrorTypes> Error<E, P> {
    /// Whether retrying the same request later may succeed: transport failures, timeouts,
    /// 5xx, 429, and route errors that mean "try later" (see [`RouteError`]).
    pub fn is_transient(&self) -> bool {
        self.class() != Class::Permanent || matches!(self, Error::Timeout { .. })
    }

    /// How long the server asked to wait: a 429's `Retry-After`, or the `retry_after` of a
    /// rate-limit error inside the route's error.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => Some(*retry_after),
            Error::Route(e) => e.error.retry_after(),
            _ => None,
        }
    }

    /// How the lifecycle treats this failure.
    pub(crate) fn class(&self) -> Class {
        match self {
            Error::Transport { source, .. } if source.is_connect() => Class::Refused(None),
            Error::Transport { .. } => Class::Lost,
            Error::Timeout {
                kind: TimeoutKind::Connect,
                ..
            } => Class::Refused(None),
            Error::Timeout {
                kind: TimeoutKind::Idle | TimeoutKind::Attempt,
                ..
            } => Class::Lost,
            Error::Timeout {
                kind: TimeoutKind::Call,
                ..
            } => Class::Permanent,
            Error::RateLimited { retry_after, .. } => Class::Refused(Some(*retry_after)),
            Error::Server { status: 503, .. } => Class::Refused(None),
            Error::Server { .. } => Class::Lost,
            Error::Route(e) if e.error.is_transient() => Class::Refused(e.error.retry_after()),
            _ => Class::Permanent,
        }
    }
}

impl<E: fmt::Debug, P: ErrorTypes> fmt::Debug for Error<E, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Route(e) => f.debug_tuple("Route").field(e).finish(),
            Error::BadRequest {
                message,
                request_id,
            } => f
                .debug_struct("BadRequest")
                .field("message", message)
                .field("request_id", request_id)
                .finish(),
            Error::Auth(e) => f.debug_tuple("Auth").field(e).finish(),
            Error::Access(e) => f.debug_tuple("Access").field(e).finish(),
            Error::PathRoot(e) => f.debug_tuple("PathRoot").field(e).finish(),
            Error::RateLimited {
                reason,
                retry_after,
                request_id,
            } => f
                .debug_struct("RateLimited")
                .field("reason", reason)
                .field("retry_after", retry_after)
                .field("request_id", request_id)
                .finish(),
            Error::Server {
                status,
                body,
                request_id,
            } => f
                .debug_struct("Server")
                .field("status", status)
                .field("body", body)
                .field("request_id", request_id)
                .finish(),
            Error::UnexpectedStatus {
                status,
                body,
                request_id,
            } => f
                .debug_struct("UnexpectedStatus")
                .field("status", status)
                .field("body", body)
                .field("request_id", request_id)
                .finish(),
            Error::Transport { source, request_id } => f
                .debug_struct("Transport")
                .field("source", source)
                .field("request_id", request_id)
                .finish(),
            Error::Timeout {
                kind,
                after,
                request_id,
            } => f
                .debug_struct("Timeout")
                .field("kind", kind)
                .field("after", after)
                .field("request_id", request_id)
                .finish(),
            Error::Decode {
                route,
                message,
                request_id,
            } => f
                .debug_struct("Decode")
                .field("route", route)
                .field("message", message)
                .field("request_id", request_id)
                .finish(),
            Error::Validation(v) => f.debug_tuple("Validation").field(v).finish(),
            Error::Token(t) => f.debug_tuple("Token").field(t).finish(),
        }
    }
}

impl<E: fmt::Debug, P: ErrorTypes> fmt::Display for Error<E, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Route(e) => write!(f, "Dropbox refused the request (409): {}", e.summary)?,
            Error::BadRequest { message, .. } => write!(f, "bad request (400): {message}")?,
            Error::Auth(e) => write!(f, "authentication failed (401): {}", e.summary)?,
            Error::Access(e) => write!(f, "access denied (403): {}", e.summary)?,
            Error::PathRoot(e) => write!(f, "invalid path root (422): {}", e.summary)?,
            Error::RateLimited {
                reason,
                retry_after,
                ..
            } => write!(
                f,
                "rate limited (429, {reason:?}); retry after {:.1} s",
                retry_after.as_secs_f64()
            )?,
            Error::Server { status, body, .. } => write!(f, "server error ({status}): {body}")?,
            Error::UnexpectedStatus { status, body, .. } => {
                write!(f, "unexpected HTTP status {status}: {body}")?
            }
            Error::Transport { source, .. } => write!(f, "transport error: {source}")?,
            Error::Timeout { kind, after, .. } => match kind {
                TimeoutKind::Connect => write!(
                    f,
                    "connect timeout: no connection after {:.1} s",
                    after.as_secs_f64()
                )?,
                TimeoutKind::Idle => write!(
                    f,
                    "idle timeout: the connection stalled (no data moving for {:.1} s)",
                    after.as_secs_f64()
                )?,
                TimeoutKind::Attempt => write!(
                    f,
                    "attempt timeout: no complete answer after {:.1} s",
                    after.as_secs_f64()
                )?,
                TimeoutKind::Call => write!(
                    f,
                    "call timeout: the call did not finish within {:.1} s",
                    after.as_secs_f64()
                )?,
            },
            Error::Decode { route, message, .. } => {
                write!(f, "could not decode the response of {route}: {message}")?
            }
            Error::Validation(v) => write!(f, "{v}")?,
            Error::Token(t) => write!(f, "{t}")?,
        }
        if let Some(id) = self.request_id() {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl<E: RouteError, P: ErrorTypes> std::error::Error for Error<E, P> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Route(e) => e
                .error
                .as_error()
                .map(|e| e as &(dyn std::error::Error + 'static)),
            Error::Transport { source, .. } => Some(source),
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

impl RouteError for NoError {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl std::error::Error for NoError {}

impl fmt::Display for NoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no error details")
    }
}
