//! Single-file uploads of every interesting size, sequential and concurrent, read back.

use crate::common::*;
use dropbox_api::files::CommitInfo;
use dropbox_upload::prelude::*;

async fn round_trip(
    client: &dropbox_api::UserClient,
    len: usize,
    options: &UploadOptions,
    tag: &str,
) {
    let body = data(len, len as u64 + 7);
    let path = format!("/sizes/{tag}-{len}.bin");
    let out = client
        .upload_bytes(body.clone(), CommitInfo::new(path.clone()), options)
        .await
        .unwrap_or_else(|e| panic!("{tag} {len}: {e}"));
    assert_eq!(out.bytes, len as u64);
    assert_eq!(out.metadata.size, len as u64);
    assert_eq!(out.content_hash, dropbox_upload::content_hash(&body));
    assert_eq!(
        out.metadata.content_hash.as_deref(),
        Some(out.content_hash.to_string().as_str())
    );
    assert_eq!(
        download(client, &path).await,
        body,
        "{tag} {len}: bytes differ"
    );
}

const SIZES: &[usize] = &[0, 1, 4 * MB - 1, 4 * MB, 4 * MB + 1, 12 * MB + 5];

#[tokio::test]
async fn single_request_sizes() {
    let emu = emulator().await;
    let client = client(&emu);
    let options = UploadOptions::default().single_request_max(16 * MIB);
    for &len in SIZES {
        round_trip(&client, len, &options, "single").await;
    }
    assert_eq!(emu.stats().calls("files/upload"), SIZES.len() as u64);
    assert_eq!(emu.stats().calls("files/upload_session/start"), 0);
}

#[tokio::test]
async fn sequential_session_sizes() {
    let emu = emulator().await;
    let client = client(&emu);
    let options = UploadOptions::default()
        .single_request_max(0)
        .chunk_size(4 * MIB);
    for &len in SIZES {
        round_trip(&client, len, &options, "seq").await;
    }
    // Only the empty file goes in one request; every other size opens a session.
    assert_eq!(emu.stats().calls("files/upload"), 1);
    assert_eq!(
        emu.stats().calls("files/upload_session/start"),
        SIZES.len() as u64 - 1
    );
}

#[tokio::test]
async fn concurrent_session_sizes() {
    let emu = emulator().await;
    let client = client(&emu);
    let options = UploadOptions::default()
        .single_request_max(0)
        .session_type(SessionType::Concurrent)
        .concurrency(3)
        .chunk_size(4 * MIB);
    for &len in SIZES {
        round_trip(&client, len, &options, "conc").await;
    }
    // 12 MiB + 5 in 4 MiB chunks: up to three appends in flight at once.
    assert!(emu.stats().max_in_flight("files/upload_session/append_v2") >= 2);
}

#[tokio::test]
async fn files_and_streams() {
    let emu = emulator().await;
    let client = client(&emu);
    let dir = tempfile::tempdir().unwrap();
    let body = data(9 * MB + 3, 99);
    let local = dir.path().join("big.bin");
    std::fs::write(&local, &body).unwrap();
    let options = UploadOptions::default().chunk_size(4 * MIB);
    let out = client
        .upload_file(&local, CommitInfo::new("/f/big.bin"), &options)
        .await
        .unwrap();
    assert_eq!(out.content_hash, dropbox_upload::content_hash(&body));
    assert_eq!(download(&client, "/f/big.bin").await, body);

    let reader = std::io::Cursor::new(body.clone());
    let out = client
        .upload_stream(reader, None, CommitInfo::new("/f/stream.bin"), &options)
        .await
        .unwrap();
    assert_eq!(out.bytes, body.len() as u64);
    assert_eq!(download(&client, "/f/stream.bin").await, body);
}

#[tokio::test]
async fn bad_options_are_rejected_before_any_request() {
    let emu = emulator().await;
    let client = client(&emu);
    for options in [
        UploadOptions::default().chunk_size(3 * MIB),
        UploadOptions::default().chunk_size(0),
        UploadOptions::default().chunk_size(152 * MIB),
        UploadOptions::default().concurrency(0),
    ] {
        let err = client
            .upload_bytes(
                vec![1u8; 20 * MB],
                CommitInfo::new("/x"),
                &options.single_request_max(0),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, UploadError::InvalidOptions(_)), "{err}");
    }
    assert_eq!(
        emu.stats()
            .snapshot()
            .values()
            .map(|r| r.calls)
            .sum::<u64>(),
        0
    );
}

#[tokio::test]
async fn seekable_reader_source() {
    let emu = emulator().await;
    let client = client(&emu);
    let body = data(10 * MB + 9, 12);
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("s.bin");
    std::fs::write(&local, &body).unwrap();
    let file = tokio::fs::File::open(&local).await.unwrap();
    let options = UploadOptions::default()
        .session_type(SessionType::Concurrent)
        .chunk_size(4 * MIB);
    let source = UploadSource::Seekable {
        reader: Box::new(file),
        len: body.len() as u64,
    };
    let out = client
        .upload_source(source, CommitInfo::new("/f/seek.bin"), &options)
        .await
        .unwrap();
    assert_eq!(out.content_hash, dropbox_upload::content_hash(&body));
    assert_eq!(download(&client, "/f/seek.bin").await, body);
}
