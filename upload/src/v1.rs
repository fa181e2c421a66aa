//! The legacy v1 chunked upload, through the client generated from our OpenAPI description
//! (`dropbox_api::v1`): chunks PUT in order, resuming from the offset a 400 carries, then a
//! commit to a path.

use std::fmt;

use bytes::Bytes;
use dropbox_api::v1::{Client, types};
use dropbox_api_runtime::{RetryPolicy, Secret, Timeouts};
use dropbox_content_hash::{ContentHash, HashMismatch, content_hash};

/// Why a v1 chunked upload failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum V1Error {
    /// The server refused a request.
    #[error("{operation} failed ({status}): {message}")]
    Refused {
        /// `chunked_upload` or `commit_chunked_upload`.
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// The server's explanation.
        message: String,
    },
    /// Transport or decoding failure.
    #[error("{operation} failed: {message}")]
    Failed {
        /// The operation.
        operation: &'static str,
        /// What went wrong (without URLs or tokens).
        message: String,
    },
    /// The server kept asking for an offset the uploader cannot provide.
    #[error("the server asked to resume at offset {0}, outside the data")]
    BadOffset(i64),
    /// The committed file's hash differs.
    #[error(transparent)]
    HashMismatch(#[from] HashMismatch),
}

/// Transport failures, 5xx and 429 may succeed when tried again.
fn is_transient<E>(e: &dropbox_api::v1::Error<E>) -> bool {
    match e {
        dropbox_api::v1::Error::CommunicationError(_) => true,
        dropbox_api::v1::Error::ErrorResponse(r) => {
            r.status().is_server_error() || r.status().as_u16() == 429
        }
        dropbox_api::v1::Error::UnexpectedResponse(r) => {
            r.status().is_server_error() || r.status().as_u16() == 429
        }
        _ => false,
    }
}

/// A v1 chunked uploader on the content host.
///
/// The v1 client is progenitor's, outside the runtime's request lifecycle: it retries
/// transient failures itself ([`V1Uploader::with_retry`]) and bounds every request as a
/// whole, since it cannot watch bytes move: connect within `Timeouts::connect`, and finish
/// within `Timeouts::attempt`, or ten idle periods when no attempt timeout is set (10 minutes
/// by default) ([`V1Uploader::with_timeouts`]).
pub struct V1Uploader {
    client: Client,
    base_url: String,
    retry: RetryPolicy,
    auth: reqwest::header::HeaderValue,
}

impl fmt::Debug for V1Uploader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("V1Uploader")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

async fn describe<E: fmt::Debug>(operation: &'static str, e: dropbox_api::v1::Error<E>) -> V1Error {
    match e {
        dropbox_api::v1::Error::UnexpectedResponse(r) => {
            let status = r.status().as_u16();
            let body = r.text().await.unwrap_or_default();
            V1Error::Refused {
                operation,
                status,
                message: body.chars().take(300).collect(),
            }
        }
        dropbox_api::v1::Error::ErrorResponse(r) => V1Error::Refused {
            operation,
            status: r.status().as_u16(),
            message: format!("{:?}", r.into_inner()),
        },
        dropbox_api::v1::Error::CommunicationError(e) => V1Error::Failed {
            operation,
            message: e.without_url().to_string(),
        },
        other => V1Error::Failed {
            operation,
            message: other.to_string(),
        },
    }
}

impl V1Uploader {
    /// An uploader for the server at `base_url` (the content host) with an access token.
    pub fn new(base_url: &str, access_token: &Secret) -> Result<Self, V1Error> {
        let mut auth =
            reqwest::header::HeaderValue::from_str(&format!("Bearer {}", access_token.expose()))
                .map_err(|_| V1Error::Failed {
                    operation: "setup",
                    message: "the token is not a valid header value".into(),
                })?;
        auth.set_sensitive(true);
        let base_url = base_url.trim_end_matches('/').to_owned();
        let client = Self::http(&base_url, &auth, &Timeouts::default())?;
        Ok(V1Uploader {
            client,
            base_url,
            retry: RetryPolicy::default(),
            auth,
        })
    }

    fn http(
        base_url: &str,
        auth: &reqwest::header::HeaderValue,
        timeouts: &Timeouts,
    ) -> Result<Client, V1Error> {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::AUTHORIZATION, auth.clone());
        let whole = timeouts
            .attempt
            .or(timeouts.idle.map(|i| i * 10))
            .unwrap_or(std::time::Duration::from_secs(600));
        let http = dropbox_api_runtime::http_client_builder()
            .default_headers(headers)
            .connect_timeout(timeouts.connect)
            .timeout(whole)
            .build()
            .map_err(|e| V1Error::Failed {
                operation: "setup",
                message: e.to_string(),
            })?;
        Ok(Client::new_with_client(base_url, http))
    }

    /// Sets the bounds of every request (see the type's docs for how they apply here).
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Result<Self, V1Error> {
        self.client = Self::http(&self.base_url, &self.auth, &timeouts)?;
        Ok(self)
    }

    /// Sets how often and how patiently a chunk that failed transiently is sent again.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sends `data` in chunks of `chunk_size` bytes; when the server answers 400 with its
    /// current offset, continues from there. Returns the upload id.
    pub async fn chunked_upload(&self, data: &Bytes, chunk_size: usize) -> Result<String, V1Error> {
        let chunk_size = chunk_size.max(1);
        let mut upload_id: Option<String> = None;
        let mut offset: usize = 0;
        let mut resyncs = 0;
        let mut transient = 0u32;
        loop {
            let end = (offset + chunk_size).min(data.len());
            let chunk = data.slice(offset..end);
            let result = self
                .client
                .chunked_upload(Some(offset as i64), upload_id.as_deref(), chunk)
                .await;
            match result {
                Ok(progress) => {
                    let progress = progress.into_inner();
                    upload_id = Some(progress.upload_id);
                    offset = usize::try_from(progress.offset)
                        .map_err(|_| V1Error::BadOffset(progress.offset))?;
                }
                Err(dropbox_api::v1::Error::ErrorResponse(r)) if r.status().as_u16() == 400 => {
                    let body: types::ChunkedUploadError = r.into_inner();
                    let Some(server) = body.offset else {
                        return Err(V1Error::Refused {
                            operation: "chunked_upload",
                            status: 400,
                            message: body.error.unwrap_or_default(),
                        });
                    };
                    resyncs += 1;
                    let server = usize::try_from(server).map_err(|_| V1Error::BadOffset(server))?;
                    if server > data.len() || resyncs > 16 {
                        return Err(V1Error::BadOffset(server as i64));
                    }
                    tracing::debug!(target: "dropbox_upload", offset, server, "v1: resuming at the server's offset");
                    if let Some(id) = body.upload_id {
                        upload_id = Some(id);
                    }
                    offset = server;
                    continue;
                }
                Err(e) if is_transient(&e) && transient + 1 < self.retry.max_attempts => {
                    // The chunk may or may not have been stored: send it again at the same
                    // offset, and a 400 carrying the server's offset puts us right.
                    transient += 1;
                    let delay = self.retry.backoff(transient, None);
                    tracing::debug!(target: "dropbox_upload", offset, ?delay, "v1: retrying a chunk");
                    tokio::time::sleep(delay).await;
                    continue;
                }
                Err(e) => return Err(describe("chunked_upload", e).await),
            }
            transient = 0;
            if offset >= data.len() {
                break;
            }
        }
        upload_id.ok_or_else(|| V1Error::Failed {
            operation: "chunked_upload",
            message: "no upload id".into(),
        })
    }

    /// Commits an upload to `path` (relative to `root`), checking the content hash when the
    /// server reports one.
    pub async fn commit(
        &self,
        root: types::Root,
        path: &str,
        upload_id: &str,
        overwrite: bool,
        expected: Option<ContentHash>,
    ) -> Result<types::V1Metadata, V1Error> {
        let meta = self
            .client
            .commit_chunked_upload(
                root,
                path.trim_start_matches('/'),
                Some(false),
                Some(overwrite),
                None,
                upload_id,
            )
            .await;
        let meta = match meta {
            Ok(m) => m.into_inner(),
            Err(e) => return Err(describe("commit_chunked_upload", e).await),
        };
        // A v1 answer may carry no hash; only a reported one is checked.
        if let (Some(local), Some(reported)) = (expected, meta.content_hash.as_deref()) {
            local.verify(Some(reported))?;
        }
        Ok(meta)
    }

    /// Uploads and commits `data` in one go.
    pub async fn upload(
        &self,
        data: Bytes,
        root: types::Root,
        path: &str,
        chunk_size: usize,
    ) -> Result<types::V1Metadata, V1Error> {
        let id = self.chunked_upload(&data, chunk_size).await?;
        self.commit(root, path, &id, true, Some(content_hash(&data)))
            .await
    }
}
