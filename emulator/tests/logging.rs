//! The request log: one line per request with route, status and bytes; never a token or
//! a temporary upload link.

#[path = "integration/common/mod.rs"]
mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use dropbox_api::files::{CommitInfo, GetTemporaryUploadLinkArg, GetTemporaryUploadLinkResult};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn request_log_lines_carry_no_secrets() {
    let buf = Buffer::default();
    let writer = buf.clone();
    tracing_subscriber::fmt()
        .with_env_filter("debug")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let emu = start().await;
    let api = Api::new(&emu);
    api.put("/logged.txt", b"12345").await;
    let r: GetTemporaryUploadLinkResult = api
        .rpc(
            "files/get_temporary_upload_link",
            &GetTemporaryUploadLinkArg::new(CommitInfo::new("/via-link.txt")),
        )
        .await
        .ok();
    let link = r.link;
    let up = api
        .send(
            api.http
                .post(link.as_str())
                .header("Content-Type", "text/plain")
                .body("hi"),
        )
        .await;
    assert_eq!(up.status, reqwest::StatusCode::OK);
    let bad = api
        .with_token("sl.some-wrong-token")
        .rpc(
            "files/list_folder",
            &dropbox_api::files::ListFolderArg::new(""),
        )
        .await;
    assert_eq!(bad.status, reqwest::StatusCode::UNAUTHORIZED);
    let refresh = emu.oauth().issue_refresh_token("dbx-emulator-app").unwrap();
    api.send(api.http.post(api.url("/oauth2/token")).form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("client_id", "dbx-emulator-app"),
        ("client_secret", "dbx-emulator-secret"),
    ]))
    .await;
    // The authorize step (its code is in the answer and in the redirect) and a revoke.
    emu.oauth().register_app(dbx_emulator::OAuthApp {
        client_id: "logged-app".into(),
        client_secret: None,
    });
    let verifier = "logged-verifier-logged-verifier-logged-verifier-0123";
    let challenge = dbx_emulator::PkceMethod::S256.challenge(verifier);
    let authorize = api
        .send(
            api.http
                .get(api.url(&format!(
                    "/oauth2/authorize?client_id=logged-app&response_type=code&token_access_type=offline&state=LOGGED-STATE&code_challenge={challenge}&code_challenge_method=S256"
                )))
                .header("Accept", "application/json"),
        )
        .await;
    let code = authorize.json()["code"].as_str().unwrap().to_string();
    let issued = api
        .send(api.http.post(api.url("/oauth2/token")).form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", "logged-app"),
            ("code_verifier", verifier),
        ]))
        .await
        .json();
    let oauth_access = issued["access_token"].as_str().unwrap().to_string();
    let oauth_refresh = issued["refresh_token"].as_str().unwrap().to_string();
    let revoked = api
        .send(
            api.http
                .post(api.url("/2/auth/token/revoke"))
                .bearer_auth(&oauth_access),
        )
        .await;
    assert_eq!(revoked.status, reqwest::StatusCode::OK);
    emu.shutdown().await;

    let log = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    let upload_line = log
        .lines()
        .find(|l| l.contains("route=files/upload "))
        .unwrap_or_else(|| panic!("no upload line in:\n{log}"));
    assert!(upload_line.contains("status=200"), "{upload_line}");
    assert!(upload_line.contains("bytes_in=5"), "{upload_line}");
    assert!(upload_line.contains("bytes_out="), "{upload_line}");
    assert!(log.contains("route=apitul/1 "), "{log}");
    assert!(log.contains("route=oauth2/authorize "), "{log}");
    assert!(log.contains("route=auth/token/revoke "), "{log}");
    assert!(log.contains("status=401"), "{log}");
    let link_id = link.rsplit('/').next().unwrap();
    for secret in [
        api.token.as_str(),
        "sl.some-wrong-token",
        link_id,
        refresh.as_str(),
        "dbx-emulator-secret",
        code.as_str(),
        verifier,
        challenge.as_str(),
        "LOGGED-STATE",
        oauth_access.as_str(),
        oauth_refresh.as_str(),
    ] {
        assert!(!log.contains(secret), "log leaks a secret:\n{log}");
    }
}
