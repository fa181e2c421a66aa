//! Recovery from the failures Dropbox produces, injected by the emulator.

use crate::common::*;
use dbx_emulator::{FaultAction, FaultRule};
use dropbox_api::files::CommitInfo;
use dropbox_upload::Stage;
use dropbox_upload::prelude::*;

const APPEND: &str = "files/upload_session/append_v2";

fn session_options(session: SessionType) -> UploadOptions {
    UploadOptions::default()
        .single_request_max(0)
        .chunk_size(4 * MIB)
        .concurrency(3)
        .session_type(session)
        .retry(fast_retry())
}

async fn upload_and_check(
    client: &dropbox_api::UserClient,
    body: &[u8],
    path: &str,
    options: &UploadOptions,
) {
    let out = client
        .upload_bytes(body.to_vec(), CommitInfo::new(path), options)
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(out.content_hash, dropbox_upload::content_hash(body));
    assert_eq!(
        download(client, path).await,
        body,
        "{path}: content differs"
    );
}

#[tokio::test]
async fn lost_append_answer_resynchronises_on_incorrect_offset() {
    for session in [SessionType::Sequential, SessionType::Concurrent] {
        let emu = emulator().await;
        let client = client(&emu);
        // The second append is stored, but its answer never arrives: the retry is told
        // `incorrect_offset` (sequential) or finds its range already there (concurrent).
        emu.faults().add(
            FaultRule::new(APPEND, FaultAction::ResetBeforeResponse)
                .every_nth(2)
                .times(1),
        );
        let body = data(17 * MB + 11, 5);
        upload_and_check(
            &client,
            &body,
            "/faults/lost-answer.bin",
            &session_options(session),
        )
        .await;
        assert_eq!(emu.faults().injected(), 1);
        if session == SessionType::Sequential {
            assert_eq!(
                emu.stats().status_count(APPEND, 409),
                1,
                "one incorrect_offset answer"
            );
        }
    }
}

#[tokio::test]
async fn connection_reset_mid_chunk_is_retried() {
    for session in [SessionType::Sequential, SessionType::Concurrent] {
        let emu = emulator().await;
        let client = client(&emu);
        emu.faults()
            .add(FaultRule::new(APPEND, FaultAction::ResetAfterBytes { bytes: MIB + 17 }).times(3));
        let body = data(21 * MB, 6);
        upload_and_check(
            &client,
            &body,
            "/faults/reset.bin",
            &session_options(session),
        )
        .await;
        assert_eq!(emu.faults().injected(), 3);
    }
}

#[tokio::test]
async fn server_errors_are_retried_on_every_route() {
    let emu = emulator().await;
    let client = client(&emu);
    for route in [
        "files/upload_session/start",
        APPEND,
        "files/upload_session/finish",
    ] {
        emu.faults()
            .add(FaultRule::new(route, FaultAction::InternalError).times(1));
        emu.faults()
            .add(FaultRule::new(route, FaultAction::ServiceUnavailable).times(1));
    }
    let body = data(9 * MB, 7);
    upload_and_check(
        &client,
        &body,
        "/faults/5xx.bin",
        &session_options(SessionType::Sequential),
    )
    .await;
    assert_eq!(emu.faults().injected(), 6);
    assert_eq!(emu.stats().status_count(APPEND, 500), 1);
    assert_eq!(emu.stats().status_count(APPEND, 503), 1);
}

#[tokio::test]
async fn rate_limit_waits_for_retry_after() {
    let emu = emulator().await;
    let client = client(&emu);
    emu.faults().add(
        FaultRule::new(
            APPEND,
            FaultAction::RateLimited {
                retry_after: 1,
                reason: Default::default(),
            },
        )
        .times(1),
    );
    let body = data(9 * MB, 8);
    let started = std::time::Instant::now();
    upload_and_check(
        &client,
        &body,
        "/faults/429.bin",
        &session_options(SessionType::Sequential),
    )
    .await;
    // The retry waited for the server's Retry-After, not the 5 ms backoff of the policy.
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    assert_eq!(emu.stats().status_count(APPEND, 429), 1);
}

#[tokio::test]
async fn give_up_reports_the_last_error_with_context() {
    let emu = emulator().await;
    let client = client(&emu);
    emu.faults()
        .add(FaultRule::new(APPEND, FaultAction::ServiceUnavailable));
    let mut policy = fast_retry();
    policy.max_attempts = 3;
    let options = session_options(SessionType::Sequential).retry(policy);
    let err = client
        .upload_bytes(
            data(9 * MB, 9),
            CommitInfo::new("/faults/never.bin"),
            &options,
        )
        .await
        .unwrap_err();
    match &err {
        UploadError::Api {
            stage: Stage::Append { offset, .. },
            error,
        } => {
            assert_eq!(*offset, 4 * MIB, "the first chunk travels with start");
            assert_eq!(error.status(), Some(503));
            // The emulator, like Dropbox, sends a request id with every answer.
            assert!(
                error.request_id().is_some_and(|id| id.len() == 32),
                "{error:?}"
            );
        }
        other => panic!("expected the append's 503, got {other:?}"),
    }
    assert!(err.is_transient());
    let text = err.to_string();
    assert!(text.contains("appending at offset 4194304"), "{text}");
    assert!(text.contains("(request id "), "{text}");
    assert_eq!(emu.stats().status_count(APPEND, 503), 3);
}

#[tokio::test]
async fn expired_session_starts_over() {
    let emu = emulator().await;
    let client = client(&emu);
    // Appends succeed at first; then the clock jumps past the 7-day session lifetime
    // before the last append, so the session is gone and the upload starts again.
    let c2 = client.clone();
    let body = data(13 * MB, 10);
    let (reporter, mut rx) = ProgressReporter::channel();
    let options = session_options(SessionType::Sequential).progress(reporter);
    let upload = tokio::spawn({
        let body = body.clone();
        async move {
            c2.upload_bytes(body, CommitInfo::new("/faults/expired.bin"), &options)
                .await
        }
    });
    // Wait for the first chunk to be acknowledged, then age the session.
    emu.faults()
        .add(FaultRule::new(APPEND, FaultAction::Latency { millis: 200 }));
    loop {
        rx.changed().await.unwrap();
        if rx.borrow().bytes_acked >= 4 * MIB {
            break;
        }
    }
    emu.advance_clock(std::time::Duration::from_secs(8 * 24 * 3600));
    let out = upload.await.unwrap().unwrap();
    assert_eq!(out.bytes, body.len() as u64);
    assert_eq!(download(&client, "/faults/expired.bin").await, body);
    assert!(
        emu.stats().calls("files/upload_session/start") >= 2,
        "a new session was opened"
    );
}

#[tokio::test]
async fn too_many_write_operations_on_finish_backs_off_and_retries() {
    let emu = emulator_with(dbx_emulator::EmulatorConfig {
        contend_finish_in_folder: true,
        commit_latency: std::time::Duration::from_millis(100),
        ..Default::default()
    })
    .await;
    let client = client(&emu);
    let mut policy = fast_retry();
    policy.base_delay = std::time::Duration::from_millis(50);
    policy.max_delay = std::time::Duration::from_millis(400);
    let options = session_options(SessionType::Sequential).retry(policy);
    let (a, b) = (data(5 * MB, 41), data(5 * MB, 42));
    let (ra, rb) = tokio::join!(
        client.upload_bytes(a.clone(), CommitInfo::new("/same/a.bin"), &options),
        client.upload_bytes(b.clone(), CommitInfo::new("/same/b.bin"), &options),
    );
    ra.unwrap();
    rb.unwrap();
    assert!(
        emu.stats().status_count("files/upload_session/finish", 409) >= 1,
        "the folder was contended"
    );
    assert_eq!(download(&client, "/same/a.bin").await, a);
    assert_eq!(download(&client, "/same/b.bin").await, b);
}

/// Every stall kind on every upload route is survived: the client's idle timeout ends the
/// attempt, and the toolkit's knowledge makes the resend safe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalls_on_every_upload_route_are_survived() {
    let stalls = [
        FaultAction::StallBeforeResponse,
        FaultAction::StallRequestBody { bytes: 300 },
        FaultAction::StallResponseBody { bytes: 2 },
        FaultAction::Trickle {
            interval_millis: 250,
        },
    ];
    for (k, stall) in stalls.iter().enumerate() {
        for route in [
            "files/upload_session/start",
            "files/upload_session/append_v2",
            "files/upload_session/finish",
            "files/upload",
        ] {
            // The server gives up on a stalled body after a second (as real servers do, later),
            // which frees the session for the retry.
            let emu = emulator_with(dbx_emulator::EmulatorConfig {
                limits: dbx_emulator::Limits {
                    body_idle_timeout: std::time::Duration::from_secs(1),
                    ..Default::default()
                },
                ..Default::default()
            })
            .await;
            let client = dropbox_api_runtime::ClientBuilder::new()
                .access_token(emu.access_token().to_string())
                .base_url(emu.base_url())
                .idle_timeout(std::time::Duration::from_millis(500))
                .build_user()
                .unwrap();
            emu.faults()
                .add(FaultRule::new(route, stall.clone()).times(1));
            for (i, session) in [SessionType::Sequential, SessionType::Concurrent]
                .into_iter()
                .enumerate()
            {
                let body = data(
                    if route == "files/upload" {
                        3 * MB
                    } else {
                        13 * MB
                    },
                    k as u64,
                );
                let path = format!("/stall/{k}-{}-{i}.bin", route.replace('/', "_"));
                let options = session_options(session)
                    .single_request_max(if route == "files/upload" { 8 * MIB } else { 0 })
                    .retry(fast_retry());
                let started = std::time::Instant::now();
                let out = tokio::time::timeout(
                    std::time::Duration::from_secs(30),
                    client.upload_bytes(body.clone(), CommitInfo::new(path.clone()), &options),
                )
                .await
                .unwrap_or_else(|_| panic!("{stall:?} on {route} ({session:?}): hung"))
                .unwrap_or_else(|e| panic!("{stall:?} on {route} ({session:?}): {e}"));
                assert_eq!(out.bytes, body.len() as u64);
                assert_eq!(download(&client, &path).await, body, "{stall:?} on {route}");
                assert!(started.elapsed() < std::time::Duration::from_secs(10));
            }
            emu.shutdown().await;
        }
    }
}

/// A download whose body stalls is resumed with a `Range` for the rest, and the caller gets
/// one whole stream.
#[tokio::test]
async fn a_stalled_download_resumes_where_it_stopped() {
    let emu = emulator().await;
    let client = dropbox_api_runtime::ClientBuilder::new()
        .access_token(emu.access_token().to_string())
        .base_url(emu.base_url())
        .idle_timeout(std::time::Duration::from_millis(400))
        .retry_policy(fast_retry())
        .build_user()
        .unwrap();
    let body = data(5 * MB + 3, 77);
    client
        .upload_bytes(
            body.clone(),
            CommitInfo::new("/dl/big.bin"),
            &UploadOptions::default(),
        )
        .await
        .unwrap();
    emu.faults().add(
        FaultRule::new(
            "files/download",
            FaultAction::StallResponseBody { bytes: 1 << 20 },
        )
        .times(1),
    );
    let mut d = dropbox_api::files::download(
        &client,
        &dropbox_api::files::DownloadArg::new("/dl/big.bin"),
        None,
    )
    .await
    .unwrap();
    let mut got = Vec::new();
    while let Some(chunk) = d.chunk().await.unwrap() {
        got.extend_from_slice(&chunk);
    }
    assert_eq!(d.resumed(), 1);
    assert_eq!(got, body);
    assert_eq!(emu.stats().calls("files/download"), 2);
    assert_eq!(emu.stats().status_count("files/download", 206), 1);
}
