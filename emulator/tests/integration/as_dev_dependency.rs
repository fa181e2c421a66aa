//! The library as a test suite uses it: start, a bound client, pre-populated files and
//! folders, injected faults, counters, the list of emulated routes.

use dbx_emulator::{Emulator, FaultAction, FaultRule, SeedError};
use dropbox_api::files::{
    self, DownloadArg, GetMetadataArg, ListFolderArg, Metadata, UploadArg, WriteConflictError,
    WriteError,
};
use dropbox_api::{Error, RetryPolicy};

#[tokio::test]
async fn pre_populated_files_are_listed_and_downloaded() {
    let emu = Emulator::for_tests().await.unwrap();
    let client = emu.user_client().unwrap();
    let put = emu
        .put_file("/Docs/Notes/a.txt", b"alpha".to_vec())
        .await
        .unwrap();
    assert_eq!(put.size, 5);
    assert_eq!(put.path_display.as_deref(), Some("/Docs/Notes/a.txt"));
    assert_eq!(
        put.content_hash.as_deref(),
        Some(
            dropbox_content_hash::content_hash(b"alpha")
                .to_hex()
                .as_str()
        )
    );
    emu.create_folder("/Docs/Empty").await.unwrap();
    // An existing folder is fine; a file in the way is Dropbox's conflict.
    emu.create_folder("/Docs/Empty").await.unwrap();
    match emu.create_folder("/Docs/Notes/a.txt/x").await {
        Err(SeedError::Write { path, error }) => {
            assert_eq!(path, "/Docs/Notes/a.txt/x");
            assert_eq!(
                error,
                WriteError::Conflict(WriteConflictError::FileAncestor)
            );
        }
        other => panic!("expected a conflict, got {other:?}"),
    }

    let listing = files::list_folder(&client, &ListFolderArg::new("/docs").with_recursive(true))
        .await
        .unwrap();
    let mut names: Vec<(String, bool)> = listing
        .entries
        .iter()
        .map(|m| match m {
            Metadata::File(f) => (f.path_display.clone().unwrap_or_default().into(), true),
            Metadata::Folder(f) => (f.path_display.clone().unwrap_or_default().into(), false),
            Metadata::Deleted(d) => panic!("deleted entry {d:?}"),
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            ("/Docs".to_string(), false),
            ("/Docs/Empty".to_string(), false),
            ("/Docs/Notes".to_string(), false),
            ("/Docs/Notes/a.txt".to_string(), true),
        ]
    );
    let download = files::download(&client, &DownloadArg::new("/docs/notes/A.TXT"), None)
        .await
        .unwrap();
    assert_eq!(download.result.rev, put.rev);
    assert_eq!(&download.bytes().await.unwrap()[..], b"alpha");

    // Overwriting keeps the id and changes the rev, as an upload in overwrite mode does.
    let again = emu
        .put_file("/docs/notes/a.txt", b"beta!".to_vec())
        .await
        .unwrap();
    assert_eq!(again.id, put.id);
    assert_ne!(again.rev, put.rev);
    // An upload by the client conflicts with the pre-populated file (mode add).
    let err = files::upload(
        &client,
        &UploadArg::new("/Docs/Notes/a.txt"),
        b"other".to_vec(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Route(_)), "{err:?}");
}

#[tokio::test]
async fn faults_are_injected_and_counted() {
    let emu = Emulator::for_tests().await.unwrap();
    emu.put_file("/f.bin", vec![7u8; 100]).await.unwrap();
    // Pre-populating goes around HTTP: nothing counted.
    assert!(
        emu.stats().snapshot().is_empty(),
        "{:?}",
        emu.stats().snapshot()
    );

    let id = emu
        .faults()
        .add(FaultRule::new("files/get_metadata", FaultAction::InternalError).times(1));
    // With retries the client gets over the injected 500.
    let client = emu.user_client().unwrap();
    let meta = files::get_metadata(&client, &GetMetadataArg::new("/f.bin"))
        .await
        .unwrap();
    assert!(matches!(meta, Metadata::File(f) if f.size == 100));
    assert_eq!(emu.faults().injected(), 1);
    assert_eq!(emu.stats().calls("files/get_metadata"), 2);
    assert_eq!(emu.stats().status_count("files/get_metadata", 500), 1);
    assert_eq!(emu.stats().status_count("files/get_metadata", 200), 1);

    // Without retries the fault reaches the caller.
    assert!(emu.faults().remove(id));
    emu.faults()
        .add(FaultRule::new("files/get_metadata", FaultAction::ServiceUnavailable).times(1));
    let strict = emu
        .client_builder()
        .retry_policy(RetryPolicy::none())
        .build_user()
        .unwrap();
    let err = files::get_metadata(&strict, &GetMetadataArg::new("/f.bin"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Server { status: 503, .. }), "{err:?}");
    assert_eq!(emu.faults().injected(), 2);
    assert_eq!(emu.stats().calls("files/get_metadata"), 3);

    emu.stats().reset();
    assert_eq!(emu.stats().calls("files/get_metadata"), 0);
}

#[test]
fn the_emulated_routes_are_the_served_ones() {
    let paths: Vec<&str> = dbx_emulator::emulated_routes().map(|r| r.path).collect();
    assert_eq!(paths.len(), 17, "{paths:?}");
    for spec in [
        files::routes::UPLOAD.spec(),
        files::routes::UPLOAD_SESSION_APPEND_V2.spec(),
        files::routes::UPLOAD_SESSION_FINISH_BATCH_CHECK.spec(),
        files::routes::DOWNLOAD.spec(),
        files::routes::LIST_FOLDER_CONTINUE.spec(),
    ] {
        assert!(paths.contains(&spec.path), "{}", spec.path);
        assert!(dbx_emulator::is_emulated(&spec));
    }
    let mut unique = paths.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), paths.len());
}

/// Every listed route reaches its handler: a call without an argument is refused by the
/// route's own argument check, never with the "does not implement" answer or a 404.
#[tokio::test]
async fn every_listed_route_is_served() {
    let emu = Emulator::for_tests().await.unwrap();
    let http = dropbox_api::http_client_builder().build().unwrap();
    for spec in dbx_emulator::emulated_routes() {
        let ct = match spec.style {
            dropbox_api::route::Style::Rpc => "application/json",
            _ => "application/octet-stream",
        };
        let r = http
            .post(format!("{}{}", emu.base_url(), spec.path))
            .bearer_auth(emu.access_token())
            .header("Content-Type", ct)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body = r.text().await.unwrap();
        assert_eq!(status, 400, "{}: {body}", spec.path);
        assert!(
            !body.contains("does not implement"),
            "{}: {body}",
            spec.path
        );
        let name = spec.path.trim_start_matches("/2/");
        assert!(
            body.starts_with(&format!("Error in call to API function \"{name}\"")),
            "{}: {body}",
            spec.path
        );
    }
    // A path that is no route keeps Dropbox's 404.
    let r = http
        .post(format!("{}/2/files/no_such_route", emu.base_url()))
        .bearer_auth(emu.access_token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
}
