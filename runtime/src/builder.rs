//! Building clients: credentials, hosts, timeouts, retry policy, interceptors, path root.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderValue;
use serde::Serialize;

use crate::auth::{AppClient, NoAuthClient, TeamClient, UserClient};
use crate::config::{Config, Timeouts};
use crate::credentials::{Credentials, LazyRefresh};
use crate::header::escape_header_json;
use crate::hooks::Interceptor;
use crate::retry::RetryPolicy;
use crate::secret::Secret;
use crate::token::{StaticToken, TokenProvider};
use crate::transport::Transport;

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// No credentials were given for a client that needs them.
    #[error("no credentials: give an access token, a refresh token or app credentials")]
    MissingCredentials,
    /// The HTTP client could not be created.
    #[error("could not create the HTTP client: {0}")]
    Http(String),
    /// A base URL is not a URL.
    #[error("invalid base URL `{0}`")]
    BadUrl(String),
    /// The path root could not be encoded.
    #[error("invalid path root: {0}")]
    PathRoot(String),
}

/// Builds clients: credentials, hosts, timeouts, retry policy, interceptors, user agent,
/// path root.
///
/// ```no_run
/// use std::time::Duration;
/// use dropbox_api_runtime::{ClientBuilder, RetryPolicy};
/// let client = ClientBuilder::new()
///     .access_token("sl.example-token")
///     .base_url("http://127.0.0.1:8080") // a local emulator
///     .idle_timeout(Duration::from_secs(20))
///     .retry_policy(RetryPolicy::default().retries(3))
///     .build_user()
///     .unwrap();
/// # let _ = client;
/// ```
#[derive(Default)]
pub struct ClientBuilder {
    config: Config,
    credentials: Option<Credentials>,
    path_root: Option<Result<String, String>>,
    http: Option<reqwest::Client>,
    interceptors: Vec<Arc<dyn Interceptor>>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .field("credentials", &self.credentials)
            .field("path_root", &self.path_root)
            .field("interceptors", &self.interceptors.len())
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// A builder for the real Dropbox servers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Authenticate with a fixed access token.
    pub fn access_token(self, token: impl Into<Secret>) -> Self {
        self.token_provider(StaticToken::new(token))
    }

    /// Authenticate with tokens from a provider (for example a [`RefreshingToken`](crate::token::RefreshingToken)).
    pub fn token_provider(mut self, provider: impl TokenProvider) -> Self {
        self.credentials = Some(Credentials::Bearer(Arc::new(provider)));
        self
    }

    /// Authenticate with a refresh token (and the app secret, unless the app uses PKCE);
    /// access tokens are fetched from the token endpoint and refreshed before they expire.
    pub fn refresh_token(
        mut self,
        refresh_token: impl Into<Secret>,
        app_key: impl Into<String>,
        app_secret: Option<Secret>,
    ) -> Self {
        self.credentials = Some(Credentials::Bearer(Arc::new(LazyRefresh {
            refresh_token: refresh_token.into(),
            app_key: app_key.into(),
            app_secret,
            inner: std::sync::OnceLock::new(),
        })));
        self
    }

    /// App authentication (HTTP Basic with the app key and secret), for `app` routes.
    pub fn app_credentials(mut self, app_key: &str, app_secret: impl Into<Secret>) -> Self {
        self.credentials = Some(Credentials::basic(app_key, &app_secret.into()));
        self
    }

    /// Sends every host (api, content, notify) and the token endpoint to one server, such as
    /// a local emulator at `http://127.0.0.1:PORT`.
    pub fn base_url(mut self, url: &str) -> Self {
        let url = url.trim_end_matches('/');
        self.config.api_url = url.into();
        self.config.content_url = url.into();
        self.config.notify_url = url.into();
        self.config.token_url = format!("{url}/oauth2/token");
        self
    }

    /// The base URL of the `api` host.
    pub fn api_url(mut self, url: &str) -> Self {
        self.config.api_url = url.trim_end_matches('/').into();
        self
    }

    /// The base URL of the `content` host.
    pub fn content_url(mut self, url: &str) -> Self {
        self.config.content_url = url.trim_end_matches('/').into();
        self
    }

    /// The base URL of the `notify` host.
    pub fn notify_url(mut self, url: &str) -> Self {
        self.config.notify_url = url.trim_end_matches('/').into();
        self
    }

    /// The OAuth2 token endpoint.
    pub fn token_url(mut self, url: &str) -> Self {
        self.config.token_url = url.into();
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.config.user_agent = ua.into();
        self
    }

    /// All timeouts at once (see [`Timeouts`] for the defaults).
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.config.timeouts = timeouts;
        self
    }

    /// Timeout of establishing a connection (10 s by default).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.timeouts.connect = timeout;
        self
    }

    /// The idle timeout: the longest a transfer may go on with next to no bytes moving
    /// (60 s by default).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.config.timeouts.idle = Some(timeout);
        self
    }

    /// Timeout of each attempt, from the request to the end of the answer (none by default).
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.config.timeouts.attempt = Some(timeout);
        self
    }

    /// Timeout of a whole call, retries included (none by default).
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.config.timeouts.call = Some(timeout);
        self
    }

    /// The retry policy of every call (see [`RetryPolicy`]; a client's
    /// `with_retry_policy` overrides it for the calls made through that client).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.config.retry = policy;
        self
    }

    /// Adds an interceptor, called around every attempt of every call (in the order added).
    pub fn interceptor(mut self, interceptor: impl Interceptor) -> Self {
        self.interceptors.push(Arc::new(interceptor));
        self
    }

    /// Sets `Dropbox-API-Path-Root` on every request, e.g. `&common::PathRoot::Root(nsid)`.
    pub fn path_root<T: Serialize>(mut self, root: &T) -> Self {
        self.path_root = Some(serde_json::to_string(root).map_err(|e| e.to_string()));
        self
    }

    /// Uses an existing `reqwest::Client` (its TLS settings and connect timeout apply; the
    /// idle, attempt and call timeouts and the retry policy still apply on top).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    fn transport(self, require_credentials: bool) -> Result<Transport, BuildError> {
        for url in [
            &self.config.api_url,
            &self.config.content_url,
            &self.config.notify_url,
            &self.config.token_url,
        ] {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(BuildError::BadUrl(url.clone()));
            }
        }
        let http = match self.http {
            Some(h) => h,
            None => crate::tls::http_client_builder()
                .connect_timeout(self.config.timeouts.connect)
                .build()
                .map_err(|e| BuildError::Http(e.to_string()))?,
        };
        let credentials = match self.credentials {
            Some(c) => c,
            None if require_credentials => return Err(BuildError::MissingCredentials),
            None => Credentials::None,
        };
        let config = Arc::new(self.config);
        // A refresh-token provider needs the HTTP client and token URL, known only now.
        if let Some(p) = credentials.provider() {
            p.bind(&http, &config.token_url);
        }
        let path_root = match self.path_root {
            None => None,
            Some(Err(e)) => return Err(BuildError::PathRoot(e)),
            Some(Ok(json)) => Some(
                HeaderValue::from_str(&escape_header_json(&json))
                    .map_err(|e| BuildError::PathRoot(e.to_string()))?,
            ),
        };
        Ok(Transport {
            http,
            config,
            credentials,
            select: None,
            path_root,
            interceptors: self.interceptors.into(),
        })
    }

    /// A client for `user` routes.
    pub fn build_user(self) -> Result<UserClient, BuildError> {
        Ok(UserClient::from_transport(self.transport(true)?))
    }

    /// A client for `team` routes (with a team token).
    pub fn build_team(self) -> Result<TeamClient, BuildError> {
        Ok(TeamClient::from_transport(self.transport(true)?))
    }

    /// A client for `app` routes (with [`ClientBuilder::app_credentials`]).
    pub fn build_app(self) -> Result<AppClient, BuildError> {
        Ok(AppClient::from_transport(self.transport(true)?))
    }

    /// A client for `noauth` routes.
    pub fn build_noauth(mut self) -> Result<NoAuthClient, BuildError> {
        self.credentials = Some(Credentials::None);
        Ok(NoAuthClient::from_transport(self.transport(false)?))
    }
}

impl UserClient {
    /// A client for the real Dropbox servers with a fixed access token.
    pub fn new(access_token: impl Into<Secret>) -> Result<Self, BuildError> {
        ClientBuilder::new().access_token(access_token).build_user()
    }
}

impl TeamClient {
    /// A client for the real Dropbox servers with a fixed team access token.
    pub fn new(access_token: impl Into<Secret>) -> Result<Self, BuildError> {
        ClientBuilder::new().access_token(access_token).build_team()
    }
}

impl AppClient {
    /// A client for the real Dropbox servers with the app's key and secret.
    pub fn new(app_key: &str, app_secret: impl Into<Secret>) -> Result<Self, BuildError> {
        ClientBuilder::new()
            .app_credentials(app_key, app_secret)
            .build_app()
    }
}

impl NoAuthClient {
    /// A client for the real Dropbox servers.
    pub fn new() -> Result<Self, BuildError> {
        ClientBuilder::new().build_noauth()
    }
}
