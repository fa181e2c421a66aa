//! Tokens: the development token, OAuth2 access and refresh tokens, authorization codes
//! with PKCE, the authorize step (`GET /oauth2/authorize`, approved at once), the
//! `/oauth2/token` grant logic, and revocation (`auth/token/revoke`).

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::clock::{self, EmulatorClock};
use crate::config::OAuthApp;

/// The PKCE `code_challenge_method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkceMethod {
    /// `S256`: the challenge is base64url(SHA-256(verifier)) without padding.
    S256,
    /// `plain`: the challenge is the verifier.
    Plain,
}

impl PkceMethod {
    /// The challenge for a verifier.
    pub fn challenge(self, verifier: &str) -> String {
        match self {
            PkceMethod::Plain => verifier.to_string(),
            PkceMethod::S256 => base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(Sha256::digest(verifier.as_bytes())),
        }
    }

    fn parse(s: &str) -> Option<PkceMethod> {
        match s {
            "S256" => Some(PkceMethod::S256),
            "plain" => Some(PkceMethod::Plain),
            _ => None,
        }
    }
}

/// The state of a bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenState {
    /// Usable.
    Valid,
    /// Known but past its lifetime.
    Expired,
    /// Unknown.
    Invalid,
}

/// An error of the OAuth test helpers and of the authorize step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// The client id is not a registered app.
    #[error("unknown client_id {0:?}")]
    UnknownClient(String),
    /// The authorize request is malformed (the message says which parameter).
    #[error("invalid authorize request: {0}")]
    InvalidRequest(String),
}

/// An OAuth2 error answer (`{"error": ..., "error_description": ...}`, status 400).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct TokenFailure {
    pub(crate) error: &'static str,
    pub(crate) error_description: String,
}

fn failure(error: &'static str, d: impl Into<String>) -> TokenFailure {
    TokenFailure {
        error,
        error_description: d.into(),
    }
}

/// The success answer of `/oauth2/token` (OAuth2 wire format, not part of the Stone spec).
#[derive(Clone, PartialEq, Eq, Serialize)]
pub(crate) struct TokenResponse {
    pub(crate) access_token: String,
    token_type: &'static str,
    expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<String>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// The scopes granted when an authorize request names none (the app's scopes).
pub const DEFAULT_SCOPES: &str =
    "account_info.read files.content.read files.content.write files.metadata.read";

/// The longest `state` Dropbox accepts (bytes).
const MAX_STATE: usize = 500;

/// An approved authorize request.
#[derive(Clone, PartialEq, Eq)]
pub struct Approval {
    /// The authorization code (single use, valid 10 minutes).
    pub code: String,
    /// Where the browser is sent: the request's `redirect_uri` with `code` and `state`
    /// appended; `None` in the copy-paste flow (no `redirect_uri`).
    pub redirect: Option<String>,
    /// The request's `state`, returned as it was.
    pub state: Option<String>,
}

impl fmt::Debug for Approval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Approval")
            .field("code", &"<redacted>")
            .field("redirect", &self.redirect.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

struct Code {
    client_id: String,
    challenge: Option<(String, PkceMethod)>,
    redirect_uri: Option<String>,
    expires: DateTime<Utc>,
    /// `token_access_type=offline`: the exchange issues a refresh token.
    offline: bool,
    scope: String,
}

struct Refresh {
    client_id: String,
    pkce: bool,
}

struct Access {
    /// `None`: never expires (the development token).
    expires: Option<DateTime<Utc>>,
    /// The refresh token it was issued from (revoking it revokes the whole family).
    family: Option<String>,
}

#[derive(Default)]
struct Inner {
    access: HashMap<String, Access>,
    refresh: HashMap<String, Refresh>,
    codes: HashMap<String, Code>,
    apps: Vec<OAuthApp>,
}

/// The token store of an emulator. Tokens never appear in its `Debug` output.
pub struct OAuth {
    inner: Mutex<Inner>,
    clock: EmulatorClock,
    lifetime: Duration,
    account_id: String,
}

impl fmt::Debug for OAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth")
            .field("lifetime", &self.lifetime)
            .field("account_id", &self.account_id)
            .finish_non_exhaustive()
    }
}

/// The development account's id.
pub(crate) const UID: &str = "1000001";

impl OAuth {
    pub(crate) fn new(
        clock: EmulatorClock,
        lifetime: Duration,
        apps: Vec<OAuthApp>,
        dev_token: &str,
    ) -> OAuth {
        let mut inner = Inner {
            apps,
            ..Inner::default()
        };
        inner.access.insert(
            dev_token.to_string(),
            Access {
                expires: None,
                family: None,
            },
        );
        OAuth {
            inner: Mutex::new(inner),
            clock,
            lifetime,
            account_id: "dbid:AADbxEmulatorDevelopmentAccount000000".into(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The emulated account's id.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    pub(crate) fn check(&self, token: &str) -> TokenState {
        match self.lock().access.get(token) {
            None => TokenState::Invalid,
            Some(Access { expires: None, .. }) => TokenState::Valid,
            Some(Access {
                expires: Some(exp), ..
            }) if *exp > self.clock.now() => TokenState::Valid,
            Some(_) => TokenState::Expired,
        }
    }

    /// Registers another app.
    pub fn register_app(&self, app: OAuthApp) {
        let mut inner = self.lock();
        inner.apps.retain(|a| a.client_id != app.client_id);
        inner.apps.push(app);
    }

    /// Issues an access token that expires after `lifetime` (`None`: the configured
    /// lifetime).
    pub fn issue_access_token(&self, lifetime: Option<Duration>) -> String {
        let token = crate::ids::access_token();
        let exp = clock::add(self.clock.now(), lifetime.unwrap_or(self.lifetime));
        self.lock().access.insert(
            token.clone(),
            Access {
                expires: Some(exp),
                family: None,
            },
        );
        token
    }

    /// Issues a refresh token for a registered app (as if its user had authorized it
    /// with a secret-based flow).
    pub fn issue_refresh_token(&self, client_id: &str) -> Result<String, OAuthError> {
        let mut inner = self.lock();
        if !inner.apps.iter().any(|a| a.client_id == client_id) {
            return Err(OAuthError::UnknownClient(client_id.into()));
        }
        let token = crate::ids::secret(64);
        inner.refresh.insert(
            token.clone(),
            Refresh {
                client_id: client_id.into(),
                pkce: false,
            },
        );
        Ok(token)
    }

    /// Issues an authorization code, as the `/oauth2/authorize` page would after the user
    /// approved (`token_access_type=offline`, the default scopes). With a PKCE challenge the
    /// code must be redeemed with its verifier.
    pub fn authorize(
        &self,
        client_id: &str,
        challenge: Option<(&str, PkceMethod)>,
        redirect_uri: Option<&str>,
    ) -> Result<String, OAuthError> {
        self.new_code(
            client_id,
            challenge.map(|(c, m)| (c.to_string(), m)),
            redirect_uri.map(str::to_string),
            true,
            DEFAULT_SCOPES.into(),
        )
    }

    fn new_code(
        &self,
        client_id: &str,
        challenge: Option<(String, PkceMethod)>,
        redirect_uri: Option<String>,
        offline: bool,
        scope: String,
    ) -> Result<String, OAuthError> {
        let mut inner = self.lock();
        if !inner.apps.iter().any(|a| a.client_id == client_id) {
            return Err(OAuthError::UnknownClient(client_id.into()));
        }
        let code = crate::ids::secret(43);
        inner.codes.insert(
            code.clone(),
            Code {
                client_id: client_id.into(),
                challenge,
                redirect_uri,
                expires: clock::add(self.clock.now(), Duration::from_secs(600)),
                offline,
                scope,
            },
        );
        Ok(code)
    }

    /// Approves an authorize URL (`https://www.dropbox.com/oauth2/authorize?...`, or just
    /// its query) as the emulator's one user would, and returns the code: what
    /// `GET /oauth2/authorize` does, for tests that do not go through HTTP.
    ///
    /// Checked as Dropbox checks them: `client_id` (a registered app), `response_type=code`,
    /// `redirect_uri` (an absolute URL, if given), `token_access_type` (`offline`, `online`
    /// or `legacy`; only `offline` gets a refresh token), `code_challenge` (43 to 128
    /// characters) with `code_challenge_method` (`S256` or `plain`, the default), `state`
    /// (at most 500 bytes). `scope` (space-separated) is granted as asked; without it the
    /// [`DEFAULT_SCOPES`].
    pub fn approve(&self, authorize_url: &str) -> Result<Approval, OAuthError> {
        let query = match authorize_url.split_once('?') {
            Some((_, q)) => q,
            None => authorize_url,
        };
        let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        self.approve_params(&params)
    }

    /// [`OAuth::approve`] with the parameters decoded.
    pub(crate) fn approve_params(
        &self,
        q: &HashMap<String, String>,
    ) -> Result<Approval, OAuthError> {
        let get = |k: &str| q.get(k).map(String::as_str).filter(|v| !v.is_empty());
        let bad = |m: &str| Err(OAuthError::InvalidRequest(m.into()));
        let Some(client_id) = get("client_id") else {
            return bad("client_id is missing");
        };
        match get("response_type") {
            Some("code") => {}
            Some(_) => return bad("response_type must be \"code\""),
            None => return bad("response_type is missing"),
        }
        let redirect_uri = get("redirect_uri");
        if let Some(uri) = redirect_uri
            && url::Url::parse(uri).is_err()
        {
            return bad("redirect_uri is not an absolute URL");
        }
        let offline = match get("token_access_type") {
            Some("offline") => true,
            None | Some("online") | Some("legacy") => false,
            Some(_) => {
                return bad("token_access_type must be \"offline\", \"online\" or \"legacy\"");
            }
        };
        let challenge = match (get("code_challenge"), get("code_challenge_method")) {
            (None, None) => None,
            (None, Some(_)) => return bad("code_challenge_method without code_challenge"),
            (Some(c), method) => {
                let Some(method) = PkceMethod::parse(method.unwrap_or("plain")) else {
                    return bad("code_challenge_method must be \"S256\" or \"plain\"");
                };
                if !(43..=128).contains(&c.len()) {
                    return bad("code_challenge must be 43 to 128 characters");
                }
                Some((c.to_string(), method))
            }
        };
        let state = get("state");
        if state.is_some_and(|s| s.len() > MAX_STATE) {
            return bad("state is longer than 500 bytes");
        }
        let scope = match get("scope") {
            Some(s) => s.split_whitespace().collect::<Vec<_>>().join(" "),
            None => String::new(),
        };
        let scope = if scope.is_empty() {
            DEFAULT_SCOPES.to_string()
        } else {
            scope
        };
        let code = self.new_code(
            client_id,
            challenge,
            redirect_uri.map(str::to_string),
            offline,
            scope,
        )?;
        let redirect = redirect_uri.map(|uri| {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.append_pair("code", &code);
            if let Some(s) = state {
                query.append_pair("state", s);
            }
            let sep = if uri.contains('?') { '&' } else { '?' };
            format!("{uri}{sep}{}", query.finish())
        });
        Ok(Approval {
            code,
            redirect,
            state: state.map(str::to_string),
        })
    }

    /// Revokes an access token (`auth/token/revoke`); when it was issued from a refresh
    /// token, that refresh token and every access token issued from it go too. Returns
    /// whether the token was known.
    pub(crate) fn revoke(&self, access_token: &str) -> bool {
        let mut inner = self.lock();
        let Some(access) = inner.access.remove(access_token) else {
            return false;
        };
        if let Some(family) = access.family {
            inner.refresh.remove(&family);
            inner
                .access
                .retain(|_, a| a.family.as_deref() != Some(family.as_str()));
        }
        true
    }

    /// Handles a `/oauth2/token` request given its form fields (and HTTP Basic client
    /// credentials, if any).
    pub(crate) fn token(
        &self,
        form: &HashMap<String, String>,
        basic: Option<(String, String)>,
    ) -> Result<TokenResponse, TokenFailure> {
        let get = |k: &str| form.get(k).map(String::as_str).filter(|v| !v.is_empty());
        let (client_id, client_secret) = match &basic {
            Some((id, secret)) => (Some(id.as_str()), Some(secret.as_str())),
            None => (get("client_id"), get("client_secret")),
        };
        let Some(client_id) = client_id else {
            return Err(failure("invalid_request", "No client_id"));
        };
        let mut inner = self.lock();
        let Some(app) = inner
            .apps
            .iter()
            .find(|a| a.client_id == client_id)
            .cloned()
        else {
            return Err(failure(
                "invalid_client",
                "Invalid client_id or client_secret",
            ));
        };
        if let Some(given) = client_secret
            && app.client_secret.as_deref() != Some(given)
        {
            return Err(failure(
                "invalid_client",
                "Invalid client_id or client_secret",
            ));
        }
        let secret_ok = client_secret.is_some();
        match get("grant_type") {
            Some("refresh_token") => {
                let Some(rt) = get("refresh_token") else {
                    return Err(failure("invalid_request", "No refresh_token"));
                };
                let Some(r) = inner.refresh.get(rt) else {
                    return Err(failure(
                        "invalid_grant",
                        "refresh token is invalid or revoked",
                    ));
                };
                if r.client_id != client_id {
                    return Err(failure("invalid_grant", "refresh token is for another app"));
                }
                if !r.pkce && app.client_secret.is_some() && !secret_ok {
                    return Err(failure("invalid_client", "No client_secret"));
                }
                let token = self.new_access(&mut inner, Some(rt));
                Ok(TokenResponse {
                    access_token: token,
                    token_type: "bearer",
                    expires_in: self.lifetime.as_secs(),
                    refresh_token: None,
                    scope: None,
                    uid: None,
                    account_id: None,
                })
            }
            Some("authorization_code") => {
                let Some(code) = get("code") else {
                    return Err(failure("invalid_request", "No code"));
                };
                let Some(c) = inner.codes.remove(code) else {
                    return Err(failure(
                        "invalid_grant",
                        "code doesn't exist or has expired",
                    ));
                };
                if c.expires <= self.clock.now() {
                    return Err(failure(
                        "invalid_grant",
                        "code doesn't exist or has expired",
                    ));
                }
                if c.client_id != client_id {
                    return Err(failure("invalid_grant", "code was issued to another app"));
                }
                if c.redirect_uri.as_deref() != get("redirect_uri") && c.redirect_uri.is_some() {
                    return Err(failure("invalid_grant", "redirect_uri mismatch"));
                }
                let pkce = match &c.challenge {
                    Some((challenge, method)) => {
                        let Some(verifier) = get("code_verifier") else {
                            return Err(failure("invalid_request", "No code_verifier"));
                        };
                        if method.challenge(verifier) != *challenge {
                            return Err(failure("invalid_grant", "invalid code verifier"));
                        }
                        true
                    }
                    None => {
                        if app.client_secret.is_some() && !secret_ok {
                            return Err(failure("invalid_client", "No client_secret"));
                        }
                        false
                    }
                };
                let refresh = c.offline.then(|| crate::ids::secret(64));
                if let Some(rt) = &refresh {
                    inner.refresh.insert(
                        rt.clone(),
                        Refresh {
                            client_id: client_id.into(),
                            pkce,
                        },
                    );
                }
                let token = self.new_access(&mut inner, refresh.as_deref());
                Ok(TokenResponse {
                    access_token: token,
                    token_type: "bearer",
                    expires_in: self.lifetime.as_secs(),
                    refresh_token: refresh,
                    scope: Some(c.scope),
                    uid: Some(UID.into()),
                    account_id: Some(self.account_id.clone()),
                })
            }
            Some(other) => Err(failure(
                "unsupported_grant_type",
                format!("unsupported grant_type {other:?}"),
            )),
            None => Err(failure("invalid_request", "No grant_type")),
        }
    }

    fn new_access(&self, inner: &mut Inner, family: Option<&str>) -> String {
        let token = crate::ids::access_token();
        let exp = clock::add(self.clock.now(), self.lifetime);
        inner.access.insert(
            token.clone(),
            Access {
                expires: Some(exp),
                family: family.map(str::to_string),
            },
        );
        token
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::sync::Arc;

    fn oauth() -> (OAuth, Arc<ManualClock>) {
        let mc = Arc::new(ManualClock::default());
        let apps = vec![
            OAuthApp::default(),
            OAuthApp {
                client_id: "pkce-app".into(),
                client_secret: None,
            },
        ];
        (
            OAuth::new(
                EmulatorClock::new(mc.clone()),
                Duration::from_secs(60),
                apps,
                "dev",
            ),
            mc,
        )
    }

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn pkce_code_flow_then_refresh_without_secret() {
        let (o, clock) = oauth();
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = PkceMethod::S256.challenge(verifier);
        assert_eq!(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        let code = o
            .authorize("pkce-app", Some((&challenge, PkceMethod::S256)), None)
            .unwrap();
        let bad = o.token(
            &form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("client_id", "pkce-app"),
                ("code_verifier", "wrong"),
            ]),
            None,
        );
        assert_eq!(bad.unwrap_err().error, "invalid_grant");
        // The code was consumed by the failed attempt.
        let code = o
            .authorize("pkce-app", Some((&challenge, PkceMethod::S256)), None)
            .unwrap();
        let ok = o
            .token(
                &form(&[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("client_id", "pkce-app"),
                    ("code_verifier", verifier),
                ]),
                None,
            )
            .unwrap();
        assert_eq!(o.check(&ok.access_token), TokenState::Valid);
        clock.advance(Duration::from_secs(61));
        assert_eq!(o.check(&ok.access_token), TokenState::Expired);
        let refreshed = o
            .token(
                &form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", ok.refresh_token.as_deref().unwrap()),
                    ("client_id", "pkce-app"),
                ]),
                None,
            )
            .unwrap();
        assert_eq!(o.check(&refreshed.access_token), TokenState::Valid);
        assert_eq!(o.check("dev"), TokenState::Valid);
        assert_eq!(o.check("nope"), TokenState::Invalid);
    }

    #[test]
    fn secret_apps_need_their_secret() {
        let (o, _) = oauth();
        let rt = o.issue_refresh_token("dbx-emulator-app").unwrap();
        let no_secret = o.token(
            &form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", &rt),
                ("client_id", "dbx-emulator-app"),
            ]),
            None,
        );
        assert_eq!(no_secret.unwrap_err().error, "invalid_client");
        let wrong = o.token(
            &form(&[("grant_type", "refresh_token"), ("refresh_token", &rt)]),
            Some(("dbx-emulator-app".into(), "bad".into())),
        );
        assert_eq!(wrong.unwrap_err().error, "invalid_client");
        let ok = o.token(
            &form(&[("grant_type", "refresh_token"), ("refresh_token", &rt)]),
            Some(("dbx-emulator-app".into(), "dbx-emulator-secret".into())),
        );
        assert!(ok.is_ok());
        let plain = o
            .authorize("dbx-emulator-app", Some(("v", PkceMethod::Plain)), None)
            .unwrap();
        let ok = o.token(
            &form(&[
                ("grant_type", "authorization_code"),
                ("code", &plain),
                ("client_id", "dbx-emulator-app"),
                ("code_verifier", "v"),
            ]),
            None,
        );
        assert!(ok.is_ok());
        let g = o.token(
            &form(&[("grant_type", "password"), ("client_id", "pkce-app")]),
            None,
        );
        assert_eq!(g.unwrap_err().error, "unsupported_grant_type");
    }
}
