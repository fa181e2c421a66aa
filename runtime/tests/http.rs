//! The transport over real HTTP on 127.0.0.1 against a small scripted server: request
//! bytes for each style, every error status, token refresh, and no secret in `Debug`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use dropbox_api_runtime::__private as rt;
use dropbox_api_runtime::auth::{AppOrUser, User};
use dropbox_api_runtime::route::{Host, Route, RouteSpec, Style};
use dropbox_api_runtime::{
    ByteRange, ClientBuilder, Error, RateLimitReason, RetryPolicy, Secret, Untyped,
};
use serde_json::{Value, json};

/// What the server saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

/// A scripted answer.
#[derive(Clone)]
struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

fn answer(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Answer {
    Answer {
        status,
        headers: vec![("content-type", content_type.to_string())],
        body: body.into(),
    }
}

#[derive(Default)]
struct Script {
    seen: Vec<Seen>,
    answers: Vec<Answer>,
}

type Shared = Arc<Mutex<Script>>;

async fn handle(
    State(script): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut s = script.lock().unwrap();
    s.seen.push(Seen {
        path: uri.path().to_string(),
        headers,
        body,
    });
    let a = if s.answers.len() > 1 {
        s.answers.remove(0)
    } else {
        s.answers[0].clone()
    };
    let mut r = (StatusCode::from_u16(a.status).unwrap(), a.body).into_response();
    for (k, v) in a.headers {
        r.headers_mut().insert(k, v.parse().unwrap());
    }
    r
}

async fn server(answers: Vec<Answer>) -> (String, Shared) {
    let script: Shared = Arc::new(Mutex::new(Script {
        seen: Vec::new(),
        answers,
    }));
    let app = Router::new().fallback(handle).with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), script)
}

static RPC: Route<User> = Route::new(RouteSpec {
    namespace: "files",
    name: "get_metadata",
    version: 1,
    path: "/2/files/get_metadata",
    host: Host::Api,
    style: Style::Rpc,
    auth: "user",
    idempotent: false,
});
static UPLOAD: Route<User> = Route::new(RouteSpec {
    namespace: "files",
    name: "upload",
    version: 1,
    path: "/2/files/upload",
    host: Host::Content,
    style: Style::Upload,
    auth: "user",
    idempotent: false,
});
/// A route open to app and user clients.
static APP_OR_USER: Route<AppOrUser> = Route::new(RouteSpec {
    namespace: "files",
    name: "get_thumbnail",
    version: 1,
    path: "/2/files/get_thumbnail",
    host: Host::Api,
    style: Style::Rpc,
    auth: "app, user",
    idempotent: true,
});
static DOWNLOAD: Route<User> = Route::new(RouteSpec {
    namespace: "files",
    name: "download",
    version: 1,
    path: "/2/files/download",
    host: Host::Content,
    style: Style::Download,
    auth: "user",
    idempotent: false,
});

type Res<T> = Result<T, Error<Value, Untyped>>;

#[tokio::test]
async fn rpc_sends_json_with_bearer_token_and_user_agent() {
    let (base, script) = server(vec![answer(200, "application/json", r#"{"ok":true}"#)]).await;
    let client = ClientBuilder::new()
        .retry_policy(RetryPolicy::none())
        .access_token("tok-123")
        .base_url(&base)
        .user_agent("test-agent/1")
        .build_user()
        .unwrap();
    let t = &client;
    let out: Res<Value> = rt::rpc(t, &RPC, &json!({"path": "/a"})).await;
    assert_eq!(out.unwrap(), json!({"ok": true}));
    let s = script.lock().unwrap();
    let seen = &s.seen[0];
    assert_eq!(seen.path, "/2/files/get_metadata");
    assert_eq!(seen.headers["authorization"], "Bearer tok-123");
    assert_eq!(seen.headers["content-type"], "application/json");
    assert_eq!(seen.headers["user-agent"], "test-agent/1");
    assert_eq!(&seen.body[..], br#"{"path":"/a"}"#);
}

#[tokio::test]
async fn upload_puts_the_escaped_argument_in_the_header_and_streams_the_body() {
    let (base, script) = server(vec![answer(200, "application/json", "null")]).await;
    let client = ClientBuilder::new()
        .retry_policy(RetryPolicy::none())
        .access_token("t")
        .base_url(&base)
        .build_user()
        .unwrap();
    let t = &client;
    let out: Res<()> = rt::upload(
        t,
        &UPLOAD,
        &json!({"path": "/ü\u{7f}😀.txt"}),
        "hello".into(),
    )
    .await;
    out.unwrap();
    let s = script.lock().unwrap();
    let seen = &s.seen[0];
    assert_eq!(
        seen.headers["dropbox-api-arg"],
        r#"{"path":"/\u00fc\u007f\ud83d\ude00.txt"}"#
    );
    assert_eq!(seen.headers["content-type"], "application/octet-stream");
    assert_eq!(&seen.body[..], b"hello");
}

#[tokio::test]
async fn download_reads_the_result_header_and_streams_the_body() {
    let mut a = answer(206, "application/octet-stream", "ello");
    a.headers.push((
        "dropbox-api-result",
        r#"{"name":"caf\u00e9.txt","size":5}"#.into(),
    ));
    let (base, script) = server(vec![a]).await;
    let client = ClientBuilder::new()
        .retry_policy(RetryPolicy::none())
        .access_token("t")
        .base_url(&base)
        .build_user()
        .unwrap();
    let t = &client;
    let d: Res<dropbox_api_runtime::Download<Value>> = rt::download(
        t,
        &DOWNLOAD,
        &json!({"path": "/café.txt"}),
        Some(ByteRange::From(1)),
    )
    .await;
    let d = d.unwrap();
    assert_eq!(d.result["name"], "café.txt");
    assert_eq!(d.status, 206);
    assert_eq!(&d.bytes().await.unwrap()[..], b"ello");
    let s = script.lock().unwrap();
    assert_eq!(s.seen[0].headers["range"], "bytes=1-");
    assert!(s.seen[0].headers.get("content-type").is_none());
}

#[tokio::test]
async fn every_error_status_maps_to_its_variant() {
    let cases: Vec<(Answer, &str)> = vec![
        (
            answer(400, "text/plain", "Error in call to API function: bad"),
            "BadRequest",
        ),
        (
            answer(
                401,
                "application/json",
                r#"{"error_summary":"invalid_access_token/","error":{".tag":"invalid_access_token"}}"#,
            ),
            "Auth",
        ),
        (
            answer(
                403,
                "application/json",
                r#"{"error_summary":"team_access_denied/","error":{".tag":"team_access_denied"}}"#,
            ),
            "Access",
        ),
        (
            answer(
                409,
                "application/json",
                r#"{"error_summary":"path/not_found/.","error":{".tag":"path","path":{".tag":"not_found"}},"user_message":{"text":"Not here","locale":"en"}}"#,
            ),
            "Route",
        ),
        (
            answer(
                422,
                "application/json",
                r#"{"error_summary":"no_permission/","error":{".tag":"no_permission"}}"#,
            ),
            "PathRoot",
        ),
        (
            answer(429, "text/plain", "too many requests"),
            "RateLimited",
        ),
        (answer(500, "text/plain", "oops"), "Server"),
        (answer(503, "text/plain", "busy"), "Server"),
        (answer(418, "text/plain", "teapot"), "UnexpectedStatus"),
    ];
    for (a, want) in cases {
        let status = a.status;
        let (base, _script) = server(vec![a]).await;
        let client = ClientBuilder::new()
            .retry_policy(RetryPolicy::none())
            .access_token("t")
            .base_url(&base)
            .build_user()
            .unwrap();
        let t = &client;
        let err = rt::rpc::<_, _, Value, Value, Value, Untyped>(t, &RPC, &json!({}))
            .await
            .unwrap_err();
        let got = format!("{err:?}");
        assert!(got.starts_with(want), "{status}: {got}");
        assert_eq!(err.status(), Some(status));
        if let Error::Route(e) = &err {
            assert_eq!(e.summary, "path/not_found/.");
            assert_eq!(e.user_message.as_ref().unwrap().text, "Not here");
        }
    }
}

#[tokio::test]
async fn rate_limit_retry_after_header_wins_over_the_body() {
    let mut a = answer(
        429,
        "application/json",
        r#"{"error_summary":"too_many_write_operations/","error":{"reason":{".tag":"too_many_write_operations"},"retry_after":9}}"#,
    );
    a.headers.push(("retry-after", "2".into()));
    let (base, _s) = server(vec![a]).await;
    let client = ClientBuilder::new()
        .retry_policy(RetryPolicy::none())
        .access_token("t")
        .base_url(&base)
        .build_user()
        .unwrap();
    let t = &client;
    let err = rt::rpc::<_, _, Value, Value, Value, Untyped>(t, &RPC, &json!({}))
        .await
        .unwrap_err();
    match err {
        Error::RateLimited {
            reason,
            retry_after,
            ..
        } => {
            assert_eq!(reason, RateLimitReason::TooManyWriteOperations);
            assert_eq!(retry_after, Duration::from_secs(2));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn expired_token_is_refreshed_once_and_the_call_retried() {
    let expired = answer(
        401,
        "application/json",
        r#"{"error_summary":"expired_access_token/","error":{".tag":"expired_access_token"}}"#,
    );
    let token = answer(
        200,
        "application/json",
        r#"{"access_token":"fresh","expires_in":14400,"token_type":"bearer"}"#,
    );
    let ok = answer(200, "application/json", r#"{"done":1}"#);
    // First a token for the initial call, then 401, then the refresh, then success.
    let first = answer(
        200,
        "application/json",
        r#"{"access_token":"stale","expires_in":14400,"token_type":"bearer"}"#,
    );
    let (base, script) = server(vec![first, expired, token, ok]).await;
    let client = ClientBuilder::new()
        .retry_policy(RetryPolicy::none())
        .refresh_token("refresh-secret", "app-key", Some(Secret::new("app-secret")))
        .base_url(&base)
        .build_user()
        .unwrap();
    let t = &client;
    let out: Res<Value> = rt::rpc(t, &RPC, &json!({"path": "/a"})).await;
    assert_eq!(out.unwrap(), json!({"done": 1}));
    let s = script.lock().unwrap();
    let paths: Vec<&str> = s.seen.iter().map(|x| x.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/oauth2/token",
            "/2/files/get_metadata",
            "/oauth2/token",
            "/2/files/get_metadata"
        ]
    );
    assert_eq!(s.seen[1].headers["authorization"], "Bearer stale");
    assert_eq!(s.seen[3].headers["authorization"], "Bearer fresh");
    let form = String::from_utf8_lossy(&s.seen[0].body).to_string();
    assert!(
        form.contains("grant_type=refresh_token") && form.contains("client_id=app-key"),
        "{form}"
    );
    assert_eq!(&s.seen[3].body[..], br#"{"path":"/a"}"#);
}

#[tokio::test]
async fn an_upload_body_in_memory_is_sent_again_after_a_refresh() {
    let first = answer(
        200,
        "application/json",
        r#"{"access_token":"stale","expires_in":14400,"token_type":"bearer"}"#,
    );
    let expired = answer(
        401,
        "application/json",
        r#"{"error_summary":"expired_access_token/","error":{".tag":"expired_access_token"}}"#,
    );
    let token = answer(
        200,
        "application/json",
        r#"{"access_token":"fresh","expires_in":14400,"token_type":"bearer"}"#,
    );
    let ok = answer(200, "application/json", r#"{"stored":1}"#);
    let (base, script) = server(vec![first, expired, token, ok]).await;
    let client = ClientBuilder::new()
        .retry_policy(RetryPolicy::none())
        .refresh_token("refresh-secret", "app-key", Some(Secret::new("app-secret")))
        .base_url(&base)
        .build_user()
        .unwrap();
    let t = &client;
    let data = bytes::Bytes::from(vec![7u8; 100_000]);
    let body = dropbox_api_runtime::Body::from(data.clone());
    assert_eq!(body.len(), Some(100_000));
    let out: Res<Value> = rt::upload(t, &UPLOAD, &json!({"path": "/b"}), body).await;
    assert_eq!(out.unwrap(), json!({"stored": 1}));
    let s = script.lock().unwrap();
    assert_eq!(s.seen[1].path, "/2/files/upload");
    assert_eq!(s.seen[3].path, "/2/files/upload");
    assert_eq!(&s.seen[1].body[..], &data[..]);
    assert_eq!(&s.seen[3].body[..], &data[..], "the same bytes, sent again");
    assert_eq!(s.seen[3].headers["authorization"], "Bearer fresh");
}

#[tokio::test]
async fn a_token_close_to_expiry_is_refreshed_before_the_call() {
    let short = answer(
        200,
        "application/json",
        r#"{"access_token":"short","expires_in":10,"token_type":"bearer"}"#,
    );
    let long = answer(
        200,
        "application/json",
        r#"{"access_token":"long","expires_in":14400,"token_type":"bearer"}"#,
    );
    let ok = answer(200, "application/json", "{}");
    let (base, script) = server(vec![short, ok.clone(), long, ok]).await;
    let client = ClientBuilder::new()
        .retry_policy(RetryPolicy::none())
        .refresh_token("r", "k", None)
        .base_url(&base)
        .build_user()
        .unwrap();
    let t = &client;
    let _: Value = rt::rpc::<_, _, _, _, Value, Untyped>(t, &RPC, &json!({}))
        .await
        .unwrap();
    // The first token expires within the 5-minute margin, so the next call refreshes first.
    let _: Value = rt::rpc::<_, _, _, _, Value, Untyped>(t, &RPC, &json!({}))
        .await
        .unwrap();
    let s = script.lock().unwrap();
    let paths: Vec<&str> = s.seen.iter().map(|x| x.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/oauth2/token",
            "/2/files/get_metadata",
            "/oauth2/token",
            "/2/files/get_metadata"
        ]
    );
    assert_eq!(s.seen[3].headers["authorization"], "Bearer long");
}

#[tokio::test]
async fn team_clients_select_a_member_and_set_the_path_root() {
    let (base, script) = server(vec![answer(200, "application/json", "{}")]).await;
    let team = ClientBuilder::new()
        .retry_policy(RetryPolicy::none())
        .access_token("team-token")
        .base_url(&base)
        .path_root(&json!({".tag": "root", "root": "123"}))
        .build_team()
        .unwrap();
    let as_user = team.as_user("dbmid:abc");
    let t = &as_user;
    let _: Value = rt::rpc::<_, _, _, _, Value, Untyped>(t, &RPC, &json!({}))
        .await
        .unwrap();
    let as_admin = team.as_admin("dbmid:adm");
    let t = &as_admin;
    let _: Value = rt::rpc::<_, _, _, _, Value, Untyped>(t, &RPC, &json!({}))
        .await
        .unwrap();
    let s = script.lock().unwrap();
    assert_eq!(s.seen[0].headers["dropbox-api-select-user"], "dbmid:abc");
    assert_eq!(s.seen[1].headers["dropbox-api-select-admin"], "dbmid:adm");
    assert_eq!(
        s.seen[0].headers["dropbox-api-path-root"],
        r#"{".tag":"root","root":"123"}"#
    );
}

#[tokio::test]
async fn app_clients_use_basic_auth() {
    let (base, script) = server(vec![answer(200, "application/json", "{}")]).await;
    let app = ClientBuilder::new()
        .retry_policy(RetryPolicy::none())
        .app_credentials("key", "secret")
        .base_url(&base)
        .build_app()
        .unwrap();
    let t = &app;
    let _: Value = rt::rpc::<_, _, _, _, Value, Untyped>(t, &APP_OR_USER, &json!({}))
        .await
        .unwrap();
    let s = script.lock().unwrap();
    // base64("key:secret")
    assert_eq!(s.seen[0].headers["authorization"], "Basic a2V5OnNlY3JldA==");
}

#[tokio::test]
async fn no_secret_in_debug_of_clients_builders_and_errors() {
    let builder = ClientBuilder::new()
        .retry_policy(RetryPolicy::none())
        .access_token("sl.TOPSECRET")
        .app_credentials("key", "APPSECRET");
    let dbg = format!("{builder:?}");
    assert!(
        !dbg.contains("TOPSECRET") && !dbg.contains("APPSECRET"),
        "{dbg}"
    );
    let (base, _s) = server(vec![answer(
        401,
        "application/json",
        r#"{"error_summary":"invalid_access_token/","error":{".tag":"invalid_access_token"}}"#,
    )])
    .await;
    let client = ClientBuilder::new()
        .retry_policy(RetryPolicy::none())
        .refresh_token("REFRESHSECRET", "k", Some(Secret::new("APPSECRET")))
        .access_token("sl.TOPSECRET")
        .base_url(&base)
        .build_user()
        .unwrap();
    let dbg = format!("{client:?}");
    assert!(!dbg.contains("TOPSECRET"), "{dbg}");
    let t = &client;
    let dbg = format!("{t:?}");
    assert!(!dbg.contains("TOPSECRET"), "{dbg}");
    let err = rt::rpc::<_, _, Value, Value, Value, Untyped>(t, &RPC, &json!({}))
        .await
        .unwrap_err();
    let shown = format!("{err:?} {err}");
    assert!(!shown.contains("TOPSECRET"), "{shown}");
}

#[tokio::test]
async fn transport_errors_do_not_carry_the_url() {
    // Nothing listens on this port.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let client = ClientBuilder::new()
        .retry_policy(RetryPolicy::none())
        .access_token("t")
        .base_url(&format!("http://127.0.0.1:{port}"))
        .build_user()
        .unwrap();
    let t = &client;
    let err = rt::rpc::<_, _, Value, Value, Value, Untyped>(t, &RPC, &json!({}))
        .await
        .unwrap_err();
    assert!(err.is_transient());
    assert!(!format!("{err} {err:?}").contains("get_metadata"), "{err}");
}

#[tokio::test]
async fn shared_values_belong_to_the_account() {
    #[derive(Default)]
    struct Counter(std::sync::atomic::AtomicUsize);
    let client = ClientBuilder::new()
        .access_token("t")
        .retry_policy(RetryPolicy::none())
        .build_user()
        .unwrap();
    let clone = client.clone();
    let t1 = dropbox_api_runtime::auth::AuthClient::transport(&client);
    let t2 = dropbox_api_runtime::auth::AuthClient::transport(&clone);
    t1.shared::<Counter>()
        .0
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        t2.shared::<Counter>()
            .0
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    // Per account: another client from the same token shares it, one from another token,
    // for other servers, or acting as a team member does not.
    let load = |c: &dropbox_api_runtime::UserClient| {
        dropbox_api_runtime::auth::AuthClient::transport(c)
            .shared::<Counter>()
            .0
            .load(std::sync::atomic::Ordering::SeqCst)
    };
    let same = ClientBuilder::new().access_token("t").build_user().unwrap();
    assert_eq!(load(&same), 1);
    let other = ClientBuilder::new().access_token("u").build_user().unwrap();
    assert_eq!(load(&other), 0);
    let elsewhere = ClientBuilder::new()
        .access_token("t")
        .base_url("http://127.0.0.1:9")
        .build_user()
        .unwrap();
    assert_eq!(load(&elsewhere), 0);
    let team = ClientBuilder::new().access_token("t").build_team().unwrap();
    assert_eq!(load(&team.as_user("dbmid:1")), 0);
}

fn form_of(body: &[u8]) -> Vec<(String, String)> {
    url_pairs(std::str::from_utf8(body).unwrap())
}

fn url_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

#[tokio::test]
async fn code_exchange_sends_the_verifier_and_nothing_prints_a_secret() {
    use dropbox_api_runtime::{PkceCode, TokenEndpoint};
    let (base, script) = server(vec![answer(
        200,
        "application/json",
        r#"{"access_token":"sl.ISSUED-ACCESS","token_type":"bearer","expires_in":14400,
            "refresh_token":"ISSUED-REFRESH","scope":"files.content.read account_info.read",
            "uid":"12345","account_id":"dbid:AAH4f99"}"#,
    )])
    .await;
    let pkce = PkceCode::new();
    let endpoint = TokenEndpoint::new(
        format!("{base}/oauth2/token"),
        dropbox_api_runtime::http_client_builder().build().unwrap(),
    );
    let t = endpoint
        .exchange_code("app-key", "THE-CODE", &pkce, Some("http://127.0.0.1:9/cb"))
        .await
        .unwrap();
    assert_eq!(t.access_token.expose(), "sl.ISSUED-ACCESS");
    assert_eq!(t.refresh_token.as_ref().unwrap().expose(), "ISSUED-REFRESH");
    assert_eq!(t.expires_in, Some(Duration::from_secs(14400)));
    assert!(t.expires_at.is_some());
    assert_eq!(t.account_id.as_deref(), Some("dbid:AAH4f99"));
    assert_eq!(t.scopes, ["files.content.read", "account_info.read"]);
    {
        let s = script.lock().unwrap();
        assert_eq!(s.seen[0].path, "/oauth2/token");
        assert_eq!(
            s.seen[0].headers["content-type"],
            "application/x-www-form-urlencoded"
        );
        assert_eq!(
            form_of(&s.seen[0].body),
            [
                ("grant_type", "authorization_code"),
                ("code", "THE-CODE"),
                ("client_id", "app-key"),
                ("code_verifier", pkce.verifier().expose()),
                ("redirect_uri", "http%3A%2F%2F127.0.0.1%3A9%2Fcb"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
    }
    // None of the secrets in any Debug.
    let builder = dropbox_api_runtime::AuthorizeUrlBuilder::new("app-key")
        .state("STATE-SECRET")
        .pkce(&pkce);
    let provider = dropbox_api_runtime::RefreshingToken::for_app(
        "REFRESHSECRET",
        "app-key",
        Some(Secret::new("APPSECRET")),
    )
    .on_refresh(|_t| {});
    let shown = format!("{t:?} {pkce:?} {builder:?} {provider:?} {endpoint:?}");
    for secret in [
        "sl.ISSUED-ACCESS",
        "ISSUED-REFRESH",
        pkce.verifier().expose(),
        "STATE-SECRET",
        "REFRESHSECRET",
        "APPSECRET",
    ] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[tokio::test]
async fn a_refused_exchange_says_why_without_the_code_or_verifier() {
    use dropbox_api_runtime::{PkceCode, TokenEndpoint, TokenError};
    let (base, _script) = server(vec![answer(
        400,
        "application/json",
        r#"{"error": "invalid_grant", "error_description": "invalid code verifier"}"#,
    )])
    .await;
    let pkce = PkceCode::new();
    let err = TokenEndpoint::new(
        format!("{base}/oauth2/token"),
        dropbox_api_runtime::http_client_builder().build().unwrap(),
    )
    .exchange_code("k", "CODE-SECRET", &pkce, None)
    .await
    .unwrap_err();
    let TokenError::Refused { status, error } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*status, 400);
    assert_eq!(error, "invalid_grant: invalid code verifier");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("CODE-SECRET") && !shown.contains(pkce.verifier().expose()));
}

#[tokio::test]
async fn refresh_with_a_secret_tells_the_store_and_is_bounded() {
    use dropbox_api_runtime::{IssuedToken, RefreshingToken, TokenError, TokenProvider};
    let (base, script) = server(vec![answer(
        200,
        "application/json",
        r#"{"access_token":"sl.NEW","token_type":"bearer","expires_in":14400}"#,
    )])
    .await;
    let saved: Arc<Mutex<Vec<IssuedToken>>> = Arc::default();
    let keep = saved.clone();
    let p = RefreshingToken::new(
        "R1",
        "k",
        Some(Secret::new("S1")),
        format!("{base}/oauth2/token"),
        dropbox_api_runtime::http_client_builder().build().unwrap(),
    )
    .on_refresh(move |t| keep.lock().unwrap().push(t.clone()));
    assert_eq!(p.token().await.unwrap().expose(), "sl.NEW");
    // Cached: no second request, no second save.
    assert_eq!(p.token().await.unwrap().expose(), "sl.NEW");
    {
        let s = script.lock().unwrap();
        assert_eq!(s.seen.len(), 1);
        assert_eq!(
            form_of(&s.seen[0].body),
            [
                ("grant_type", "refresh_token"),
                ("refresh_token", "R1"),
                ("client_id", "k"),
                ("client_secret", "S1"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        let saved = saved.lock().unwrap();
        assert_eq!(saved.len(), 1);
        assert_eq!(saved[0].access_token.expose(), "sl.NEW");
        assert!(saved[0].refresh_token.is_none());
    }

    // A token endpoint that accepts the connection and never answers: the refresh ends
    // with an error after its timeout instead of hanging.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut conns = Vec::new();
        while let Ok((c, _)) = silent.accept().await {
            conns.push(c);
        }
    });
    let p = RefreshingToken::new(
        "R2",
        "k",
        None,
        format!("http://{addr}/oauth2/token"),
        dropbox_api_runtime::http_client_builder().build().unwrap(),
    )
    .with_timeout(Duration::from_millis(300));
    let err = p.token().await.unwrap_err();
    let TokenError::Transport(m) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(m, "no answer from the token endpoint within 0.3 s");
    held.abort();
}

#[tokio::test]
async fn revoke_posts_to_the_route_with_the_bearer_token() {
    let (base, script) = server(vec![answer(200, "application/json", "null")]).await;
    let client = ClientBuilder::new()
        .retry_policy(RetryPolicy::none())
        .access_token("sl.TO-REVOKE")
        .base_url(&base)
        .build_user()
        .unwrap();
    dropbox_api_runtime::oauth::revoke::<Untyped>(&client)
        .await
        .unwrap();
    let s = script.lock().unwrap();
    assert_eq!(s.seen[0].path, "/2/auth/token/revoke");
    assert_eq!(s.seen[0].headers["authorization"], "Bearer sl.TO-REVOKE");
    assert_eq!(&s.seen[0].body[..], b"null");
}
