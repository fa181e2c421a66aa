//! A killed upload resumed from its saved state; a changed source refused.

use crate::common::*;
use dbx_emulator::{FaultAction, FaultRule};
use dropbox_api::files::CommitInfo;
use dropbox_upload::SourceIdentity;
use dropbox_upload::prelude::*;

const APPEND: &str = "files/upload_session/append_v2";

/// Starts an upload of `local` saving state to `state`, and kills it once `kill_at` bytes
/// were acknowledged.
async fn killed_upload(
    client: &dropbox_api::UserClient,
    local: &std::path::Path,
    state: &StateFile,
    session: SessionType,
    kill_at: u64,
) {
    let (reporter, mut rx) = ProgressReporter::channel();
    let options = UploadOptions::default()
        .single_request_max(0)
        .chunk_size(4 * MIB)
        .concurrency(2)
        .session_type(session)
        .retry(fast_retry())
        .progress(reporter)
        .state_sink(state.sink());
    let task = tokio::spawn({
        let client = client.clone();
        let local = local.to_path_buf();
        async move {
            client
                .upload_file(local, CommitInfo::new("/resume/big.bin"), &options)
                .await
        }
    });
    loop {
        rx.changed().await.expect("upload still running");
        if rx.borrow().bytes_acked >= kill_at {
            break;
        }
    }
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
}

#[tokio::test]
async fn killed_upload_resumes_from_saved_state() {
    for session in [SessionType::Sequential, SessionType::Concurrent] {
        let emu = emulator().await;
        let client = client(&emu);
        emu.faults()
            .add(FaultRule::new(APPEND, FaultAction::Latency { millis: 30 }));
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().join("big.bin");
        let body = data(40 * MB + 123, 21);
        std::fs::write(&local, &body).unwrap();
        let state_file = StateFile::new(dir.path().join("big.state.json"));

        killed_upload(&client, &local, &state_file, session, 12 * MIB).await;
        let state = state_file.load().unwrap().expect("state was saved");
        assert!(state.acked_bytes() >= 12 * MIB, "{:?}", state.acked);
        assert!(state.acked_bytes() < body.len() as u64);
        assert_eq!(state.total, body.len() as u64);
        assert_eq!(state.session_type, session);
        let sent_before = emu.stats().bytes_in(APPEND);

        // A new process: only the state file and the client survive.
        let options = UploadOptions::default().retry(fast_retry()).concurrency(2);
        let out = client.resume_upload(state.clone(), &options).await.unwrap();
        assert_eq!(out.bytes, body.len() as u64);
        assert_eq!(out.content_hash, dropbox_upload::content_hash(&body));
        assert_eq!(download(&client, "/resume/big.bin").await, body);
        // The resumed run sent only what was missing (plus at most the chunks in flight
        // when the first run was killed).
        let sent_after = emu.stats().bytes_in(APPEND) - sent_before;
        assert!(
            sent_after <= body.len() as u64 - state.acked_bytes() + 2 * 4 * MIB,
            "{session:?}: resent {sent_after} bytes"
        );
        assert!(sent_after < body.len() as u64);
        // Only one session was ever opened.
        assert_eq!(emu.stats().calls("files/upload_session/start"), 1);
    }
}

#[tokio::test]
async fn changed_source_is_refused() {
    let emu = emulator().await;
    let client = client(&emu);
    emu.faults()
        .add(FaultRule::new(APPEND, FaultAction::Latency { millis: 30 }));
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("big.bin");
    std::fs::write(&local, data(20 * MB, 3)).unwrap();
    let state_file = StateFile::new(dir.path().join("state.json"));
    killed_upload(
        &client,
        &local,
        &state_file,
        SessionType::Sequential,
        4 * MIB,
    )
    .await;
    let state = state_file.load().unwrap().unwrap();

    // Same size, different bytes in the first block (and a new modification time).
    let mut changed = data(20 * MB, 3);
    changed[10] ^= 0xff;
    std::fs::write(&local, &changed).unwrap();
    let err = client
        .resume_upload(state.clone(), &UploadOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, UploadError::SourceChanged(_)), "{err:?}");

    // A different size is refused too, and nothing was committed.
    std::fs::write(&local, data(21 * MB, 3)).unwrap();
    let err = client
        .resume_upload(state, &UploadOptions::default())
        .await
        .unwrap_err();
    match err {
        UploadError::SourceChanged(why) => assert!(why.contains("size"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(emu.stats().calls("files/upload_session/finish"), 0);
}

#[tokio::test]
async fn state_file_round_trips_and_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("f.bin");
    std::fs::write(&local, b"hello").unwrap();
    let file = StateFile::new(dir.path().join("sub/state.json"));
    assert!(file.load().unwrap().is_none());
    let state = UploadState {
        version: 1,
        path: local.clone(),
        session_id: "pid_upload_session:abc".into(),
        session_type: SessionType::Concurrent,
        chunk_size: 4 * MIB,
        total: 5,
        acked: vec![(0, 5)],
        commit: CommitInfo::new("/f.bin"),
        source: SourceIdentity::of_path(&local).unwrap(),
    };
    file.save(&state).unwrap();
    assert_eq!(file.load().unwrap().unwrap(), state);
    file.remove().unwrap();
    file.remove().unwrap();
    assert!(file.load().unwrap().is_none());
    // A corrupt state file is an error, not a silent restart.
    std::fs::write(file.path(), b"{not json").unwrap();
    assert!(file.load().is_err());
}
