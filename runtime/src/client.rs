//! The HTTP transport: builds each request the way Dropbox expects for the route's style,
//! sends it, and maps the response to a value or an [`Error`].

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RANGE, USER_AGENT};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::download::{ByteRange, Download};
use crate::error::{ApiError, Error, ErrorTypes, RateLimitReason, UserMessage};
use crate::header::escape_header_json;
use crate::route::{Host, RouteSpec, Style};
use crate::secret::Secret;
use crate::token::{StaticToken, TokenError, TokenProvider};
use crate::validate::Validate;

/// The Dropbox API servers.
pub const DEFAULT_API_URL: &str = "https://api.dropboxapi.com";
/// The Dropbox content servers (uploads and downloads).
pub const DEFAULT_CONTENT_URL: &str = "https://content.dropboxapi.com";
/// The Dropbox notification servers (long polling).
pub const DEFAULT_NOTIFY_URL: &str = "https://notify.dropboxapi.com";
/// The OAuth2 token endpoint.
pub const DEFAULT_TOKEN_URL: &str = "https://api.dropboxapi.com/oauth2/token";

/// Longest error body kept in an [`Error`].
const MAX_ERROR_BODY: usize = 2048;

/// Where requests go and how they are sent.
#[derive(Debug, Clone)]
pub struct Config {
    /// Base URL of the `api` host (no trailing slash).
    pub api_url: String,
    /// Base URL of the `content` host.
    pub content_url: String,
    /// Base URL of the `notify` host.
    pub notify_url: String,
    /// The OAuth2 token endpoint.
    pub token_url: String,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// Timeout of a whole request (`None`: no limit, as suits large transfers).
    pub timeout: Option<Duration>,
    /// Timeout of establishing a connection.
    pub connect_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            api_url: DEFAULT_API_URL.into(),
            content_url: DEFAULT_CONTENT_URL.into(),
            notify_url: DEFAULT_NOTIFY_URL.into(),
            token_url: DEFAULT_TOKEN_URL.into(),
            user_agent: concat!("dropbox-api-rs/", env!("CARGO_PKG_VERSION")).into(),
            timeout: None,
            connect_timeout: Duration::from_secs(30),
        }
    }
}

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

/// Acting as a team member or admin with a team token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Select {
    User(String),
    Admin(String),
}

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

/// Sends route calls. Every client holds one; generated route functions reach it through
/// [`AuthClient::transport`](crate::auth::AuthClient::transport).
#[derive(Debug, Clone)]
pub struct Transport {
    http: reqwest::Client,
    config: Arc<Config>,
    credentials: Credentials,
    select: Option<Select>,
    path_root: Option<HeaderValue>,
    shared: Arc<Shared>,
}

/// Values shared by every clone of one client (for example an upload toolkit's per-account
/// commit queue), one per type.
#[derive(Default)]
struct Shared {
    values: std::sync::Mutex<
        std::collections::HashMap<std::any::TypeId, Arc<dyn std::any::Any + Send + Sync>>,
    >,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Shared")
    }
}

/// Builds clients: credentials, hosts, timeouts, user agent, path root.
///
/// ```no_run
/// use dropbox_api_runtime::ClientBuilder;
/// let client = ClientBuilder::new()
///     .access_token("sl.example-token")
///     .base_url("http://127.0.0.1:8080") // a local emulator
///     .build_user()
///     .unwrap();
/// # let _ = client;
/// ```
#[derive(Debug, Default)]
pub struct ClientBuilder {
    config: Config,
    credentials: Option<Credentials>,
    path_root: Option<Result<String, String>>,
    http: Option<reqwest::Client>,
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
        use base64::Engine as _;
        let raw = format!("{app_key}:{}", app_secret.into().expose());
        let header = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        );
        self.credentials = Some(Credentials::Basic {
            header: Secret::new(header),
        });
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

    /// Timeout of each whole request (none by default, since uploads can be large).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = Some(timeout);
        self
    }

    /// Timeout of establishing a connection (30 s by default).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// Sets `Dropbox-API-Path-Root` on every request, e.g. `&common::PathRoot::Root(nsid)`.
    pub fn path_root<T: Serialize>(mut self, root: &T) -> Self {
        self.path_root = Some(serde_json::to_string(root).map_err(|e| e.to_string()));
        self
    }

    /// Uses an existing `reqwest::Client` (its own timeouts and TLS settings apply).
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
            None => {
                let mut b = reqwest::Client::builder().connect_timeout(self.config.connect_timeout);
                if let Some(t) = self.config.timeout {
                    b = b.timeout(t);
                }
                b.build().map_err(|e| BuildError::Http(e.to_string()))?
            }
        };
        let credentials = match self.credentials {
            Some(c) => c,
            None if require_credentials => return Err(BuildError::MissingCredentials),
            None => Credentials::None,
        };
        let config = Arc::new(self.config);
        // A refresh-token provider needs the HTTP client and token URL, known only now.
        if let Credentials::Bearer(p) = &credentials {
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
            shared: Arc::default(),
        })
    }

    /// A client for `user` routes.
    pub fn build_user(self) -> Result<crate::auth::UserClient, BuildError> {
        Ok(crate::auth::UserClient::from_transport(
            self.transport(true)?,
        ))
    }

    /// A client for `team` routes (with a team token).
    pub fn build_team(self) -> Result<crate::auth::TeamClient, BuildError> {
        Ok(crate::auth::TeamClient::from_transport(
            self.transport(true)?,
        ))
    }

    /// A client for `app` routes (with [`ClientBuilder::app_credentials`]).
    pub fn build_app(self) -> Result<crate::auth::AppClient, BuildError> {
        Ok(crate::auth::AppClient::from_transport(
            self.transport(true)?,
        ))
    }

    /// A client for `noauth` routes.
    pub fn build_noauth(mut self) -> Result<crate::auth::NoAuthClient, BuildError> {
        self.credentials = Some(Credentials::None);
        Ok(crate::auth::NoAuthClient::from_transport(
            self.transport(false)?,
        ))
    }
}

/// A refresh-token provider whose HTTP client and endpoint are bound when the client is built.
struct LazyRefresh {
    refresh_token: Secret,
    app_key: String,
    app_secret: Option<Secret>,
    inner: std::sync::OnceLock<crate::token::RefreshingToken>,
}

impl LazyRefresh {
    fn get(&self) -> Result<&crate::token::RefreshingToken, TokenError> {
        self.inner.get().ok_or(TokenError::CannotRefresh)
    }
}

impl TokenProvider for LazyRefresh {
    fn token(&self) -> crate::token::BoxFuture<'_, Result<Secret, TokenError>> {
        Box::pin(async move { self.get()?.token().await })
    }

    fn refresh(&self, stale: &Secret) -> crate::token::BoxFuture<'_, Result<Secret, TokenError>> {
        let stale = stale.clone();
        Box::pin(async move { self.get()?.refresh(&stale).await })
    }

    fn can_refresh(&self) -> bool {
        true
    }

    fn bind(&self, http: &reqwest::Client, token_url: &str) {
        let _ = self.inner.set(crate::token::RefreshingToken::new(
            self.refresh_token.clone(),
            self.app_key.clone(),
            self.app_secret.clone(),
            token_url,
            http.clone(),
        ));
    }
}

/// What to send as the body.
enum Payload<'a> {
    Json(&'a str),
    Bytes(reqwest::Body),
    Empty,
}

impl Transport {
    /// The underlying HTTP client (for requests outside the API, such as temporary upload links).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Where requests go.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A value of type `T` shared by this client and its clones (created on first use).
    /// A team client's `as_user`/`as_admin` clients act for another account and get their own.
    pub fn shared<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut map = match self.shared.values.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        let entry = map
            .entry(std::any::TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()));
        match entry.clone().downcast::<T>() {
            Ok(v) => v,
            Err(_) => {
                // Unreachable: the map is keyed by the type. Replace rather than panic.
                let v = Arc::new(T::default());
                *entry = v.clone();
                v
            }
        }
    }

    pub(crate) fn with_select(&self, select: Select) -> Transport {
        let mut t = self.clone();
        t.select = Some(select);
        t.shared = Arc::default();
        t
    }

    fn url(&self, route: &RouteSpec) -> String {
        let base = match route.host {
            Host::Api => &self.config.api_url,
            Host::Content => &self.config.content_url,
            Host::Notify => &self.config.notify_url,
        };
        format!("{base}{}", route.path)
    }

    /// Calls an RPC route: JSON argument in the body, JSON result in the body.
    pub async fn rpc<A, R, E, P>(
        &self,
        route: &'static RouteSpec,
        arg: &A,
    ) -> Result<R, Error<E, P>>
    where
        A: Serialize + Validate + ?Sized,
        R: DeserializeOwned,
        E: DeserializeOwned,
        P: ErrorTypes,
    {
        arg.validate().map_err(Error::Validation)?;
        let json = encode_arg(route, arg)?;
        let response = self
            .send(route, Payload::Json(&json), None, None, || None)
            .await?;
        decode_body(route, response).await
    }

    /// Calls an upload route: argument in `Dropbox-API-Arg`, the body streamed as-is.
    pub async fn upload<A, R, E, P>(
        &self,
        route: &'static RouteSpec,
        arg: &A,
        body: crate::Body,
    ) -> Result<R, Error<E, P>>
    where
        A: Serialize + Validate + ?Sized,
        R: DeserializeOwned,
        E: DeserializeOwned,
        P: ErrorTypes,
    {
        arg.validate().map_err(Error::Validation)?;
        let header = arg_header(route, arg)?;
        // Only an in-memory body can be sent a second time after a token refresh; its
        // bytes are shared, not copied.
        let (again, body) = body.into_parts();
        let response = self
            .send(route, Payload::Bytes(body), Some(header), None, move || {
                again.clone().map(reqwest::Body::from)
            })
            .await?;
        decode_body(route, response).await
    }

    /// Calls a download route: argument in `Dropbox-API-Arg`, result in
    /// `Dropbox-API-Result`, the body returned as a stream.
    pub async fn download<A, R, E, P>(
        &self,
        route: &'static RouteSpec,
        arg: &A,
        range: Option<ByteRange>,
    ) -> Result<Download<R>, Error<E, P>>
    where
        A: Serialize + Validate + ?Sized,
        R: DeserializeOwned,
        E: DeserializeOwned,
        P: ErrorTypes,
    {
        arg.validate().map_err(Error::Validation)?;
        let header = arg_header(route, arg)?;
        let response = self
            .send(route, Payload::Empty, Some(header), range, || None)
            .await?;
        let raw = response
            .headers()
            .get("dropbox-api-result")
            .ok_or_else(|| Error::Decode {
                route: route.path,
                message: "the response has no Dropbox-API-Result header".into(),
            })?;
        let result: R = serde_json::from_slice(raw.as_bytes()).map_err(|e| Error::Decode {
            route: route.path,
            message: format!("Dropbox-API-Result: {e}"),
        })?;
        Ok(Download::new(result, response))
    }

    async fn auth_header(&self, token: Option<&Secret>) -> Result<Option<HeaderValue>, TokenError> {
        let value = match (&self.credentials, token) {
            (Credentials::Bearer(_), Some(t)) => format!("Bearer {}", t.expose()),
            (Credentials::Basic { header }, _) => header.expose().to_owned(),
            _ => return Ok(None),
        };
        let mut v = HeaderValue::from_str(&value)
            .map_err(|_| TokenError::Malformed("the token is not a valid header value".into()))?;
        v.set_sensitive(true);
        Ok(Some(v))
    }

    /// Sends a request, refreshing the token once on `expired_access_token` when the body can
    /// be sent again (`resend` gives a fresh copy of an upload body).
    async fn send<E, P: ErrorTypes>(
        &self,
        route: &'static RouteSpec,
        payload: Payload<'_>,
        arg_header: Option<HeaderValue>,
        range: Option<ByteRange>,
        resend: impl Fn() -> Option<reqwest::Body>,
    ) -> Result<reqwest::Response, Error<E, P>>
    where
        E: DeserializeOwned,
    {
        let provider = match &self.credentials {
            Credentials::Bearer(p) => Some(p.clone()),
            _ => None,
        };
        let mut token = match &provider {
            Some(p) => Some(p.token().await.map_err(Error::Token)?),
            None => None,
        };
        let mut payload = Some(payload);
        let json_body = match &payload {
            Some(Payload::Json(j)) => Some(j.to_string()),
            _ => None,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let body = match payload.take() {
                Some(Payload::Json(j)) => Some(reqwest::Body::from(j.to_owned())),
                Some(Payload::Bytes(b)) => Some(b),
                Some(Payload::Empty) => None,
                None => match (&json_body, route.style) {
                    (Some(j), _) => Some(reqwest::Body::from(j.clone())),
                    (None, Style::Upload) => resend(),
                    (None, _) => None,
                },
            };
            let mut headers = HeaderMap::new();
            if let Some(v) = self
                .auth_header(token.as_ref())
                .await
                .map_err(Error::Token)?
            {
                headers.insert(AUTHORIZATION, v);
            }
            if let Ok(ua) = HeaderValue::from_str(&self.config.user_agent) {
                headers.insert(USER_AGENT, ua);
            }
            match &self.select {
                Some(Select::User(id)) => {
                    if let Ok(v) = HeaderValue::from_str(id) {
                        headers.insert("dropbox-api-select-user", v);
                    }
                }
                Some(Select::Admin(id)) => {
                    if let Ok(v) = HeaderValue::from_str(id) {
                        headers.insert("dropbox-api-select-admin", v);
                    }
                }
                None => {}
            }
            if let Some(root) = &self.path_root {
                headers.insert("dropbox-api-path-root", root.clone());
            }
            if let Some(arg) = &arg_header {
                headers.insert("dropbox-api-arg", arg.clone());
            }
            match route.style {
                Style::Rpc => {
                    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                }
                Style::Upload => {
                    headers.insert(
                        CONTENT_TYPE,
                        HeaderValue::from_static("application/octet-stream"),
                    );
                }
                Style::Download => {}
            }
            if let Some(r) = range
                && let Ok(v) = HeaderValue::from_str(&r.header_value())
            {
                headers.insert(RANGE, v);
            }
            let mut request = self.http.post(self.url(route)).headers(headers);
            if let Some(body) = body {
                request = request.body(body);
            }
            let response = request
                .send()
                .await
                .map_err(|e| Error::Transport(e.without_url()))?;
            let status = response.status().as_u16();
            tracing::debug!(
                target: "dropbox_api_runtime",
                route = route.path,
                status,
                attempt,
                "dropbox request"
            );
            if response.status().is_success() {
                return Ok(response);
            }
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let is_json = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json"));
            let bytes = response
                .bytes()
                .await
                .map_err(|e| Error::Transport(e.without_url()))?;
            // One refresh-and-retry on an expired token, if the body can be sent again.
            if status == 401
                && attempt == 1
                && let Some(p) = &provider
                && p.can_refresh()
                && tag_of(&bytes).as_deref() == Some("expired_access_token")
                && (json_body.is_some() || route.style != Style::Upload || resend().is_some())
                && let Some(stale) = &token
            {
                token = Some(p.refresh(stale).await.map_err(Error::Token)?);
                continue;
            }
            return Err(error_from_status(status, &bytes, is_json, retry_after));
        }
    }
}

fn encode_arg<A: Serialize + ?Sized, E, P: ErrorTypes>(
    route: &'static RouteSpec,
    arg: &A,
) -> Result<String, Error<E, P>> {
    serde_json::to_string(arg).map_err(|e| Error::Decode {
        route: route.path,
        message: format!("could not encode the argument: {e}"),
    })
}

fn arg_header<A: Serialize + ?Sized, E, P: ErrorTypes>(
    route: &'static RouteSpec,
    arg: &A,
) -> Result<HeaderValue, Error<E, P>> {
    let json = encode_arg(route, arg)?;
    HeaderValue::from_str(&escape_header_json(&json)).map_err(|e| Error::Decode {
        route: route.path,
        message: format!("the argument is not a valid header value: {e}"),
    })
}

async fn decode_body<R: DeserializeOwned, E, P: ErrorTypes>(
    route: &'static RouteSpec,
    response: reqwest::Response,
) -> Result<R, Error<E, P>> {
    let bytes = response
        .bytes()
        .await
        .map_err(|e| Error::Transport(e.without_url()))?;
    // A Void result may come back as an empty body rather than `null`.
    let body: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"null"
    } else {
        &bytes
    };
    serde_json::from_slice(body).map_err(|e| Error::Decode {
        route: route.path,
        message: e.to_string(),
    })
}

/// The `.tag` of the `error` of a JSON error envelope.
fn tag_of(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    match v.get("error")? {
        serde_json::Value::String(s) => Some(s.clone()),
        other => other.get(".tag")?.as_str().map(str::to_owned),
    }
}

fn text(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(body);
    if s.len() > MAX_ERROR_BODY {
        let mut end = MAX_ERROR_BODY;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    } else {
        s.into_owned()
    }
}

#[derive(serde::Deserialize)]
struct Envelope<T> {
    error: T,
    #[serde(default)]
    error_summary: String,
    #[serde(default)]
    user_message: Option<UserMessage>,
}

fn envelope<T: DeserializeOwned>(body: &[u8]) -> Result<ApiError<T>, String> {
    serde_json::from_slice::<Envelope<T>>(body)
        .map(|e| ApiError {
            error: e.error,
            summary: e.error_summary,
            user_message: e.user_message,
        })
        .map_err(|e| e.to_string())
}

/// Maps a non-success response to its error variant.
pub(crate) fn error_from_status<E: DeserializeOwned, P: ErrorTypes>(
    status: u16,
    body: &[u8],
    is_json: bool,
    retry_after_header: Option<u64>,
) -> Error<E, P> {
    let undecodable = |status| Error::UnexpectedStatus {
        status,
        body: text(body),
    };
    match status {
        400 => Error::BadRequest(text(body)),
        401 => envelope(body).map_or_else(|_| undecodable(401), Error::Auth),
        403 => envelope(body).map_or_else(|_| undecodable(403), Error::Access),
        409 => envelope(body).map_or_else(|_| undecodable(409), Error::Route),
        422 => envelope(body).map_or_else(|_| undecodable(422), Error::PathRoot),
        429 => {
            #[derive(serde::Deserialize)]
            struct RateLimit {
                #[serde(default)]
                reason: Option<serde_json::Value>,
                #[serde(default)]
                retry_after: Option<u64>,
            }
            let parsed = if is_json || body.first() == Some(&b'{') {
                serde_json::from_slice::<Envelope<RateLimit>>(body).ok()
            } else {
                None
            };
            let reason = match parsed.as_ref().and_then(|p| p.error.reason.as_ref()) {
                Some(r) => {
                    let tag = match r {
                        serde_json::Value::String(s) => s.as_str(),
                        other => other.get(".tag").and_then(|t| t.as_str()).unwrap_or(""),
                    };
                    match tag {
                        "too_many_requests" => RateLimitReason::TooManyRequests,
                        "too_many_write_operations" => RateLimitReason::TooManyWriteOperations,
                        other => RateLimitReason::Other(other.to_owned()),
                    }
                }
                // A plain-text 429 means too many requests.
                None => RateLimitReason::TooManyRequests,
            };
            let seconds = retry_after_header
                .or_else(|| parsed.as_ref().and_then(|p| p.error.retry_after))
                .unwrap_or(1);
            Error::RateLimited {
                reason,
                retry_after: Duration::from_secs(seconds),
            }
        }
        500..=599 => Error::Server {
            status,
            body: text(body),
        },
        other => undecodable(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Untyped;

    type E = Error<serde_json::Value, Untyped>;

    #[test]
    fn statuses_map_to_variants() {
        let env = br#"{"error_summary":"path/not_found/","error":{".tag":"path","path":{".tag":"not_found"}},"user_message":{"text":"Nope","locale":"en"}}"#;
        match error_from_status::<serde_json::Value, Untyped>(409, env, true, None) {
            Error::Route(e) => {
                assert_eq!(e.summary, "path/not_found/");
                assert_eq!(e.user_message.unwrap().text, "Nope");
                assert_eq!(e.error["path"][".tag"], "not_found");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            error_from_status::<serde_json::Value, Untyped>(400, b"Error in call: bad", false, None),
            Error::BadRequest(t) if t == "Error in call: bad"
        ));
        let e: E = error_from_status(503, b"busy", false, None);
        assert!(e.is_transient() && e.status() == Some(503));
        let e: E = error_from_status(418, b"teapot", false, None);
        assert!(matches!(e, Error::UnexpectedStatus { status: 418, .. }));
    }

    #[test]
    fn rate_limits_prefer_the_header_then_the_body_then_one_second() {
        let body = br#"{"error_summary":"too_many_write_operations/","error":{"reason":{".tag":"too_many_write_operations"},"retry_after":7}}"#;
        let e: E = error_from_status(429, body, true, Some(3));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        let e: E = error_from_status(429, body, true, None);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        assert!(matches!(
            e,
            Error::RateLimited {
                reason: RateLimitReason::TooManyWriteOperations,
                ..
            }
        ));
        let e: E = error_from_status(429, b"Too many requests", false, None);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(1)));
        assert!(matches!(
            e,
            Error::RateLimited {
                reason: RateLimitReason::TooManyRequests,
                ..
            }
        ));
    }

    #[test]
    fn expired_token_tag_is_found() {
        assert_eq!(
            tag_of(br#"{"error_summary":"expired_access_token/","error":{".tag":"expired_access_token"}}"#).as_deref(),
            Some("expired_access_token")
        );
    }
}
