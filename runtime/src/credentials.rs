//! How requests authenticate: a bearer token from a provider, app key and secret, or nothing;
//! and the team-member selection of team clients.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use reqwest::header::HeaderValue;

use crate::secret::Secret;
use crate::token::{BoxFuture, RefreshingToken, TokenError, TokenProvider};

/// How requests authenticate.
#[derive(Clone)]
pub(crate) enum Credentials {
    /// `Authorization: Bearer <token>`.
    Bearer(Arc<dyn TokenProvider>),
    /// `Authorization: Basic base64(key:secret)` (app auth).
    Basic { header: Secret },
    /// No `Authorization` header.
    None,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Bearer(_) => f.write_str("Bearer([redacted])"),
            Credentials::Basic { .. } => f.write_str("Basic([redacted])"),
            Credentials::None => f.write_str("None"),
        }
    }
}

impl Credentials {
    /// App authentication with the app key and secret.
    pub(crate) fn basic(app_key: &str, app_secret: &Secret) -> Self {
        use base64::Engine as _;
        let raw = format!("{app_key}:{}", app_secret.expose());
        let header = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        );
        Credentials::Basic {
            header: Secret::new(header),
        }
    }

    /// The token provider, for bearer credentials.
    pub(crate) fn provider(&self) -> Option<&Arc<dyn TokenProvider>> {
        match self {
            Credentials::Bearer(p) => Some(p),
            _ => None,
        }
    }

    /// The `Authorization` header for `token` (bearer) or the app credentials (basic),
    /// marked sensitive.
    pub(crate) fn header(&self, token: Option<&Secret>) -> Result<Option<HeaderValue>, TokenError> {
        let value = match (self, token) {
            (Credentials::Bearer(_), Some(t)) => format!("Bearer {}", t.expose()),
            (Credentials::Basic { header }, _) => header.expose().to_owned(),
            _ => return Ok(None),
        };
        let mut v = HeaderValue::from_str(&value)
            .map_err(|_| TokenError::Malformed("the token is not a valid header value".into()))?;
        v.set_sensitive(true);
        Ok(Some(v))
    }

    /// Feeds what identifies the account behind these credentials into `h`: the token (or
    /// refresh token) itself, hashed, never stored. A provider that cannot say is identified
    /// by its allocation, which every clone of a client shares.
    pub(crate) fn identify(&self, h: &mut impl Hasher) {
        match self {
            Credentials::Bearer(p) => match p.identity() {
                Some(id) => id.expose().hash(h),
                None => (Arc::as_ptr(p) as *const () as usize).hash(h),
            },
            Credentials::Basic { header } => header.expose().hash(h),
            Credentials::None => 0u8.hash(h),
        }
    }
}

/// Acting as a team member or admin with a team token.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Select {
    User(String),
    Admin(String),
}

impl Select {
    /// The header that carries the selection, and its value.
    pub(crate) fn header(&self) -> (&'static str, &str) {
        match self {
            Select::User(id) => ("dropbox-api-select-user", id),
            Select::Admin(id) => ("dropbox-api-select-admin", id),
        }
    }
}

/// A refresh-token provider whose HTTP client and endpoint are bound when the client is built.
pub(crate) struct LazyRefresh {
    pub(crate) refresh_token: Secret,
    pub(crate) app_key: String,
    pub(crate) app_secret: Option<Secret>,
    pub(crate) inner: std::sync::OnceLock<RefreshingToken>,
}

impl LazyRefresh {
    fn get(&self) -> Result<&RefreshingToken, TokenError> {
        self.inner.get().ok_or(TokenError::CannotRefresh)
    }
}

impl TokenProvider for LazyRefresh {
    fn token(&self) -> BoxFuture<'_, Result<Secret, TokenError>> {
        Box::pin(async move { self.get()?.token().await })
    }

    fn refresh(&self, stale: &Secret) -> BoxFuture<'_, Result<Secret, TokenError>> {
        let stale = stale.clone();
        Box::pin(async move { self.get()?.refresh(&stale).await })
    }

    fn can_refresh(&self) -> bool {
        true
    }

    fn bind(&self, http: &reqwest::Client, token_url: &str) {
        let _ = self.inner.set(RefreshingToken::new(
            self.refresh_token.clone(),
            self.app_key.clone(),
            self.app_secret.clone(),
            token_url,
            http.clone(),
        ));
    }

    fn identity(&self) -> Option<Secret> {
        Some(self.refresh_token.clone())
    }
}
