//! The generated route functions and the runtime's client against the emulator: both sides
//! of the wire use the generated types.

use std::time::Duration;

use crate::common::*;
use dbx_emulator::{FaultAction, FaultRule, OAuthApp, PkceMethod, RateLimitKind};
use dropbox_api::files::{
    self, CommitInfo, DownloadArg, GetMetadataArg, ListFolderArg, LookupError, Metadata, UploadArg,
    UploadSessionAppendArg, UploadSessionAppendError, UploadSessionCursor, UploadSessionFinishArg,
    UploadSessionOffsetError, UploadSessionStartArg,
};
use dropbox_api::{ByteRange, ClientBuilder, Error, RateLimitReason, UserClient};

fn client(emu: &dbx_emulator::EmulatorHandle) -> UserClient {
    ClientBuilder::new()
        .access_token(emu.access_token().to_string())
        .base_url(emu.base_url())
        .build_user()
        .unwrap()
}

#[tokio::test]
async fn generated_routes_round_trip() {
    let emu = start().await;
    let c = client(&emu);
    let body = data(9 * MIB + 3, 21);

    // upload_session: start, append_v2 (a wrong offset first), finish.
    let start =
        files::upload_session_start(&c, &UploadSessionStartArg::new(), body[..5 * MIB].to_vec())
            .await
            .unwrap();
    let wrong = UploadSessionAppendArg::new(UploadSessionCursor::new(&start.session_id, 1));
    let err = files::upload_session_append_v2(&c, &wrong, body[5 * MIB..].to_vec())
        .await
        .unwrap_err();
    let Error::Route(api) = err else {
        panic!("expected a route error, got {err:?}")
    };
    assert_eq!(
        api.error,
        UploadSessionAppendError::IncorrectOffset(UploadSessionOffsetError::new(5 * MIB as u64))
    );
    assert_eq!(api.summary, "incorrect_offset/...");
    let right =
        UploadSessionAppendArg::new(UploadSessionCursor::new(&start.session_id, 5 * MIB as u64))
            .with_close(true);
    files::upload_session_append_v2(&c, &right, body[5 * MIB..].to_vec())
        .await
        .unwrap();
    let meta = files::upload_session_finish(
        &c,
        &UploadSessionFinishArg::new(
            UploadSessionCursor::new(&start.session_id, body.len() as u64),
            CommitInfo::new("/gen/Big File.bin"),
        ),
        Vec::new(),
    )
    .await
    .unwrap();
    assert_eq!(
        meta.content_hash.as_deref(),
        Some(content_hash(&body).as_str())
    );

    // get_metadata, list_folder, download with a range.
    let m = files::get_metadata(&c, &GetMetadataArg::new("/GEN/big file.BIN"))
        .await
        .unwrap();
    assert_eq!(m, Metadata::File(meta.clone()));
    let list = files::list_folder(&c, &ListFolderArg::new("/gen"))
        .await
        .unwrap();
    assert_eq!(list.entries, vec![Metadata::File(meta.clone())]);
    let d = files::download(
        &c,
        &DownloadArg::new(&meta.id),
        Some(ByteRange::Inclusive { start: 10, end: 19 }),
    )
    .await
    .unwrap();
    assert_eq!(d.status, 206);
    assert_eq!(d.result, meta);
    assert_eq!(d.bytes().await.unwrap().as_ref(), &body[10..20]);

    // A 409 with a nested LookupError.
    let err = files::get_metadata(&c, &GetMetadataArg::new("/nope"))
        .await
        .unwrap_err();
    let Error::Route(api) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        api.error,
        files::GetMetadataError::Path(LookupError::NotFound)
    );

    // files/upload through the generated function.
    let up = files::upload(&c, &UploadArg::new("/gen/small.txt"), b"small".to_vec())
        .await
        .unwrap();
    assert_eq!(up.size, 5);
}

#[tokio::test]
async fn runtime_sees_rate_limits_and_auth_errors() {
    let emu = start().await;
    let c = client(&emu);
    emu.faults().add(
        FaultRule::new(
            "files/list_folder",
            FaultAction::RateLimited {
                retry_after: 4,
                reason: RateLimitKind::TooManyWriteOperations,
            },
        )
        .times(1),
    );
    // Without retries the 429 comes back as it is (the lifecycle would wait it out).
    let once = c.with_retry_policy(dropbox_api::RetryPolicy::none());
    let err = files::list_folder(&once, &ListFolderArg::new(""))
        .await
        .unwrap_err();
    let Error::RateLimited {
        reason,
        retry_after,
        ..
    } = err
    else {
        panic!("{err:?}")
    };
    assert_eq!(reason, RateLimitReason::TooManyWriteOperations);
    assert_eq!(retry_after, Duration::from_secs(4));
    assert!(
        files::list_folder(&c, &ListFolderArg::new(""))
            .await
            .is_ok()
    );

    let bad = ClientBuilder::new()
        .access_token("sl.not-a-token")
        .base_url(emu.base_url())
        .build_user()
        .unwrap();
    let err = files::list_folder(&bad, &ListFolderArg::new(""))
        .await
        .unwrap_err();
    let Error::Auth(api) = err else {
        panic!("{err:?}")
    };
    assert_eq!(api.error, dropbox_api::auth::AuthError::InvalidAccessToken);
}

#[tokio::test]
async fn runtime_refreshes_tokens_at_the_emulator() {
    let emu = start().await;
    emu.oauth().register_app(OAuthApp {
        client_id: "pkce-app".into(),
        client_secret: None,
    });
    // Get a refresh token through the PKCE code flow.
    let verifier = "verifier-verifier-verifier-verifier-verifier-0123";
    let code = emu
        .oauth()
        .authorize(
            "pkce-app",
            Some((&PkceMethod::S256.challenge(verifier), PkceMethod::S256)),
            None,
        )
        .unwrap();
    let api = Api::new(&emu);
    let r = api
        .send(api.http.post(api.url("/oauth2/token")).form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_id", "pkce-app"),
            ("code_verifier", verifier),
        ]))
        .await;
    let refresh = r.json()["refresh_token"].as_str().unwrap().to_string();
    let c = ClientBuilder::new()
        .refresh_token(refresh, "pkce-app", None)
        .base_url(emu.base_url())
        .build_user()
        .unwrap();
    files::list_folder(&c, &ListFolderArg::new(""))
        .await
        .unwrap();
    assert_eq!(emu.stats().calls("oauth2/token"), 2);
}
