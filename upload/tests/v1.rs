//! The legacy v1 chunked upload through the generated v1 client.

#[path = "integration/common/mod.rs"]
mod common;

use bytes::Bytes;
use common::*;
use dbx_emulator::{FaultAction, FaultRule};
use dropbox_api::v1::types::Root;
use dropbox_api_runtime::Secret;
use dropbox_upload::v1::{V1Error, V1Uploader};

const CHUNK: &str = "1/chunked_upload";

fn uploader(emu: &dbx_emulator::EmulatorHandle) -> V1Uploader {
    V1Uploader::new(emu.base_url(), &Secret::new(emu.access_token().to_string()))
        .unwrap()
        .with_retry(fast_retry())
}

#[tokio::test]
async fn chunked_upload_and_commit() {
    let emu = emulator().await;
    let body = Bytes::from(data(3 * MB + 5, 31));
    let meta = uploader(&emu)
        .upload(body.clone(), Root::Auto, "/v1/file.bin", MB)
        .await
        .unwrap();
    assert_eq!(meta.bytes, body.len() as i64);
    assert_eq!(emu.stats().calls(CHUNK), 4);
    assert_eq!(download(&client(&emu), "/v1/file.bin").await, body);
}

#[tokio::test]
async fn lost_answers_and_resets_resume_from_the_server_offset() {
    let emu = emulator().await;
    // The second chunk is stored but its answer is lost; the third is cut mid-body; the
    // fourth meets a 503. Each time the uploader sends again and, where the server already
    // has the bytes, continues from the offset in its 400 answer.
    emu.faults().add(
        FaultRule::new(CHUNK, FaultAction::ResetBeforeResponse)
            .every_nth(2)
            .times(1),
    );
    emu.faults().add(
        FaultRule::new(CHUNK, FaultAction::ResetAfterBytes { bytes: 1000 })
            .every_nth(4)
            .times(1),
    );
    emu.faults().add(
        FaultRule::new(CHUNK, FaultAction::ServiceUnavailable)
            .every_nth(6)
            .times(1),
    );
    let body = Bytes::from(data(6 * MB, 32));
    uploader(&emu)
        .upload(body.clone(), Root::Auto, "/v1/faulty.bin", MB)
        .await
        .unwrap();
    assert_eq!(emu.faults().injected(), 3);
    assert_eq!(
        emu.stats().status_count(CHUNK, 400),
        1,
        "one resync from the server offset"
    );
    assert_eq!(download(&client(&emu), "/v1/faulty.bin").await, body);
}

#[tokio::test]
async fn refusals_are_typed() {
    let emu = emulator().await;
    let bad = V1Uploader::new(emu.base_url(), &Secret::new("not-the-token".to_string())).unwrap();
    let err = bad
        .upload(Bytes::from_static(b"x"), Root::Auto, "/v1/x", 10)
        .await
        .unwrap_err();
    match &err {
        V1Error::Refused { status, .. } => assert_eq!(*status, 401),
        other => panic!("{other:?}"),
    }
    assert!(!err.to_string().contains("not-the-token"));
    assert!(!format!("{bad:?}").contains("not-the-token"));

    // Persistent 503s end in an error after a bounded number of attempts.
    emu.faults()
        .add(FaultRule::new(CHUNK, FaultAction::ServiceUnavailable));
    let err = uploader(&emu)
        .upload(Bytes::from_static(b"y"), Root::Auto, "/v1/y", 10)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("503"), "{err}");
    assert_eq!(
        emu.stats().status_count(CHUNK, 503),
        8,
        "max_attempts of the policy"
    );
}

#[tokio::test]
async fn a_v1_server_that_never_answers_is_bounded() {
    // Accepts, reads, never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 1024];
            let _ = tokio::io::AsyncReadExt::read(&mut s, &mut buf).await;
            held.push(s);
        }
    });
    let up = dropbox_upload::v1::V1Uploader::new(&base, &"t".into())
        .unwrap()
        .with_retry(
            dropbox_api_runtime::RetryPolicy::default()
                .max_attempts(2)
                .delays(
                    std::time::Duration::from_millis(10),
                    std::time::Duration::from_millis(10),
                ),
        )
        .with_timeouts(
            dropbox_api_runtime::Timeouts::default().attempt(std::time::Duration::from_millis(300)),
        )
        .unwrap();
    let started = std::time::Instant::now();
    let err = up
        .chunked_upload(&bytes::Bytes::from_static(b"hello"), 4)
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        elapsed >= std::time::Duration::from_millis(600),
        "{elapsed:?}"
    );
    assert!(
        elapsed < std::time::Duration::from_secs(3),
        "{elapsed:?}: {err}"
    );
    assert!(
        matches!(
            &err,
            V1Error::Failed {
                operation: "chunked_upload",
                ..
            }
        ),
        "{err}"
    );
    assert!(!err.to_string().contains(&base), "no URL in {err}");
}
