//! The request log: one line per request with route, status and bytes; never a token or
//! a temporary upload link.

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
                .post(&link)
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
    assert!(log.contains("status=401"), "{log}");
    let link_id = link.rsplit('/').next().unwrap();
    for secret in [
        api.token.as_str(),
        "sl.some-wrong-token",
        link_id,
        refresh.as_str(),
        "dbx-emulator-secret",
    ] {
        assert!(!log.contains(secret), "log leaks a secret:\n{log}");
    }
}
