//! Access tokens: a fixed token, or one obtained from a refresh token and refreshed before
//! it expires (and once more when Dropbox answers `expired_access_token`); the token
//! endpoint; and the [`TokenStore`] told each new token. Signing in (the authorize URL,
//! PKCE, the code exchange, revoking) is in [`crate::oauth`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::secret::Secret;

/// Why a token could not be obtained.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TokenError {
    /// The token endpoint could not be reached.
    #[error("could not reach the token endpoint: {0}")]
    Transport(String),
    /// The token endpoint refused (for example `invalid_grant`: the refresh token was revoked).
    #[error("the token endpoint refused ({status}): {error}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The OAuth error code and description, when given.
        error: String,
    },
    /// The token endpoint answered something that is not a token.
    #[error("unexpected answer from the token endpoint: {0}")]
    Malformed(String),
    /// The provider has no way to obtain a new token.
    #[error("the access token expired and cannot be refreshed")]
    CannotRefresh,
}

/// A boxed future, as returned by [`TokenProvider`] methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Supplies access tokens to a client.
pub trait TokenProvider: Send + Sync + 'static {
    /// A token to use now (refreshing first when the cached one is about to expire).
    fn token(&self) -> BoxFuture<'_, Result<Secret, TokenError>>;

    /// Called when Dropbox rejected `stale` as expired: returns a fresh token. Concurrent
    /// callers that saw the same stale token share one refresh.
    fn refresh(&self, stale: &Secret) -> BoxFuture<'_, Result<Secret, TokenError>>;

    /// Whether [`TokenProvider::refresh`] can ever succeed.
    fn can_refresh(&self) -> bool;

    /// Called once when a client is built with this provider, with the client's HTTP client
    /// and token endpoint (providers that fetch tokens may keep them). Does nothing by default.
    fn bind(&self, _http: &reqwest::Client, _token_url: &str) {}

    /// What identifies the account these tokens belong to (the refresh token, or the fixed
    /// token), so that clients made from the same credentials can share per-account state
    /// such as the upload toolkit's commit queue. It is hashed, never stored or shown. `None`
    /// (the default): clients share such state only with their own clones.
    fn identity(&self) -> Option<Secret> {
        None
    }
}

/// A fixed access token (for example a long-lived one from the App Console).
#[derive(Debug, Clone)]
pub struct StaticToken(Secret);

impl StaticToken {
    /// Wraps a token.
    pub fn new(token: impl Into<Secret>) -> Self {
        StaticToken(token.into())
    }
}

impl TokenProvider for StaticToken {
    fn token(&self) -> BoxFuture<'_, Result<Secret, TokenError>> {
        let t = self.0.clone();
        Box::pin(async move { Ok(t) })
    }

    fn refresh(&self, _stale: &Secret) -> BoxFuture<'_, Result<Secret, TokenError>> {
        Box::pin(async { Err(TokenError::CannotRefresh) })
    }

    fn can_refresh(&self) -> bool {
        false
    }

    fn identity(&self) -> Option<Secret> {
        Some(self.0.clone())
    }
}

/// A token obtained from the token endpoint. Its `Debug` shows no secret.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct IssuedToken {
    /// The access token.
    pub access_token: Secret,
    /// When it expires, if the endpoint said.
    pub expires_at: Option<Instant>,
    /// Its lifetime as the endpoint gave it (`expires_in`), for storing the expiry as a
    /// wall-clock time.
    pub expires_in: Option<Duration>,
    /// A refresh token, when the endpoint issued one (authorization-code grants with
    /// `token_access_type=offline`; a refresh answers without one).
    pub refresh_token: Option<Secret>,
    /// The account the token belongs to (`account_id`), when the endpoint said (code grants).
    pub account_id: Option<String>,
    /// The team, for team tokens (`team_id`).
    pub team_id: Option<String>,
    /// The scopes granted (`scope`, space-separated on the wire); empty when not given.
    pub scopes: Vec<String>,
}

impl IssuedToken {
    /// Parses a success answer of the token endpoint.
    fn from_response(parsed: TokenResponse) -> IssuedToken {
        let expires_in = parsed.expires_in.map(Duration::from_secs);
        IssuedToken {
            access_token: Secret::new(parsed.access_token),
            expires_at: expires_in.map(|d| Instant::now() + d),
            expires_in,
            refresh_token: parsed.refresh_token.map(Secret::new),
            account_id: parsed.account_id,
            team_id: parsed.team_id,
            scopes: parsed
                .scope
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
        }
    }
}

#[derive(serde::Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    account_id: Option<String>,
    #[serde(default)]
    team_id: Option<String>,
}

#[derive(serde::Deserialize)]
struct OAuthError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

/// How long one request to the token endpoint may take by default.
pub const DEFAULT_TOKEN_TIMEOUT: Duration = Duration::from_secs(30);

/// The OAuth 2 token endpoint (`https://api.dropboxapi.com/oauth2/token`): form posts
/// that return an [`IssuedToken`], each bounded by a timeout. The code exchange of the
/// PKCE flow is [`TokenEndpoint::exchange_code`] (in [`crate::oauth`]).
#[derive(Clone)]
pub struct TokenEndpoint {
    url: String,
    http: reqwest::Client,
    timeout: Duration,
}

impl std::fmt::Debug for TokenEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenEndpoint")
            .field("url", &self.url)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl TokenEndpoint {
    /// The endpoint at `url` (normally [`DEFAULT_TOKEN_URL`](crate::config::DEFAULT_TOKEN_URL),
    /// or `{base}/oauth2/token` of an emulator), reached with `http`.
    pub fn new(url: impl Into<String>, http: reqwest::Client) -> Self {
        TokenEndpoint {
            url: url.into(),
            http,
            timeout: DEFAULT_TOKEN_TIMEOUT,
        }
    }

    /// The longest one request may take, connection and answer included (30 s by default).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The endpoint's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Redeems a refresh token: `grant_type=refresh_token` with the app key, and the app
    /// secret unless the app uses PKCE (`None`).
    pub async fn refresh(
        &self,
        refresh_token: &Secret,
        app_key: &str,
        app_secret: Option<&Secret>,
    ) -> Result<IssuedToken, TokenError> {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
            ("client_id", app_key),
        ];
        if let Some(secret) = app_secret {
            form.push(("client_secret", secret.expose()));
        }
        self.post(&form).await
    }

    /// Posts a form (values percent-encoded) and reads the token or the OAuth error. The
    /// form carries secrets: nothing of it goes into errors or logs.
    pub(crate) async fn post(&self, form: &[(&str, &str)]) -> Result<IssuedToken, TokenError> {
        let limit = self.timeout;
        match tokio::time::timeout(limit, self.post_unbounded(form)).await {
            Ok(r) => r,
            Err(_) => Err(TokenError::Transport(format!(
                "no answer from the token endpoint within {:.1} s",
                limit.as_secs_f64()
            ))),
        }
    }

    async fn post_unbounded(&self, form: &[(&str, &str)]) -> Result<IssuedToken, TokenError> {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let response = self
            .http
            .post(&self.url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body)
            .send()
            .await
            .map_err(|e| TokenError::Transport(e.without_url().to_string()))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| TokenError::Transport(e.without_url().to_string()))?;
        if !status.is_success() {
            let error = match serde_json::from_slice::<OAuthError>(&bytes) {
                Ok(e) if !e.error.is_empty() => {
                    if e.error_description.is_empty() {
                        e.error
                    } else {
                        format!("{}: {}", e.error, e.error_description)
                    }
                }
                _ => String::from_utf8_lossy(&bytes).chars().take(200).collect(),
            };
            return Err(TokenError::Refused {
                status: status.as_u16(),
                error,
            });
        }
        let parsed: TokenResponse = serde_json::from_slice(&bytes)
            .map_err(|e| TokenError::Malformed(format!("not a token response: {e}")))?;
        Ok(IssuedToken::from_response(parsed))
    }
}

/// Percent-encodes a form or query value (RFC 3986 unreserved characters kept).
pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Told every token a [`RefreshingToken`] obtains, so that an application can keep it
/// (the access token with its expiry, and a new refresh token should the endpoint ever
/// send one). Closures `Fn(&IssuedToken)` are stores.
///
/// `save` runs while other callers wait for the token: keep it short (hand the value to
/// a task or write a small file), and do not call the provider from it.
pub trait TokenStore: Send + Sync + 'static {
    /// A new token was obtained.
    fn save(&self, token: &IssuedToken);
}

impl<F> TokenStore for F
where
    F: Fn(&IssuedToken) + Send + Sync + 'static,
{
    fn save(&self, token: &IssuedToken) {
        self(token)
    }
}

/// The cached token and the refresh token in use.
struct RefreshState {
    /// The refresh token (replaced if the endpoint rotates it).
    refresh_token: Secret,
    current: Option<IssuedToken>,
}

/// A token obtained from a refresh token, cached, and refreshed shortly before it expires
/// (or when Dropbox answers `expired_access_token`). Concurrent callers share one refresh;
/// each refresh is bounded by a timeout; every new token is handed to the
/// [`TokenStore`], if there is one.
///
/// ```
/// use dropbox_api_runtime::{ClientBuilder, IssuedToken, RefreshingToken};
/// // A PKCE app has no secret; the endpoint and HTTP client are the client's.
/// let provider = RefreshingToken::for_app("saved-refresh-token", "app-key", None)
///     .on_refresh(|t: &IssuedToken| {
///         // Persist what is needed, e.g. t.expires_in, t.refresh_token (never printed).
///         let _ = t.expires_in;
///     });
/// let client = ClientBuilder::new()
///     .token_provider(provider)
///     .base_url("http://127.0.0.1:8080")
///     .build_user()
///     .unwrap();
/// # let _ = client;
/// ```
pub struct RefreshingToken {
    /// The refresh token the provider was made with (its identity).
    initial: Secret,
    app_key: String,
    app_secret: Option<Secret>,
    endpoint: std::sync::OnceLock<TokenEndpoint>,
    timeout: Duration,
    margin: Duration,
    store: Option<Arc<dyn TokenStore>>,
    state: tokio::sync::Mutex<RefreshState>,
}

impl std::fmt::Debug for RefreshingToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshingToken")
            .field("app_key", &self.app_key)
            .field("endpoint", &self.endpoint.get())
            .field("refresh_token", &self.initial)
            .field("app_secret", &self.app_secret)
            .field("timeout", &self.timeout)
            .field("margin", &self.margin)
            .field("store", &self.store.is_some())
            .finish_non_exhaustive()
    }
}

impl RefreshingToken {
    /// A provider for an app with `app_key` (and `app_secret`, unless it is a PKCE app) that
    /// redeems `refresh_token` at `token_url` (normally `https://api.dropboxapi.com/oauth2/token`).
    pub fn new(
        refresh_token: impl Into<Secret>,
        app_key: impl Into<String>,
        app_secret: Option<Secret>,
        token_url: impl Into<String>,
        http: reqwest::Client,
    ) -> Self {
        let p = Self::for_app(refresh_token, app_key, app_secret);
        let _ = p.endpoint.set(TokenEndpoint::new(token_url, http));
        p
    }

    /// A provider whose token endpoint and HTTP client are those of the client it is given
    /// to ([`ClientBuilder::token_provider`](crate::ClientBuilder::token_provider)): the
    /// builder's `base_url` or `token_url` apply.
    pub fn for_app(
        refresh_token: impl Into<Secret>,
        app_key: impl Into<String>,
        app_secret: Option<Secret>,
    ) -> Self {
        let refresh_token = refresh_token.into();
        RefreshingToken {
            initial: refresh_token.clone(),
            app_key: app_key.into(),
            app_secret,
            endpoint: std::sync::OnceLock::new(),
            timeout: DEFAULT_TOKEN_TIMEOUT,
            margin: Duration::from_secs(300),
            store: None,
            state: tokio::sync::Mutex::new(RefreshState {
                refresh_token,
                current: None,
            }),
        }
    }

    /// Refresh when fewer than `margin` remain before expiry (default 5 minutes).
    pub fn with_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// The longest one refresh may take (30 s by default); a refresh that takes longer
    /// fails with [`TokenError::Transport`], and the next call tries again.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Tells `store` every new token (see [`TokenStore`]).
    pub fn with_store(mut self, store: impl TokenStore) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// Calls `f` with every new token, for example to persist it.
    pub fn on_refresh(self, f: impl Fn(&IssuedToken) + Send + Sync + 'static) -> Self {
        self.with_store(f)
    }

    /// Obtains a new token (the lock on the state is held by the caller).
    async fn fetch(&self, state: &mut RefreshState) -> Result<Secret, TokenError> {
        let endpoint = self.endpoint.get().ok_or(TokenError::CannotRefresh)?;
        tracing::debug!(target: "dropbox_api_runtime::token", "refreshing the access token");
        let fetch = endpoint.refresh(
            &state.refresh_token,
            &self.app_key,
            self.app_secret.as_ref(),
        );
        let t = match tokio::time::timeout(self.timeout, fetch).await {
            Ok(r) => r?,
            Err(_) => {
                return Err(TokenError::Transport(format!(
                    "no answer from the token endpoint within {:.1} s",
                    self.timeout.as_secs_f64()
                )));
            }
        };
        if let Some(rotated) = &t.refresh_token {
            state.refresh_token = rotated.clone();
        }
        if let Some(store) = &self.store {
            store.save(&t);
        }
        let token = t.access_token.clone();
        state.current = Some(t);
        Ok(token)
    }

    fn fresh(&self, t: &IssuedToken) -> bool {
        match t.expires_at {
            Some(at) => Instant::now() + self.margin < at,
            None => true,
        }
    }
}

impl TokenProvider for RefreshingToken {
    fn token(&self) -> BoxFuture<'_, Result<Secret, TokenError>> {
        Box::pin(async move {
            let mut state = self.state.lock().await;
            if let Some(t) = state.current.as_ref()
                && self.fresh(t)
            {
                return Ok(t.access_token.clone());
            }
            self.fetch(&mut state).await
        })
    }

    fn refresh(&self, stale: &Secret) -> BoxFuture<'_, Result<Secret, TokenError>> {
        let stale = stale.clone();
        Box::pin(async move {
            let mut state = self.state.lock().await;
            // Another caller may already have replaced the stale token.
            if let Some(t) = state.current.as_ref()
                && t.access_token != stale
                && self.fresh(t)
            {
                return Ok(t.access_token.clone());
            }
            self.fetch(&mut state).await
        })
    }

    fn can_refresh(&self) -> bool {
        true
    }

    fn bind(&self, http: &reqwest::Client, token_url: &str) {
        // Only a provider made with `for_app` takes the client's endpoint.
        let _ = self
            .endpoint
            .set(TokenEndpoint::new(token_url, http.clone()).with_timeout(self.timeout));
    }

    fn identity(&self) -> Option<Secret> {
        Some(self.initial.clone())
    }
}

impl<T: TokenProvider + ?Sized> TokenProvider for Arc<T> {
    fn token(&self) -> BoxFuture<'_, Result<Secret, TokenError>> {
        (**self).token()
    }

    fn refresh(&self, stale: &Secret) -> BoxFuture<'_, Result<Secret, TokenError>> {
        (**self).refresh(stale)
    }

    fn can_refresh(&self) -> bool {
        (**self).can_refresh()
    }

    fn bind(&self, http: &reqwest::Client, token_url: &str) {
        (**self).bind(http, token_url)
    }

    fn identity(&self) -> Option<Secret> {
        (**self).identity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_are_percent_encoded() {
        assert_eq!(urlencode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }

    #[test]
    fn debug_hides_secrets() {
        let p = RefreshingToken::new(
            "refresh-secret",
            "key",
            Some(Secret::new("app-secret")),
            "http://127.0.0.1:1/oauth2/token",
            crate::http_client_builder().build().unwrap(),
        );
        let d = format!("{p:?}");
        assert!(
            !d.contains("refresh-secret") && !d.contains("app-secret"),
            "{d}"
        );
    }
}
