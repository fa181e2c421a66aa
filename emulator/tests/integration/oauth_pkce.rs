//! OAuth 2 with PKCE end to end over HTTP on 127.0.0.1: the runtime's authorize URL, the
//! emulator's authorize step, the code exchange, API calls, refresh (with the persistence
//! callback), revoke; and the refusals Dropbox gives (wrong verifier, reused code, revoked
//! refresh token, mismatched redirect URI).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::*;
use dbx_emulator::{EmulatorConfig, EmulatorHandle, OAuthApp};
use dropbox_api::files::{self, ListFolderArg};
use dropbox_api::oauth::{self, AuthorizeUrlBuilder, PkceCode, TokenAccessType};
use dropbox_api::{ClientBuilder, IssuedToken, RefreshingToken, Secret, TokenEndpoint, TokenError};
use reqwest::StatusCode;

const APP: &str = "pkce-app";
const LIFETIME: u64 = 3600;

async fn emulator() -> EmulatorHandle {
    let emu = start_with(EmulatorConfig {
        durable: false,
        access_token_lifetime: Duration::from_secs(LIFETIME),
        ..Default::default()
    })
    .await;
    emu.oauth().register_app(OAuthApp {
        client_id: APP.into(),
        client_secret: None,
    });
    emu
}

fn endpoint(emu: &EmulatorHandle) -> TokenEndpoint {
    TokenEndpoint::new(
        format!("{}/oauth2/token", emu.base_url()),
        dropbox_api::http_client_builder().build().unwrap(),
    )
}

/// The query of a URL as ordered pairs, decoded.
fn query(url: &str) -> Vec<(String, String)> {
    let q = url.split_once('?').map_or("", |(_, q)| q);
    url::form_urlencoded::parse(q.as_bytes())
        .into_owned()
        .collect()
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `GET /oauth2/authorize` in the copy-paste flow: the code the page shows.
async fn code_of(api: &Api, url: &str) -> String {
    let r = api
        .send(api.http.get(url).header("Accept", "application/json"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()["code"].as_str().expect("a code").to_string()
}

/// Whether a bearer token is accepted now (the answer's status).
async fn status_with(api: &Api, token: &Secret) -> (StatusCode, serde_json::Value) {
    let r = api
        .with_token(token.expose())
        .rpc("files/list_folder", &ListFolderArg::new(""))
        .await;
    let body = serde_json::from_slice(&r.body).unwrap_or(serde_json::Value::Null);
    (r.status, body)
}

#[tokio::test]
async fn pkce_flow_end_to_end() {
    let emu = emulator().await;
    let api = Api::new(&emu);
    let base = emu.base_url().to_string();

    // 1. The authorize URL, exactly.
    let pkce = PkceCode::new();
    let url = AuthorizeUrlBuilder::new(APP)
        .base_url(&base)
        .token_access_type(TokenAccessType::Offline)
        .scopes(["files.metadata.read", "files.content.write"])
        .state("state-42")
        .pkce(&pkce)
        .build();
    assert_eq!(
        url,
        format!(
            "{base}/oauth2/authorize?client_id=pkce-app&response_type=code\
             &token_access_type=offline&scope=files.metadata.read%20files.content.write\
             &state=state-42&code_challenge={}&code_challenge_method=S256",
            pkce.challenge()
        )
    );
    assert_eq!(
        query(&url),
        pairs(&[
            ("client_id", APP),
            ("response_type", "code"),
            ("token_access_type", "offline"),
            ("scope", "files.metadata.read files.content.write"),
            ("state", "state-42"),
            ("code_challenge", pkce.challenge()),
            ("code_challenge_method", "S256"),
        ])
    );

    // 2. The user approves: the emulator's authorize step gives the code.
    let code = code_of(&api, &url).await;
    assert_eq!(emu.stats().calls("oauth2/authorize"), 1);

    // 3. The exchange with the verifier.
    let issued = endpoint(&emu)
        .exchange_code(APP, &code, &pkce, None)
        .await
        .unwrap();
    assert_eq!(issued.expires_in, Some(Duration::from_secs(LIFETIME)));
    assert_eq!(issued.account_id.as_deref(), Some(emu.oauth().account_id()));
    assert_eq!(
        issued.scopes,
        ["files.metadata.read", "files.content.write"]
    );
    let refresh = issued
        .refresh_token
        .clone()
        .expect("offline: a refresh token");

    // 4. A real API call with the access token.
    let direct = ClientBuilder::new()
        .access_token(issued.access_token.clone())
        .base_url(&base)
        .build_user()
        .unwrap();
    files::create_folder_v2(&direct, &files::CreateFolderArg::new("/signed-in"))
        .await
        .unwrap();

    // 5. A refreshing client for a PKCE app (client id only), telling a store each token.
    let saved: Arc<Mutex<Vec<IssuedToken>>> = Arc::default();
    let keep = saved.clone();
    let provider = RefreshingToken::for_app(refresh.clone(), APP, None)
        .on_refresh(move |t: &IssuedToken| keep.lock().unwrap().push(t.clone()));
    let client = ClientBuilder::new()
        .token_provider(provider)
        .base_url(&base)
        .build_user()
        .unwrap();
    let listed = files::list_folder(&client, &ListFolderArg::new(""))
        .await
        .unwrap();
    assert_eq!(listed.entries.len(), 1);
    let first = {
        let s = saved.lock().unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].expires_in, Some(Duration::from_secs(LIFETIME)));
        assert!(s[0].refresh_token.is_none(), "Dropbox does not rotate");
        s[0].access_token.clone()
    };
    assert_ne!(first, issued.access_token);
    assert_eq!(status_with(&api, &first).await.0, StatusCode::OK);

    // 6. Expiry (the emulator's clock): the call is refused as expired, the provider
    // refreshes once, the call goes through, and the store is told the new token.
    emu.advance_clock(Duration::from_secs(LIFETIME + 1));
    let tokens_before = emu.stats().calls("oauth2/token");
    files::list_folder(&client, &ListFolderArg::new(""))
        .await
        .unwrap();
    assert_eq!(emu.stats().calls("oauth2/token"), tokens_before + 1);
    let second = {
        let s = saved.lock().unwrap();
        assert_eq!(s.len(), 2);
        s[1].access_token.clone()
    };
    assert_ne!(second, first);
    let (status, body) = status_with(&api, &first).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"][".tag"], "expired_access_token");
    assert_eq!(status_with(&api, &second).await.0, StatusCode::OK);

    // 7. Concurrent callers that all hold the expired token share one refresh.
    emu.advance_clock(Duration::from_secs(LIFETIME + 1));
    let tokens_before = emu.stats().calls("oauth2/token");
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { files::list_folder(&c, &ListFolderArg::new("")).await })
        })
        .collect();
    for c in calls {
        c.await.unwrap().unwrap();
    }
    assert_eq!(emu.stats().calls("oauth2/token"), tokens_before + 1);
    assert_eq!(saved.lock().unwrap().len(), 3);

    // 8. Revoke: the access token, its refresh token and the token family go.
    oauth::revoke::<dropbox_api::Protocol>(&client)
        .await
        .unwrap();
    assert_eq!(emu.stats().calls("auth/token/revoke"), 1);
    let third = saved.lock().unwrap()[2].access_token.clone();
    let (status, body) = status_with(&api, &third).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"][".tag"], "invalid_access_token");
    let err = files::list_folder(&client, &ListFolderArg::new(""))
        .await
        .unwrap_err();
    assert!(matches!(err, dropbox_api::Error::Auth(_)), "{err:?}");
    // The first access token (from the code, same family) is gone too.
    assert_eq!(
        status_with(&api, &issued.access_token).await.0,
        StatusCode::UNAUTHORIZED
    );

    // 9. The refresh token is refused, as Dropbox refuses a revoked one.
    let err = endpoint(&emu)
        .refresh(&refresh, APP, None)
        .await
        .unwrap_err();
    let TokenError::Refused { status, error } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*status, 400);
    assert_eq!(error, "invalid_grant: refresh token is invalid or revoked");
    // Nothing of the secrets in the error.
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(refresh.expose()), "{shown}");
    // The development token was not touched.
    assert_eq!(
        status_with(&api, &Secret::new(emu.access_token())).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_wrong_verifier_is_refused_as_dropbox_refuses_it() {
    let emu = emulator().await;
    let api = Api::new(&emu);
    let pkce = PkceCode::new();
    let url = AuthorizeUrlBuilder::new(APP)
        .base_url(emu.base_url())
        .token_access_type(TokenAccessType::Offline)
        .pkce(&pkce)
        .build();
    // The same step without HTTP.
    let code = emu.oauth().approve(&url).unwrap().code;
    let other = PkceCode::new();
    let r = api
        .send(api.http.post(api.url("/oauth2/token")).form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", APP),
            ("code_verifier", other.verifier().expose()),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(
        r.json(),
        serde_json::json!({"error": "invalid_grant", "error_description": "invalid code verifier"})
    );
    // Through the runtime: the same refusal, as a TokenError.
    let code = code_of(&api, &url).await;
    let err = endpoint(&emu)
        .exchange_code(APP, &code, &other, None)
        .await
        .unwrap_err();
    let TokenError::Refused { status, error } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (*status, error.as_str()),
        (400, "invalid_grant: invalid code verifier")
    );
    assert!(!format!("{err} {err:?}").contains(other.verifier().expose()));
    // No verifier at all.
    let code = code_of(&api, &url).await;
    let r = api
        .send(api.http.post(api.url("/oauth2/token")).form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", APP),
        ]))
        .await;
    assert_eq!(r.json()["error"], "invalid_request");
}

#[tokio::test]
async fn a_code_works_once() {
    let emu = emulator().await;
    let api = Api::new(&emu);
    let pkce = PkceCode::new();
    let url = AuthorizeUrlBuilder::new(APP)
        .base_url(emu.base_url())
        .token_access_type(TokenAccessType::Offline)
        .pkce(&pkce)
        .build();
    let code = code_of(&api, &url).await;
    let e = endpoint(&emu);
    let ok = e.exchange_code(APP, &code, &pkce, None).await.unwrap();
    assert!(ok.refresh_token.is_some());
    let err = e.exchange_code(APP, &code, &pkce, None).await.unwrap_err();
    let TokenError::Refused { status, error } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (*status, error.as_str()),
        (400, "invalid_grant: code doesn't exist or has expired")
    );
    // A code not redeemed within 10 minutes expires.
    let late = code_of(&api, &url).await;
    emu.advance_clock(Duration::from_secs(601));
    let err = e.exchange_code(APP, &late, &pkce, None).await.unwrap_err();
    assert!(
        matches!(&err, TokenError::Refused { error, .. } if error == "invalid_grant: code doesn't exist or has expired"),
        "{err:?}"
    );
}

#[tokio::test]
async fn redirect_flow_state_and_redirect_uri() {
    let emu = emulator().await;
    let api = Api::new(&emu);
    let no_redirects = dropbox_api::http_client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let pkce = PkceCode::new();
    let state = oauth::random_state();
    let redirect_uri = "http://127.0.0.1:9/callback?from=test";
    let url = AuthorizeUrlBuilder::new(APP)
        .base_url(emu.base_url())
        .redirect_uri(redirect_uri)
        .token_access_type(TokenAccessType::Offline)
        .state(state.clone())
        .pkce(&pkce)
        .build();
    assert_eq!(query(&url)[2], ("redirect_uri".into(), redirect_uri.into()));
    let r = no_redirects.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with("http://127.0.0.1:9/callback?from=test&code="),
        "{location}"
    );
    let q = query(&location);
    assert_eq!(q[2], ("state".into(), state.expose().into()));
    // A redirect with another state is refused before anything is sent.
    assert_eq!(
        oauth::code_from_redirect(&location, Some(&Secret::new("forged"))),
        Err(oauth::OAuthError::StateMismatch)
    );
    let code = oauth::code_from_redirect(&location, Some(&state)).unwrap();
    // The redirect URI must be given again, the same.
    let e = endpoint(&emu);
    let err = e
        .exchange_code(APP, code.expose(), &pkce, Some("http://127.0.0.1:9/other"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TokenError::Refused { error, .. } if error == "invalid_grant: redirect_uri mismatch"),
        "{err:?}"
    );
    let r = no_redirects.get(&url).send().await.unwrap();
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let code = oauth::code_from_redirect(&location, Some(&state)).unwrap();
    let t = e
        .exchange_code(APP, code.expose(), &pkce, Some(redirect_uri))
        .await
        .unwrap();
    assert!(t.refresh_token.is_some());

    // `online`: an access token only.
    let online = AuthorizeUrlBuilder::new(APP)
        .base_url(emu.base_url())
        .token_access_type(TokenAccessType::Online)
        .pkce(&pkce)
        .build();
    let code = code_of(&api, &online).await;
    let t = e.exchange_code(APP, &code, &pkce, None).await.unwrap();
    assert!(t.refresh_token.is_none());
    assert_eq!(status_with(&api, &t.access_token).await.0, StatusCode::OK);

    // The text page of the copy-paste flow ends with the code.
    let r = api.send(api.http.get(&online)).await;
    assert_eq!(r.status, StatusCode::OK);
    let text = r.text();
    let code = text.lines().last().unwrap().trim();
    assert!(
        e.exchange_code(APP, code, &pkce, None).await.is_ok(),
        "{text}"
    );

    // Malformed authorize requests: 400 with the reason.
    for (bad, why) in [
        ("client_id=nobody&response_type=code", "Invalid client_id."),
        (
            "client_id=pkce-app&response_type=token",
            "invalid authorize request: response_type must be \"code\"",
        ),
        (
            "client_id=pkce-app&response_type=code&code_challenge=short&code_challenge_method=S256",
            "invalid authorize request: code_challenge must be 43 to 128 characters",
        ),
        (
            "client_id=pkce-app&response_type=code&token_access_type=forever",
            "invalid authorize request: token_access_type must be \"offline\", \"online\" or \"legacy\"",
        ),
    ] {
        let r = api
            .send(api.http.get(api.url(&format!("/oauth2/authorize?{bad}"))))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(r.text(), why);
    }
}
