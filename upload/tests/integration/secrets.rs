//! Secrets never show in `Debug`, `Display` or error messages.

use std::time::Duration;

use crate::common::*;
use dropbox_api::files::CommitInfo;
use dropbox_api_runtime::ClientBuilder;
use dropbox_upload::prelude::*;

#[tokio::test]
async fn clients_tokens_and_links_hide_their_secrets() {
    let emu = emulator().await;
    let token = emu.access_token().to_string();
    let client = client(&emu);
    let link = client
        .create_upload_link(CommitInfo::new("/s.txt"), Duration::from_secs(600))
        .await
        .unwrap();
    let url = link.url().expose().to_owned();
    let id = url.rsplit('/').next().unwrap().to_owned();
    assert!(id.len() >= 16, "{url}");

    let refreshing = ClientBuilder::new()
        .refresh_token(
            "refresh-secret-123456",
            "app-key",
            Some(dropbox_api_runtime::Secret::new(
                "app-secret-654321".to_string(),
            )),
        )
        .base_url(emu.base_url())
        .build_user()
        .unwrap();
    let shown = [
        format!("{client:?}"),
        format!("{refreshing:?}"),
        format!("{link:?}"),
        format!("{:?}", link.url()),
        format!("{}", link.url()),
        format!("{:?}", TemporaryUploadLink::from_url(url.clone())),
    ];
    for s in &shown {
        for secret in [
            token.as_str(),
            &url,
            &id,
            "refresh-secret-123456",
            "app-secret-654321",
        ] {
            assert!(!s.contains(secret), "secret in {s}");
        }
    }

    // Errors of a used link and of a bad token carry no secret either.
    link.upload_bytes("one").await.unwrap();
    let err = link.upload_bytes("two").await.unwrap_err();
    let bad = ClientBuilder::new()
        .access_token("sl.bad-token-abcdef")
        .base_url(emu.base_url())
        .build_user()
        .unwrap();
    let auth_err = bad
        .upload_bytes("x", CommitInfo::new("/x"), &UploadOptions::default())
        .await
        .unwrap_err();
    for s in [
        err.to_string(),
        format!("{err:?}"),
        auth_err.to_string(),
        format!("{auth_err:?}"),
    ] {
        for secret in [&id, "sl.bad-token-abcdef"] {
            assert!(!s.contains(secret), "secret in {s}");
        }
    }
}
