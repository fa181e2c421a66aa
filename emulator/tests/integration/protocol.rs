//! The wire protocol: authentication, content types, argument decoding and error shapes.

use crate::common::*;
use dropbox_api::auth::AuthError;
use dropbox_api::files::{
    FileMetadata, GetMetadataArg, ListFolderArg, ListFolderResult, UploadArg,
};
use reqwest::StatusCode;

#[tokio::test]
async fn authentication_errors() {
    let emu = start().await;
    let api = Api::new(&emu);
    let url = api.url("/2/files/list_folder");
    let body = serde_json::to_vec(&ListFolderArg::new("")).unwrap();

    // Missing header: 400 text, as Dropbox answers.
    let r = api
        .send(
            api.http
                .post(&url)
                .header("Content-Type", "application/json")
                .body(body.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("Authorization"), "{}", r.text());

    // Not a bearer token: 400, and the value is not echoed.
    let r = api
        .send(
            api.http
                .post(&url)
                .header("Authorization", "Basic c2VjcmV0LXZhbHVl")
                .header("Content-Type", "application/json")
                .body(body.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(!r.text().contains("c2VjcmV0LXZhbHVl"));

    // Unknown token: 401 with the exact envelope.
    let r = api
        .with_token("sl.wrong")
        .rpc("files/list_folder", &ListFolderArg::new(""))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.json(),
        serde_json::json!({
            "error_summary": "invalid_access_token/...",
            "error": {".tag": "invalid_access_token"}
        })
    );
    let e: AuthError = serde_json::from_value(r.json()["error"].clone()).unwrap();
    assert_eq!(e, AuthError::InvalidAccessToken);
    assert!(!r.text().contains("sl.wrong"));

    // Expired token.
    let short = emu
        .oauth()
        .issue_access_token(Some(std::time::Duration::from_secs(60)));
    let ok: ListFolderResult = api
        .with_token(&short)
        .rpc("files/list_folder", &ListFolderArg::new(""))
        .await
        .ok();
    assert!(ok.entries.is_empty());
    emu.advance_clock(std::time::Duration::from_secs(61));
    let r = api
        .with_token(&short)
        .rpc("files/list_folder", &ListFolderArg::new(""))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let e: AuthError = serde_json::from_value(r.json()["error"].clone()).unwrap();
    assert_eq!(e, AuthError::ExpiredAccessToken);
    assert_eq!(r.json()["error_summary"], "expired_access_token/...");
    // The development token never expires.
    emu.advance_clock(std::time::Duration::from_secs(365 * 24 * 3600));
    assert_eq!(
        api.rpc("files/list_folder", &ListFolderArg::new(""))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn content_type_and_argument_errors_are_400_text() {
    let emu = start().await;
    let api = Api::new(&emu);
    let rpc = |ct: Option<&'static str>, body: &'static str| {
        let mut req = api
            .http
            .post(api.url("/2/files/list_folder"))
            .bearer_auth(&api.token)
            .body(body);
        if let Some(ct) = ct {
            req = req.header("Content-Type", ct);
        }
        req
    };
    for (ct, body, needle) in [
        (Some("text/plain"), r#"{"path": ""}"#, "Content-Type"),
        (None, r#"{"path": ""}"#, "Content-Type"),
        (
            Some("application/json"),
            r#"{"path": "#,
            "could not decode input as JSON",
        ),
        (Some("application/json"), r#"{"path": 5}"#, "request body"),
        (Some("application/json"), r#"{}"#, "path"),
        (
            Some("application/json"),
            r#"{"path": "", "limit": 5000}"#,
            "limit",
        ),
        (
            Some("application/json"),
            r#"{"path": "", "recursive": null}"#,
            "request body",
        ),
        (Some("application/json"), r#"[1,2]"#, "request body"),
    ] {
        let r = api.send(rpc(ct, body)).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{ct:?} {body}: {}",
            r.text()
        );
        assert!(
            r.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
        assert!(r.text().contains(needle), "{body}: {}", r.text());
        assert!(r.text().contains("files/list_folder"), "{}", r.text());
    }
    // charset parameter accepted.
    let r = api
        .send(rpc(
            Some("application/json; charset=utf-8"),
            r#"{"path": ""}"#,
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);

    // Upload routes: missing or bad Dropbox-API-Arg, wrong content type.
    let up = api.url("/2/files/upload");
    let r = api
        .send(
            api.http
                .post(&up)
                .bearer_auth(&api.token)
                .header("Content-Type", "application/octet-stream")
                .body("x"),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("Dropbox-API-Arg"), "{}", r.text());
    let r = api
        .send(
            api.http
                .post(&up)
                .bearer_auth(&api.token)
                .header("Content-Type", "application/octet-stream")
                .header("Dropbox-API-Arg", "{not json")
                .body("x"),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("Dropbox-API-Arg"));
    let r = api
        .send(
            api.http
                .post(&up)
                .bearer_auth(&api.token)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Dropbox-API-Arg", r#"{"path": "/a"}"#)
                .body("x"),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = api
        .send(
            api.http
                .post(&up)
                .bearer_auth(&api.token)
                .header("Content-Type", "application/octet-stream")
                .header("Dropbox-API-Arg", r#"{"path": "relative"}"#)
                .body("x"),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "path pattern is an argument error"
    );
    assert!(r.text().contains("path"));
}

#[tokio::test]
async fn header_arg_unicode_escapes_and_url_arg() {
    let emu = start().await;
    let api = Api::new(&emu);
    // Escaped JSON in the header decodes to the real name.
    let r = api
        .send(
            api.http
                .post(api.url("/2/files/upload"))
                .bearer_auth(&api.token)
                .header("Content-Type", "application/octet-stream")
                .header(
                    "Dropbox-API-Arg",
                    r#"{"path": "/caf\u00e9 \ud83d\ude00.txt"}"#,
                )
                .body("x"),
        )
        .await;
    let meta: FileMetadata = r.ok();
    assert_eq!(meta.name, "café 😀.txt");
    // The generated arg type serialized and escaped by the test client gives the same file.
    let meta2: FileMetadata = api
        .upload(
            "files/upload",
            &UploadArg::new("/CAFÉ 😀.TXT").with_mode(dropbox_api::files::WriteMode::Overwrite),
            b"y".to_vec(),
        )
        .await
        .ok();
    assert_eq!(meta2.id, meta.id);
    // The `arg` URL parameter works for content routes too.
    let r = api
        .send(
            api.http
                .post(api.url("/2/files/download"))
                .query(&[("arg", r#"{"path": "/café 😀.txt"}"#)])
                .bearer_auth(&api.token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, b"y");
}

#[tokio::test]
async fn unknown_routes_methods_and_rpc_results() {
    let emu = start().await;
    let api = Api::new(&emu);
    let r = api.rpc("files/no_such_route", &serde_json::json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = api.send(api.http.get(api.url("/nothing/here"))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = api
        .send(
            api.http
                .get(api.url("/2/files/list_folder"))
                .bearer_auth(&api.token),
        )
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    // rpc results are JSON bodies without Dropbox-API-Result.
    let r = api
        .rpc("files/get_metadata", &GetMetadataArg::new("/x"))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.headers["content-type"], "application/json");
    assert!(r.headers.get("dropbox-api-result").is_none());
    assert_eq!(emu.stats().calls("(unknown)"), 2);
}
