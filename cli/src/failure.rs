//! Failures as the user sees them: a message, a hint of what to do, and an exit code that
//! scripts can tell apart.

use std::fmt;

use dropbox_api_runtime::TimeoutKind;
use dropbox_upload::{LinkError, UploadError};

/// What kind of failure, and so which exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 1: anything else.
    Failure,
    /// 2: the command line is wrong.
    Usage,
    /// 3: the credentials were refused.
    Auth,
    /// 4: Dropbox refused the operation (conflict, not found, link gone).
    Refused,
    /// 5: may succeed if tried again.
    Transient,
    /// 6: a content hash did not match.
    Verification,
}

impl Kind {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Kind::Failure => 1,
            Kind::Usage => 2,
            Kind::Auth => 3,
            Kind::Refused => 4,
            Kind::Transient => 5,
            Kind::Verification => 6,
        }
    }

    /// A short name for JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Failure => "failure",
            Kind::Usage => "usage",
            Kind::Auth => "auth",
            Kind::Refused => "refused",
            Kind::Transient => "transient",
            Kind::Verification => "verification",
        }
    }

    fn hint(self) -> Option<&'static str> {
        match self {
            Kind::Auth => Some(
                "check DROPBOX_TOKEN (or DROPBOX_REFRESH_TOKEN with DROPBOX_APP_KEY); tokens expire after 4 hours",
            ),
            Kind::Transient => Some(
                "this may pass if you try again; an interrupted upload continues with `dbx upload --resume`",
            ),
            Kind::Verification => Some("the data changed on the way; upload or download it again"),
            _ => None,
        }
    }
}

/// A failure of a command. Messages never contain secrets: they come from error types
/// that redact tokens and link URLs.
#[derive(Debug)]
pub struct Failure {
    /// The kind (exit code).
    pub kind: Kind,
    /// What went wrong.
    pub message: String,
    /// What to do about it, when there is something specific.
    pub hint: Option<String>,
    /// The JSON result already describes the failure (no separate error document).
    pub reported_in_json: bool,
    /// Dropbox's request id of the failed call, when a response arrived.
    pub request_id: Option<String>,
}

impl Failure {
    /// A failure of a kind.
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Failure {
            kind,
            message: message.into(),
            hint: kind.hint().map(str::to_owned),
            reported_in_json: false,
            request_id: None,
        }
    }

    /// Records the request id.
    pub fn request_id(mut self, id: Option<&str>) -> Self {
        self.request_id = id.map(str::to_owned);
        self
    }

    /// Replaces the hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The kind of an API error.
pub fn api_kind<E: dropbox_api_runtime::RouteError>(e: &dropbox_api::Error<E>) -> Kind {
    use dropbox_api_runtime::Error as E;
    match e {
        E::Auth(_) | E::Token(_) => Kind::Auth,
        E::Route(_) | E::Access(_) | E::PathRoot(_) if !e.is_transient() => Kind::Refused,
        E::BadRequest { .. } | E::Validation(_) => Kind::Failure,
        _ if e.is_transient() => Kind::Transient,
        _ => Kind::Failure,
    }
}

/// The kind of an upload error.
pub fn upload_kind(e: &UploadError) -> Kind {
    match e {
        UploadError::InvalidOptions(_) => Kind::Usage,
        UploadError::Io { .. } | UploadError::State(_) => Kind::Failure,
        UploadError::Api { error, .. } => api_kind(error.as_ref()),
        UploadError::BatchEntry { .. } if e.is_transient() => Kind::Transient,
        UploadError::BatchEntry { .. } => Kind::Refused,
        UploadError::HashMismatch { .. } => Kind::Verification,
        UploadError::SourceChanged(_) => Kind::Refused,
        UploadError::SessionLost { .. } | UploadError::Deadline { .. } => Kind::Transient,
        UploadError::Link(l) => link_kind(l),
        _ if e.is_transient() => Kind::Transient,
        _ => Kind::Failure,
    }
}

/// The kind of a temporary-link error.
pub fn link_kind(e: &LinkError) -> Kind {
    match e {
        LinkError::BadRequest(_) => Kind::Failure,
        LinkError::Conflict(_) | LinkError::Gone | LinkError::UsedByLostAttempt { .. } => {
            Kind::Refused
        }
        LinkError::HashMismatch(_) => Kind::Verification,
        _ if e.is_transient() => Kind::Transient,
        _ => Kind::Failure,
    }
}

/// A hint for refusals whose cause the message names.
fn refusal_hint(message: &str) -> Option<&'static str> {
    if message.contains("not_found") {
        Some("check the path with `dbx ls` (paths start with `/`; case does not matter)")
    } else if message.contains("conflict") {
        Some(
            "something is already there: upload with --mode overwrite or --autorename, or pick another path",
        )
    } else if message.contains("insufficient_space") {
        Some("the Dropbox account is full")
    } else {
        None
    }
}

/// Adds the refusal hint when there is one.
fn with_refusal_hint(f: Failure) -> Failure {
    match (f.kind, refusal_hint(&f.message)) {
        (Kind::Refused, Some(h)) => f.hint(h),
        _ => f,
    }
}

impl<E: dropbox_api_runtime::RouteError> From<dropbox_api::Error<E>> for Failure {
    fn from(e: dropbox_api::Error<E>) -> Self {
        let kind = api_kind(&e);
        let f = Failure::new(kind, e.to_string()).request_id(e.request_id());
        match e.timeout() {
            Some((t, _)) => f.hint(timeout_hint(t)),
            None => with_refusal_hint(f),
        }
    }
}

/// The hint after an idle timeout (a stalled connection or download).
pub const TIMEOUT_HINT: &str = "the connection stalled: try again; on a slow network allow longer with --timeout (e.g. --timeout 5m) and more attempts with --retries";

/// The hint after a timeout of a kind.
fn timeout_hint(kind: TimeoutKind) -> &'static str {
    match kind {
        TimeoutKind::Connect => {
            "no connection could be made in time: check the network and the server address (--base-url)"
        }
        TimeoutKind::Idle => TIMEOUT_HINT,
        _ => "the request took too long: try again, or allow more attempts with --retries",
    }
}

impl From<UploadError> for Failure {
    fn from(e: UploadError) -> Self {
        let kind = upload_kind(&e);
        let f = Failure::new(kind, e.to_string()).request_id(e.request_id());
        match &e {
            UploadError::SourceChanged(_) => f.hint(
                "the file changed since the interrupted upload; upload it again without --resume",
            ),
            UploadError::SessionLost { .. } => f.hint(
                "the server lost the upload session (a restart, or it expired); run the upload again",
            ),
            _ => match e.api_error().and_then(|a| a.timeout()) {
                Some((t, _)) => f.hint(timeout_hint(t)),
                None => with_refusal_hint(f),
            },
        }
    }
}

impl From<LinkError> for Failure {
    fn from(e: LinkError) -> Self {
        let kind = link_kind(&e);
        let f = Failure::new(kind, e.to_string());
        match e {
            LinkError::Gone => f.hint("links work once and expire; ask for a new one"),
            LinkError::UsedByLostAttempt { .. } => f.hint(
                "the file is most likely there: whoever issued the link can check it with `dbx ls`",
            ),
            _ => f,
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::new(Kind::Failure, e.to_string())
    }
}

/// The result of a command.
pub type CmdResult<T = ()> = Result<T, Failure>;
