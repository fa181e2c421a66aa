//! Temporary upload links, the legacy v1 chunked upload, and /oauth2/token.

use std::time::Duration;

use crate::common::*;
use dbx_emulator::{OAuthApp, PkceMethod};
use dropbox_api::files::{
    CommitInfo, GetTemporaryUploadLinkArg, GetTemporaryUploadLinkResult, ListFolderArg,
    ListFolderResult, WriteMode,
};
use reqwest::StatusCode;

async fn link(api: &Api, commit: CommitInfo, duration: Option<f64>) -> String {
    let mut arg = GetTemporaryUploadLinkArg::new(commit);
    if let Some(d) = duration {
        arg = arg.with_duration(d);
    }
    let r: GetTemporaryUploadLinkResult =
        api.rpc("files/get_temporary_upload_link", &arg).await.ok();
    r.link.into()
}

async fn post_link(api: &Api, url: &str, ct: &str, body: Vec<u8>) -> Resp {
    api.send(api.http.post(url).header("Content-Type", ct).body(body))
        .await
}

#[tokio::test]
async fn temporary_upload_links() {
    let emu = start().await;
    let api = Api::new(&emu);
    let url = link(&api, CommitInfo::new("/tul/file.bin"), None).await;
    assert!(
        url.starts_with(&format!("{}/apitul/1/", emu.base_url())),
        "{url}"
    );
    // Wrong content type: 400 (the link stays usable).
    let r = post_link(&api, &url, "application/json", b"{}".to_vec()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // No Authorization header needed.
    let body = data(300_000, 3);
    let r = post_link(&api, &url, "application/octet-stream", body.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json(),
        serde_json::json!({"content-hash": content_hash(&body)})
    );
    assert_eq!(api.get("/tul/file.bin").await, body);
    // One time only.
    let r = post_link(&api, &url, "application/octet-stream", b"again".to_vec()).await;
    assert_eq!(r.status, StatusCode::GONE);
    // Unknown link.
    let r = post_link(
        &api,
        &api.url("/apitul/1/doesnotexist"),
        "text/plain",
        b"x".to_vec(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    // The CommitInfo is evaluated at consumption: a conflict then is a 409.
    let url = link(&api, CommitInfo::new("/tul/later.txt"), Some(60.0)).await;
    api.put("/tul/later.txt", b"someone was faster").await;
    let r = post_link(&api, &url, "text/plain; charset=utf-8", b"mine".to_vec()).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.json()["error_summary"], "conflict/file/...");
    let url = link(
        &api,
        CommitInfo::new("/tul/later.txt").with_mode(WriteMode::Overwrite),
        Some(60.0),
    )
    .await;
    assert_eq!(
        post_link(&api, &url, "text/plain", b"mine".to_vec())
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(api.get("/tul/later.txt").await, b"mine");

    // Expiry.
    let url = link(&api, CommitInfo::new("/tul/expiring"), Some(60.0)).await;
    emu.advance_clock(Duration::from_secs(61));
    let r = post_link(&api, &url, "application/octet-stream", b"late".to_vec()).await;
    assert_eq!(r.status, StatusCode::GONE);

    // Duration bounds are argument errors (60 s to 4 h).
    for bad in [59.0, 14401.0] {
        let r = api
            .rpc(
                "files/get_temporary_upload_link",
                &GetTemporaryUploadLinkArg::new(CommitInfo::new("/x")).with_duration(bad),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    assert_eq!(emu.stats().calls("apitul/1"), 7);
}

#[tokio::test]
async fn legacy_v1_chunked_upload() {
    let emu = start().await;
    let api = Api::new(&emu);
    let put = |q: String, body: Vec<u8>| {
        api.http
            .put(api.url(&format!("/1/chunked_upload{q}")))
            .bearer_auth(&api.token)
            .body(body)
    };
    let r = api.send(put(String::new(), b"hello ".to_vec())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    let id = v["upload_id"].as_str().unwrap().to_string();
    assert_eq!(v["offset"], 6);
    assert!(v["expires"].as_str().unwrap().ends_with("+0000"));
    // Wrong offset: 400 with the server's offset.
    let r = api
        .send(put(format!("?upload_id={id}&offset=3"), b"xx".to_vec()))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["offset"], 6);
    assert_eq!(r.json()["upload_id"], id.as_str());
    let r = api
        .send(put(format!("?upload_id={id}&offset=6"), b"world".to_vec()))
        .await;
    assert_eq!(r.json()["offset"], 11);
    // v1 ids are not v2 session ids.
    let (e, _): (dropbox_api::files::UploadSessionAppendError, _) =
        api.append(&id, 11, false, vec![]).await.conflict();
    assert_eq!(e, dropbox_api::files::UploadSessionAppendError::NotFound);
    // Unknown upload.
    let r = api
        .send(put("?upload_id=nope&offset=0".into(), b"x".to_vec()))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let commit = |path: &str, form: &[(&str, &str)]| {
        api.http
            .post(api.url(&format!("/1/commit_chunked_upload/auto{path}")))
            .bearer_auth(&api.token)
            .form(form)
    };
    let r = api
        .send(commit("/v1/Hello.txt", &[("upload_id", &id)]))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let m = r.json();
    assert_eq!(m["bytes"], 11);
    assert_eq!(m["path"], "/v1/Hello.txt");
    assert_eq!(m["is_dir"], false);
    assert!(m["rev"].as_str().unwrap().len() >= 9);
    assert_eq!(api.get("/v1/hello.txt").await, b"hello world");
    // Committed ids are gone.
    let r = api
        .send(commit("/v1/again.txt", &[("upload_id", &id)]))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // overwrite=false without autorename conflicts; with autorename it renames.
    let id2 = api
        .send(put(String::new(), b"second".to_vec()))
        .await
        .json()["upload_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = api
        .send(commit(
            "/v1/Hello.txt",
            &[
                ("upload_id", &id2),
                ("overwrite", "false"),
                ("autorename", "false"),
            ],
        ))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = api
        .send(commit(
            "/v1/Hello.txt",
            &[("upload_id", &id2), ("overwrite", "false")],
        ))
        .await;
    assert_eq!(r.json()["path"], "/v1/Hello (1).txt");
    // Bad paths and roots.
    let r = api
        .send(commit("/v1/../etc/passwd", &[("upload_id", "x")]))
        .await;
    assert!(r.status == StatusCode::NOT_FOUND || r.status == StatusCode::BAD_REQUEST);
    let r = api
        .send(
            api.http
                .post(api.url("/1/commit_chunked_upload/bogus/a.txt"))
                .bearer_auth(&api.token)
                .form(&[("upload_id", "x")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Unauthenticated.
    let r = api
        .send(api.http.put(api.url("/1/chunked_upload")).body("x"))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn legacy_v1_uploads_expire_after_48_hours() {
    let emu = start().await;
    let api = Api::new(&emu);
    let r = api
        .send(
            api.http
                .put(api.url("/1/chunked_upload"))
                .bearer_auth(&api.token)
                .body("abc"),
        )
        .await;
    let id = r.json()["upload_id"].as_str().unwrap().to_string();
    emu.advance_clock(Duration::from_secs(47 * 3600));
    let r = api
        .send(
            api.http
                .put(api.url(&format!("/1/chunked_upload?upload_id={id}&offset=3")))
                .bearer_auth(&api.token)
                .body("d"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    emu.advance_clock(Duration::from_secs(2 * 3600));
    let r = api
        .send(
            api.http
                .put(api.url(&format!("/1/chunked_upload?upload_id={id}&offset=4")))
                .bearer_auth(&api.token)
                .body("e"),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn token_call(api: &Api, form: &[(&str, &str)]) -> Resp {
    api.send(api.http.post(api.url("/oauth2/token")).form(form))
        .await
}

#[tokio::test]
async fn oauth_refresh_and_pkce_code_flows() {
    let emu = start_with(dbx_emulator::EmulatorConfig {
        durable: false,
        access_token_lifetime: Duration::from_secs(600),
        ..Default::default()
    })
    .await;
    let api = Api::new(&emu);
    emu.oauth().register_app(OAuthApp {
        client_id: "pkce-only".into(),
        client_secret: None,
    });

    // PKCE S256 code flow without a secret.
    let verifier = "a-long-enough-code-verifier-0123456789-abcdefghijklmnop";
    let challenge = PkceMethod::S256.challenge(verifier);
    let code = emu
        .oauth()
        .authorize("pkce-only", Some((&challenge, PkceMethod::S256)), None)
        .unwrap();
    let r = token_call(
        &api,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", "pkce-only"),
            ("code_verifier", verifier),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["token_type"], "bearer");
    assert_eq!(v["expires_in"], 600);
    let access = v["access_token"].as_str().unwrap().to_string();
    let refresh = v["refresh_token"].as_str().unwrap().to_string();
    let ok: ListFolderResult = api
        .with_token(&access)
        .rpc("files/list_folder", &ListFolderArg::new(""))
        .await
        .ok();
    assert!(!ok.has_more);
    // Codes are single use.
    let r = token_call(
        &api,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", "pkce-only"),
            ("code_verifier", verifier),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "invalid_grant");

    // Expiry, then refresh without a secret (PKCE app).
    emu.advance_clock(Duration::from_secs(601));
    let r = api
        .with_token(&access)
        .rpc("files/list_folder", &ListFolderArg::new(""))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"][".tag"], "expired_access_token");
    let r = token_call(
        &api,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", "pkce-only"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let fresh = r.json()["access_token"].as_str().unwrap().to_string();
    assert!(r.json().get("refresh_token").is_none());
    assert_eq!(
        api.with_token(&fresh)
            .rpc("files/list_folder", &ListFolderArg::new(""))
            .await
            .status,
        StatusCode::OK
    );

    // Plain PKCE and secret-based refresh with HTTP Basic credentials.
    let code = emu
        .oauth()
        .authorize(
            "dbx-emulator-app",
            Some(("plain-verifier", PkceMethod::Plain)),
            None,
        )
        .unwrap();
    let r = token_call(
        &api,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", "dbx-emulator-app"),
            ("code_verifier", "plain-verifier"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let rt = emu.oauth().issue_refresh_token("dbx-emulator-app").unwrap();
    let r = api
        .send(
            api.http
                .post(api.url("/oauth2/token"))
                .basic_auth("dbx-emulator-app", Some("dbx-emulator-secret"))
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", rt.as_str()),
                ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = token_call(
        &api,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt),
            ("client_id", "dbx-emulator-app"),
        ],
    )
    .await;
    assert_eq!(r.json()["error"], "invalid_client");
    let r = token_call(
        &api,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "bogus"),
            ("client_id", "dbx-emulator-app"),
            ("client_secret", "dbx-emulator-secret"),
        ],
    )
    .await;
    assert_eq!(r.json()["error"], "invalid_grant");
    let r = token_call(
        &api,
        &[("grant_type", "password"), ("client_id", "pkce-only")],
    )
    .await;
    assert_eq!(r.json()["error"], "unsupported_grant_type");
}
