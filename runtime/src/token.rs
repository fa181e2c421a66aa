//! Access tokens: a fixed token, or one obtained from a refresh token and refreshed before
//! it expires (and once more when Dropbox answers `expired_access_token`).

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

/// A token obtained from the token endpoint.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The access token.
    pub access_token: Secret,
    /// When it expires, if the endpoint said.
    pub expires_at: Option<Instant>,
    /// A refresh token, when the endpoint issued one (authorization-code grants).
    pub refresh_token: Option<Secret>,
}

#[derive(serde::Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<String>,
}

#[derive(serde::Deserialize)]
struct OAuthError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

async fn post_token_form(
    http: &reqwest::Client,
    endpoint: &str,
    form: &[(&str, &str)],
) -> Result<IssuedToken, TokenError> {
    let body = form
        .iter()
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let response = http
        .post(endpoint)
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
    Ok(IssuedToken {
        access_token: Secret::new(parsed.access_token),
        expires_at: parsed
            .expires_in
            .map(|s| Instant::now() + Duration::from_secs(s)),
        refresh_token: parsed.refresh_token.map(Secret::new),
    })
}

/// Percent-encodes a form value (RFC 3986 unreserved characters kept).
fn urlencode(s: &str) -> String {
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

/// Exchanges an authorization code (PKCE flow) for tokens at the token endpoint.
pub async fn exchange_code(
    http: &reqwest::Client,
    token_url: &str,
    code: &str,
    code_verifier: &str,
    app_key: &str,
    redirect_uri: Option<&str>,
) -> Result<IssuedToken, TokenError> {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("code_verifier", code_verifier),
        ("client_id", app_key),
    ];
    if let Some(uri) = redirect_uri {
        form.push(("redirect_uri", uri));
    }
    post_token_form(http, token_url, &form).await
}

/// A token obtained from a refresh token, cached, and refreshed shortly before it expires.
pub struct RefreshingToken {
    refresh_token: Secret,
    app_key: String,
    app_secret: Option<Secret>,
    token_url: String,
    http: reqwest::Client,
    margin: Duration,
    state: tokio::sync::Mutex<Option<IssuedToken>>,
}

impl std::fmt::Debug for RefreshingToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshingToken")
            .field("app_key", &self.app_key)
            .field("token_url", &self.token_url)
            .field("refresh_token", &self.refresh_token)
            .field("app_secret", &self.app_secret)
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
        RefreshingToken {
            refresh_token: refresh_token.into(),
            app_key: app_key.into(),
            app_secret,
            token_url: token_url.into(),
            http,
            margin: Duration::from_secs(300),
            state: tokio::sync::Mutex::new(None),
        }
    }

    /// Refresh when fewer than `margin` remain before expiry (default 5 minutes).
    pub fn with_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    async fn fetch(&self) -> Result<IssuedToken, TokenError> {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", self.refresh_token.expose()),
            ("client_id", self.app_key.as_str()),
        ];
        if let Some(secret) = &self.app_secret {
            form.push(("client_secret", secret.expose()));
        }
        tracing::debug!(target: "dropbox_api_runtime::token", "refreshing the access token");
        post_token_form(&self.http, &self.token_url, &form).await
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
            if let Some(t) = state.as_ref()
                && self.fresh(t)
            {
                return Ok(t.access_token.clone());
            }
            let t = self.fetch().await?;
            let token = t.access_token.clone();
            *state = Some(t);
            Ok(token)
        })
    }

    fn refresh(&self, stale: &Secret) -> BoxFuture<'_, Result<Secret, TokenError>> {
        let stale = stale.clone();
        Box::pin(async move {
            let mut state = self.state.lock().await;
            // Another caller may already have replaced the stale token.
            if let Some(t) = state.as_ref()
                && t.access_token != stale
                && self.fresh(t)
            {
                return Ok(t.access_token.clone());
            }
            let t = self.fetch().await?;
            let token = t.access_token.clone();
            *state = Some(t);
            Ok(token)
        })
    }

    fn can_refresh(&self) -> bool {
        true
    }

    fn identity(&self) -> Option<Secret> {
        Some(self.refresh_token.clone())
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
            reqwest::Client::new(),
        );
        let d = format!("{p:?}");
        assert!(
            !d.contains("refresh-secret") && !d.contains("app-secret"),
            "{d}"
        );
    }
}
