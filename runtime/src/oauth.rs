//! Signing in with OAuth 2 and PKCE, as Dropbox does it:
//!
//! 1. a [`PkceCode`] (a random verifier and its S256 challenge) and the authorize URL from
//!    an [`AuthorizeUrlBuilder`], which the user opens;
//! 2. the user approves; Dropbox shows a code (no redirect URI: the copy-paste flow) or
//!    redirects to the redirect URI with `?code=...&state=...` ([`code_from_redirect`]);
//! 3. [`TokenEndpoint::exchange_code`] trades the code and the verifier for an
//!    [`IssuedToken`]: an access token, and with `token_access_type=offline` a refresh token;
//! 4. a [`RefreshingToken`](crate::RefreshingToken) made from the refresh token keeps the
//!    client supplied with access tokens, telling a [`TokenStore`](crate::TokenStore) each one;
//! 5. [`revoke`] (`auth/token/revoke`) disables the token and its refresh token.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use dropbox_api_runtime::oauth::{AuthorizeUrlBuilder, PkceCode, TokenAccessType};
//! use dropbox_api_runtime::{ClientBuilder, RefreshingToken, TokenEndpoint};
//!
//! let pkce = PkceCode::new();
//! let url = AuthorizeUrlBuilder::new("your-app-key")
//!     .token_access_type(TokenAccessType::Offline)
//!     .scopes(["files.metadata.read", "files.content.read"])
//!     .pkce(&pkce)
//!     .build();
//! println!("Open {url}, approve, and paste the code here:");
//! let mut code = String::new();
//! std::io::stdin().read_line(&mut code)?;
//!
//! // An HTTP client for the features' TLS backend (a bare `reqwest::Client::new()` panics
//! // under `rustls-ring` until a crypto provider is installed).
//! let endpoint = TokenEndpoint::new(
//!     dropbox_api_runtime::config::DEFAULT_TOKEN_URL,
//!     dropbox_api_runtime::http_client_builder().build()?,
//! );
//! let issued = endpoint
//!     .exchange_code("your-app-key", code.trim(), &pkce, None)
//!     .await?;
//! let refresh = issued.refresh_token.ok_or("no refresh token")?;
//! // Keep `refresh` (a Secret: it never prints) somewhere safe, then:
//! let client = ClientBuilder::new()
//!     .token_provider(RefreshingToken::for_app(refresh, "your-app-key", None))
//!     .build_user()?;
//! # let _ = client;
//! # Ok(()) }
//! ```

use std::fmt;

use base64::Engine as _;
use rand::Rng as _;
use sha2::{Digest as _, Sha256};

use crate::auth::{User, UserAuth};
use crate::error::{Error, ErrorTypes, NoError};
use crate::route::{Host, Route, RouteSpec, Style};
use crate::secret::Secret;
use crate::token::{IssuedToken, TokenEndpoint, TokenError, urlencode};

/// Where Dropbox's authorize page is (the web site, not the API host).
pub const DEFAULT_AUTHORIZE_URL: &str = "https://www.dropbox.com/oauth2/authorize";

/// Why an OAuth value was refused before anything was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// A PKCE code verifier must be 43 to 128 characters from `A-Z a-z 0-9 - . _ ~`.
    #[error(
        "a PKCE code verifier must be 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_', '~'"
    )]
    BadVerifier,
    /// The redirect carried `error=...` (for example `access_denied`: the user said no).
    #[error("the authorization was refused: {0}")]
    Denied(String),
    /// The redirect's `state` is not the one sent (a forged or stale redirect).
    #[error("the redirect's state does not match the one sent")]
    StateMismatch,
    /// The redirect has no `code`.
    #[error("the redirect has no code")]
    NoCode,
}

/// The characters a PKCE verifier is made of (RFC 7636 "unreserved").
const UNRESERVED: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

/// A PKCE code verifier and its S256 challenge.
///
/// The verifier is a [`Secret`] (it never prints, `Debug` included); the challenge is public
/// (it goes into the authorize URL). The verifier is sent only with the code exchange.
#[derive(Clone)]
pub struct PkceCode {
    verifier: Secret,
    challenge: String,
}

impl fmt::Debug for PkceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PkceCode")
            .field("verifier", &self.verifier)
            .field("challenge", &self.challenge)
            .field("method", &Self::METHOD)
            .finish()
    }
}

impl Default for PkceCode {
    fn default() -> Self {
        Self::new()
    }
}

impl PkceCode {
    /// The `code_challenge_method`.
    pub const METHOD: &'static str = "S256";
    /// The length of [`PkceCode::new`]'s verifier (about 380 random bits).
    pub const DEFAULT_LENGTH: usize = 64;

    /// A fresh verifier of [`PkceCode::DEFAULT_LENGTH`] characters from the thread's
    /// cryptographically secure generator.
    pub fn new() -> Self {
        Self::random(Self::DEFAULT_LENGTH)
    }

    /// A fresh verifier of `len` characters (43 to 128).
    pub fn with_length(len: usize) -> Result<Self, OAuthError> {
        if !(43..=128).contains(&len) {
            return Err(OAuthError::BadVerifier);
        }
        Ok(Self::random(len))
    }

    fn random(len: usize) -> Self {
        let mut rng = rand::rng();
        let verifier: String = (0..len)
            .map(|_| UNRESERVED[rng.random_range(0..UNRESERVED.len())] as char)
            .collect();
        Self::from_valid(verifier)
    }

    /// A verifier given (one kept from an earlier step), checked against RFC 7636.
    pub fn from_verifier(verifier: impl Into<Secret>) -> Result<Self, OAuthError> {
        let verifier = verifier.into();
        let v = verifier.expose();
        if !(43..=128).contains(&v.len()) || !v.bytes().all(|b| UNRESERVED.contains(&b)) {
            return Err(OAuthError::BadVerifier);
        }
        Ok(Self::from_valid(v.to_owned()))
    }

    fn from_valid(verifier: String) -> Self {
        let challenge = challenge_of(&verifier);
        PkceCode {
            verifier: Secret::new(verifier),
            challenge,
        }
    }

    /// The verifier, sent with the code exchange.
    pub fn verifier(&self) -> &Secret {
        &self.verifier
    }

    /// The challenge: base64url without padding of SHA-256 of the verifier.
    pub fn challenge(&self) -> &str {
        &self.challenge
    }
}

/// A random `state` for an authorize URL: 32 characters from the same secure generator
/// and character set as a verifier.
pub fn random_state() -> Secret {
    let mut rng = rand::rng();
    Secret::new(
        (0..32)
            .map(|_| UNRESERVED[rng.random_range(0..UNRESERVED.len())] as char)
            .collect::<String>(),
    )
}

/// base64url-no-pad(SHA-256(verifier)).
fn challenge_of(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The `token_access_type` of the authorize URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenAccessType {
    /// A short-lived access token and a refresh token (for access while the user is away).
    Offline,
    /// A short-lived access token only.
    Online,
}

impl TokenAccessType {
    /// The value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenAccessType::Offline => "offline",
            TokenAccessType::Online => "online",
        }
    }
}

/// Builds the URL of Dropbox's authorize page (`response_type=code`).
///
/// Parameters are written in this order, each only when set: `client_id`, `response_type`,
/// `redirect_uri`, `token_access_type`, `scope` (space-separated), `state`,
/// `code_challenge`, `code_challenge_method`, `force_reapprove`. Values are percent-encoded
/// (RFC 3986 unreserved characters kept, a space is `%20`).
///
/// ```
/// use dropbox_api_runtime::oauth::{AuthorizeUrlBuilder, PkceCode, TokenAccessType};
/// let pkce = PkceCode::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
/// let url = AuthorizeUrlBuilder::new("app-key")
///     .token_access_type(TokenAccessType::Offline)
///     .scopes(["files.content.read", "account_info.read"])
///     .pkce(&pkce)
///     .build();
/// assert_eq!(
///     url,
///     "https://www.dropbox.com/oauth2/authorize?client_id=app-key&response_type=code\
///      &token_access_type=offline&scope=files.content.read%20account_info.read\
///      &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
/// );
/// ```
#[derive(Clone)]
pub struct AuthorizeUrlBuilder {
    authorize_url: String,
    client_id: String,
    redirect_uri: Option<String>,
    token_access_type: Option<TokenAccessType>,
    scopes: Vec<String>,
    state: Option<Secret>,
    challenge: Option<String>,
    force_reapprove: bool,
}

impl fmt::Debug for AuthorizeUrlBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizeUrlBuilder")
            .field("authorize_url", &self.authorize_url)
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("token_access_type", &self.token_access_type)
            .field("scopes", &self.scopes)
            .field("state", &self.state)
            .field("pkce", &self.challenge.is_some())
            .field("force_reapprove", &self.force_reapprove)
            .finish()
    }
}

impl AuthorizeUrlBuilder {
    /// The authorize URL for the app `client_id` (its app key), on Dropbox.
    pub fn new(client_id: impl Into<String>) -> Self {
        AuthorizeUrlBuilder {
            authorize_url: DEFAULT_AUTHORIZE_URL.into(),
            client_id: client_id.into(),
            redirect_uri: None,
            token_access_type: None,
            scopes: Vec::new(),
            state: None,
            challenge: None,
            force_reapprove: false,
        }
    }

    /// The site serving `/oauth2/authorize`, such as an emulator at `http://127.0.0.1:PORT`
    /// (the same base URL as [`ClientBuilder::base_url`](crate::ClientBuilder::base_url)).
    pub fn base_url(mut self, url: &str) -> Self {
        self.authorize_url = format!("{}/oauth2/authorize", url.trim_end_matches('/'));
        self
    }

    /// Where Dropbox sends the browser with the code. Without one (the default) Dropbox
    /// shows the code for the user to copy into the app. The same URI must be given to
    /// the code exchange.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    /// `offline` (a refresh token too) or `online`. Unset, Dropbox applies the app's
    /// legacy setting.
    pub fn token_access_type(mut self, t: TokenAccessType) -> Self {
        self.token_access_type = Some(t);
        self
    }

    /// Adds a scope (`files.content.read`, ...). Without scopes the app's scopes apply.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scopes.push(scope.into());
        self
    }

    /// Adds scopes.
    pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// An opaque value Dropbox returns with the redirect, to tie it to this request
    /// (check it with [`code_from_redirect`]).
    pub fn state(mut self, state: impl Into<Secret>) -> Self {
        self.state = Some(state.into());
        self
    }

    /// Sends the PKCE challenge (`code_challenge`, `code_challenge_method=S256`).
    pub fn pkce(mut self, pkce: &PkceCode) -> Self {
        self.challenge = Some(pkce.challenge().to_owned());
        self
    }

    /// Asks the user to approve again even if they approved this app before.
    pub fn force_reapprove(mut self, force: bool) -> Self {
        self.force_reapprove = force;
        self
    }

    /// The URL to open.
    pub fn build(&self) -> String {
        let mut q: Vec<(&str, &str)> = vec![
            ("client_id", self.client_id.as_str()),
            ("response_type", "code"),
        ];
        if let Some(uri) = &self.redirect_uri {
            q.push(("redirect_uri", uri));
        }
        if let Some(t) = self.token_access_type {
            q.push(("token_access_type", t.as_str()));
        }
        let scope = self.scopes.join(" ");
        if !self.scopes.is_empty() {
            q.push(("scope", &scope));
        }
        if let Some(state) = &self.state {
            q.push(("state", state.expose()));
        }
        if let Some(c) = &self.challenge {
            q.push(("code_challenge", c));
            q.push(("code_challenge_method", PkceCode::METHOD));
        }
        if self.force_reapprove {
            q.push(("force_reapprove", "true"));
        }
        let query = q
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        format!("{}?{query}", self.authorize_url)
    }
}

/// The code of the URL Dropbox redirected the browser to (`?code=...&state=...`), after
/// checking the state against the one sent (`None`: none was sent). An `error` in the
/// redirect (such as `access_denied`) is [`OAuthError::Denied`].
pub fn code_from_redirect(redirected: &str, state: Option<&Secret>) -> Result<Secret, OAuthError> {
    let query = match redirected.split_once('?') {
        Some((_, q)) => q.split('#').next().unwrap_or(""),
        None => "",
    };
    let (mut code, mut got_state, mut error, mut description) = (None, None, None, None);
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match &*k {
            "code" => code = Some(v.into_owned()),
            "state" => got_state = Some(v.into_owned()),
            "error" => error = Some(v.into_owned()),
            "error_description" => description = Some(v.into_owned()),
            _ => {}
        }
    }
    if let Some(e) = error {
        return Err(OAuthError::Denied(match description {
            Some(d) => format!("{e}: {d}"),
            None => e,
        }));
    }
    if let Some(expected) = state
        && got_state.as_deref() != Some(expected.expose())
    {
        return Err(OAuthError::StateMismatch);
    }
    code.filter(|c| !c.is_empty())
        .map(Secret::new)
        .ok_or(OAuthError::NoCode)
}

impl TokenEndpoint {
    /// Exchanges an authorization code for tokens (`grant_type=authorization_code`) with the
    /// PKCE verifier, for a PKCE app (no secret). `redirect_uri` must be the one of the
    /// authorize URL (`None` for the copy-paste flow).
    pub async fn exchange_code(
        &self,
        app_key: &str,
        code: &str,
        pkce: &PkceCode,
        redirect_uri: Option<&str>,
    ) -> Result<IssuedToken, TokenError> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", app_key),
            ("code_verifier", pkce.verifier().expose()),
        ];
        if let Some(uri) = redirect_uri {
            form.push(("redirect_uri", uri));
        }
        self.post(&form).await
    }

    /// Exchanges an authorization code for tokens with the app secret (an app that does
    /// not use PKCE).
    pub async fn exchange_code_with_secret(
        &self,
        app_key: &str,
        app_secret: &Secret,
        code: &str,
        redirect_uri: Option<&str>,
    ) -> Result<IssuedToken, TokenError> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", app_key),
            ("client_secret", app_secret.expose()),
        ];
        if let Some(uri) = redirect_uri {
            form.push(("redirect_uri", uri));
        }
        self.post(&form).await
    }
}

/// The `auth/token/revoke` route (`POST /2/auth/token/revoke`, no argument, no result).
pub const TOKEN_REVOKE: Route<User> = Route::new(RouteSpec {
    namespace: "auth",
    name: "token/revoke",
    version: 1,
    path: "/2/auth/token/revoke",
    host: Host::Api,
    style: Style::Rpc,
    auth: "user",
    idempotent: false,
});

/// Disables the client's access token and, when it came from a refresh token, that
/// refresh token and every access token issued from it (`auth/token/revoke`). Through the
/// client's request lifecycle: its timeouts, retries and token refresh apply. `P` is the
/// crate with the protocol error types (`dropbox_api::Protocol`, or [`crate::Untyped`]).
pub async fn revoke<P: ErrorTypes>(client: &impl UserAuth) -> Result<(), Error<NoError, P>> {
    let _: serde_json::Value = crate::calls::rpc(client, &TOKEN_REVOKE, &()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b() {
        let p = PkceCode::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        assert_eq!(p.challenge(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn verifiers_are_long_random_and_unreserved() {
        let a = PkceCode::new();
        let b = PkceCode::new();
        assert_eq!(a.verifier().expose().len(), PkceCode::DEFAULT_LENGTH);
        assert_ne!(a.verifier(), b.verifier());
        for n in [43, 128] {
            let p = PkceCode::with_length(n).unwrap();
            assert_eq!(p.verifier().expose().len(), n);
            assert!(
                p.verifier()
                    .expose()
                    .bytes()
                    .all(|c| UNRESERVED.contains(&c))
            );
            assert_eq!(p.challenge(), challenge_of(p.verifier().expose()));
            // 32 bytes of digest, base64url without padding.
            assert_eq!(p.challenge().len(), 43);
            assert!(!p.challenge().contains(['=', '+', '/']));
        }
        assert_eq!(
            PkceCode::with_length(42).unwrap_err(),
            OAuthError::BadVerifier
        );
        assert_eq!(
            PkceCode::with_length(129).unwrap_err(),
            OAuthError::BadVerifier
        );
        let short = "a".repeat(42);
        assert!(PkceCode::from_verifier(short.as_str()).is_err());
        let bad_char = format!("{}!", "a".repeat(50));
        assert!(PkceCode::from_verifier(bad_char.as_str()).is_err());
        // Over many draws every character of the set appears: the choice is not biased to
        // a part of it.
        let mut seen = [false; 256];
        for _ in 0..50 {
            for c in PkceCode::with_length(128)
                .unwrap()
                .verifier()
                .expose()
                .bytes()
            {
                seen[c as usize] = true;
            }
        }
        assert!(UNRESERVED.iter().all(|&c| seen[c as usize]));
    }

    #[test]
    fn redirect_codes_and_states() {
        let s = Secret::new("st 1");
        assert_eq!(
            code_from_redirect("http://127.0.0.1/cb?code=abc&state=st%201", Some(&s))
                .unwrap()
                .expose(),
            "abc"
        );
        assert_eq!(
            code_from_redirect("http://127.0.0.1/cb?code=abc&state=other", Some(&s)),
            Err(OAuthError::StateMismatch)
        );
        assert_eq!(
            code_from_redirect("http://127.0.0.1/cb?code=abc", Some(&s)),
            Err(OAuthError::StateMismatch)
        );
        assert_eq!(
            code_from_redirect("http://x/cb?state=st%201", Some(&s)),
            Err(OAuthError::NoCode)
        );
        assert_eq!(
            code_from_redirect(
                "http://x/cb?error=access_denied&error_description=The+user+said+no",
                None
            ),
            Err(OAuthError::Denied("access_denied: The user said no".into()))
        );
        assert_eq!(
            code_from_redirect("http://x/cb?code=c#frag", None)
                .unwrap()
                .expose(),
            "c"
        );
    }

    #[test]
    fn authorize_urls() {
        let url = AuthorizeUrlBuilder::new("k")
            .base_url("http://127.0.0.1:9/")
            .redirect_uri("http://127.0.0.1:9/cb?x=1")
            .state("s/1")
            .force_reapprove(true)
            .build();
        assert_eq!(
            url,
            "http://127.0.0.1:9/oauth2/authorize?client_id=k&response_type=code\
             &redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb%3Fx%3D1&state=s%2F1&force_reapprove=true"
        );
        assert_eq!(
            AuthorizeUrlBuilder::new("k")
                .token_access_type(TokenAccessType::Online)
                .build(),
            "https://www.dropbox.com/oauth2/authorize?client_id=k&response_type=code&token_access_type=online"
        );
    }

    #[test]
    fn debug_hides_the_verifier_and_the_state() {
        let p = PkceCode::new();
        let b = AuthorizeUrlBuilder::new("k").state("STATE-SECRET").pkce(&p);
        let shown = format!("{p:?} {b:?}");
        assert!(!shown.contains(p.verifier().expose()), "{shown}");
        assert!(!shown.contains("STATE-SECRET"), "{shown}");
        assert!(shown.contains(p.challenge()), "{shown}");
    }
}
