//! Temporary upload links: a party holding the token issues a link (`get_temporary_upload_link`);
//! any party holding only the link POSTs the bytes to it, once, before it expires.

use std::fmt;
use std::path::Path;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use dropbox_api_runtime::route::{Host, RouteSpec, Style};
use dropbox_api_runtime::{ClientBuilder, LostAnswer, Secret, Transport};
use dropbox_content_hash::{ContentHash, HashMismatch, content_hash, hash_file_parallel};

/// Why using a temporary upload link failed. Messages never contain the link.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// 400: the request was refused (for example a Content-Type other than
    /// `application/octet-stream` or `text/plain`).
    #[error("the link refused the request (400): {0}")]
    BadRequest(String),
    /// 409: the link does not exist, or committing the file failed (a path conflict).
    #[error("the upload through the link failed (409): {0}")]
    Conflict(String),
    /// 410: the link expired or was already used.
    #[error("the link has expired or was already used (410)")]
    Gone,
    /// 410 after an earlier attempt of this upload failed without an answer: most likely
    /// that attempt used the link, and the file is there (the party holding only the link
    /// cannot check; the party holding the token can, by path and content hash).
    #[error(
        "the link was used, most likely by an earlier attempt of this upload whose answer was lost ({attempts} attempts)"
    )]
    UsedByLostAttempt {
        /// Attempts made.
        attempts: u32,
    },
    /// Another status.
    #[error("unexpected status {status} from the link: {body}")]
    Unexpected {
        /// The status.
        status: u16,
        /// The body (truncated).
        body: String,
    },
    /// The link could not be reached, or stopped answering (the message names the timeout).
    #[error("could not reach the link: {0}")]
    Transport(String),
    /// The answer was not `{"content-hash": ...}`.
    #[error("unexpected answer from the link: {0}")]
    Malformed(String),
    /// Dropbox stored different bytes.
    #[error(transparent)]
    HashMismatch(#[from] HashMismatch),
    /// Reading the local file failed.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

impl LinkError {
    /// Whether trying again may succeed (transport failures, 429 and 5xx).
    pub fn is_transient(&self) -> bool {
        matches!(self, LinkError::Transport(_))
            || matches!(self, LinkError::Unexpected { status, .. } if *status >= 500 || *status == 429)
    }
}

/// A temporary upload link. The URL is a bearer secret: `Debug` hides it and nothing logs
/// it; read it with [`TemporaryUploadLink::url`] only to hand it to the uploading party.
///
/// Uploads go through the request lifecycle of a credential-less transport: the timeouts,
/// retry policy and interceptors of the client that issued the link (or the defaults, for a
/// link made with [`TemporaryUploadLink::from_url`]; see
/// [`TemporaryUploadLink::with_transport`]). Retries of 429, 5xx, resets and timeouts
/// resend bytes in memory; a file or stream is sent once.
#[derive(Clone)]
pub struct TemporaryUploadLink {
    url: Secret,
    expires_at: Option<SystemTime>,
    transport: Result<Transport, String>,
}

/// How uploads to temporary links are named for the lifecycle's hooks and logs (the URL is
/// a secret and is never shown).
pub static LINK_UPLOAD: RouteSpec = RouteSpec {
    namespace: "files",
    name: "temporary_upload_link",
    version: 1,
    path: "/apitul/1/(link)",
    host: Host::Content,
    style: Style::Upload,
    auth: "noauth",
    idempotent: false,
};

impl fmt::Debug for TemporaryUploadLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TemporaryUploadLink")
            .field("url", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl TemporaryUploadLink {
    /// A link received from elsewhere (the uploading party needs no token).
    pub fn from_url(url: impl Into<Secret>) -> Self {
        let transport = ClientBuilder::new()
            .build_noauth()
            .map(|c| dropbox_api_runtime::auth::AuthClient::transport(&c).without_credentials())
            .map_err(|e| e.to_string());
        TemporaryUploadLink {
            url: url.into(),
            expires_at: None,
            transport,
        }
    }

    pub(crate) fn issued(url: String, lifetime: Duration, transport: &Transport) -> Self {
        TemporaryUploadLink {
            url: Secret::new(url),
            expires_at: SystemTime::now().checked_add(lifetime),
            transport: Ok(transport.without_credentials()),
        }
    }

    /// Uploads with the timeouts, retry policy and interceptors of `transport` (its
    /// credentials are never sent to the link).
    pub fn with_transport(mut self, transport: &Transport) -> Self {
        self.transport = Ok(transport.without_credentials());
        self
    }

    /// The URL (a secret: hand it only to the party that uploads).
    pub fn url(&self) -> &Secret {
        &self.url
    }

    /// When the link expires, when it was issued here.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }

    /// Uploads bytes and checks the hash Dropbox returns.
    pub async fn upload_bytes(&self, data: impl Into<Bytes>) -> Result<ContentHash, LinkError> {
        let data = data.into();
        let local = content_hash(&data);
        self.post(reqwest::Body::from(data), local).await
    }

    /// Uploads a file (hashed first on all cores, then streamed).
    pub async fn upload_file(&self, path: impl AsRef<Path>) -> Result<ContentHash, LinkError> {
        let path = path.as_ref().to_path_buf();
        let io = |source| LinkError::Io {
            path: path.display().to_string(),
            source,
        };
        let p = path.clone();
        let local = tokio::task::spawn_blocking(move || hash_file_parallel(&p, None))
            .await
            .map_err(|e| io(std::io::Error::other(e)))?
            .map_err(io)?;
        let file = tokio::fs::File::open(&path).await.map_err(io)?;
        let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(file));
        self.post(body, local).await
    }

    /// Uploads a stream whose content hash is already known (checked against Dropbox's).
    pub async fn upload_stream(
        &self,
        body: reqwest::Body,
        expected: ContentHash,
    ) -> Result<ContentHash, LinkError> {
        self.post(body, expected).await
    }

    async fn post(
        &self,
        body: reqwest::Body,
        local: ContentHash,
    ) -> Result<ContentHash, LinkError> {
        let transport = self
            .transport
            .as_ref()
            .map_err(|e| LinkError::Transport(e.clone()))?;
        // Resending after a lost answer is harmless: the link takes one upload, and a second
        // one meets 410, read below with the attempt count.
        let transport = transport.with_retry_policy(
            transport
                .config()
                .retry
                .clone()
                .lost_answer(LostAnswer::Retry),
        );
        let answer = transport
            .post_raw(&LINK_UPLOAD, &self.url, body.into())
            .await
            .map_err(|e| match e.status() {
                Some(status) => LinkError::Unexpected {
                    status,
                    body: e.to_string(),
                },
                None => LinkError::Transport(e.to_string()),
            })?;
        let (status, bytes) = (answer.status, answer.body);
        let text = || {
            let t = String::from_utf8_lossy(&bytes);
            t.chars().take(500).collect::<String>()
        };
        match status {
            200 => {
                #[derive(serde::Deserialize)]
                struct Answer {
                    #[serde(rename = "content-hash")]
                    content_hash: String,
                }
                let a: Answer = serde_json::from_slice(&bytes)
                    .map_err(|e| LinkError::Malformed(e.to_string()))?;
                local.verify(Some(&a.content_hash))?;
                Ok(local)
            }
            400 => Err(LinkError::BadRequest(text())),
            409 => Err(LinkError::Conflict(text())),
            410 if answer.attempts > 1 => Err(LinkError::UsedByLostAttempt {
                attempts: answer.attempts,
            }),
            410 => Err(LinkError::Gone),
            _ => Err(LinkError::Unexpected {
                status,
                body: text(),
            }),
        }
    }
}
