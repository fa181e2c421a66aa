//! Nothing in flight is lost to a server restart: the emulator crashes twice (in process, as
//! close to SIGKILL as that gets) and restarts on the same data directory and port while a
//! large sequential session and many small files one by one are uploading. Every upload the
//! toolkit reports done is there with its exact bytes, the large one completes, and nothing
//! is there twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::common::*;
use dbx_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use dropbox_api::UserClient;
use dropbox_api::files::{self, CommitInfo, ListFolderArg, Metadata};
use dropbox_api_runtime::hooks::{AttemptEnd, AttemptStart, Interceptor};
use dropbox_api_runtime::{ClientBuilder, RetryPolicy};
use dropbox_upload::prelude::*;

const TOKEN: &str = "restart-test-token";

async fn start(dir: &std::path::Path, port: u16, durable: bool) -> EmulatorHandle {
    Emulator::start(EmulatorConfig {
        data_dir: Some(dir.to_path_buf()),
        port,
        durable,
        access_token: Some(TOKEN.into()),
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts")
}

/// Counts, through the lifecycle's hook, the attempts that were retried and the sessions
/// started.
#[derive(Default)]
struct Seen {
    retried: AtomicU32,
    starts: AtomicU32,
}

impl Interceptor for Seen {
    fn before_attempt(&self, start: &AttemptStart<'_>, _: &mut reqwest::Request) {
        if start.route.name == "upload_session/start" {
            self.starts.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn after_attempt(&self, end: &AttemptEnd<'_>) {
        if end.retry_in.is_some() {
            self.retried.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// A client that rides out a restart: refused connections are retried with backoff, and
/// the idle timeout ends attempts the crash left hanging.
fn patient_client(base: &str, seen: Arc<Seen>) -> UserClient {
    ClientBuilder::new()
        .access_token(TOKEN)
        .base_url(base)
        .interceptor(seen)
        .idle_timeout(Duration::from_secs(2))
        .retry_policy(
            RetryPolicy::default()
                .max_attempts(30)
                .delays(Duration::from_millis(20), Duration::from_millis(300)),
        )
        .build_user()
        .expect("client builds")
}

async fn listing(client: &UserClient) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut page = files::list_folder(client, &ListFolderArg::new("").with_recursive(true))
        .await
        .expect("list");
    loop {
        for e in &page.entries {
            if let Metadata::File(f) = e {
                out.push((
                    f.path_lower.clone().unwrap_or_default().into(),
                    f.content_hash.clone().map(String::from),
                ));
            }
        }
        if !page.has_more {
            break;
        }
        page = files::list_folder_continue(
            client,
            &files::ListFolderContinueArg::new(page.cursor.clone()),
        )
        .await
        .expect("continue");
    }
    out.sort();
    out
}

async fn survives_two_crashes(durable: bool) {
    let dir = tempfile::tempdir().unwrap();
    let emu = start(dir.path(), 0, durable).await;
    let port = emu.addr().port();
    let seen = Arc::new(Seen::default());
    let client = patient_client(emu.base_url(), seen.clone());

    let large = data(48 * MB + 12_345, 1);
    let (reporter, mut progress) = ProgressReporter::channel();
    let options = UploadOptions::default()
        .chunk_size(4 * MIB)
        .session_type(SessionType::Sequential)
        .progress(reporter);
    let big = tokio::spawn({
        let (client, large) = (client.clone(), large.clone());
        async move {
            client
                .upload_bytes(large, CommitInfo::new("/restart/large.bin"), &options)
                .await
        }
    });
    let smalls = tokio::spawn({
        let client = client.clone();
        async move {
            let mut done = Vec::new();
            for i in 0..60u64 {
                let body = data(1000 + i as usize * 311, 100 + i);
                let path = format!("/restart/small/{i:02}.bin");
                let out = client
                    .upload_bytes(
                        body.clone(),
                        CommitInfo::new(path.clone()),
                        &UploadOptions::default(),
                    )
                    .await;
                done.push((path, body, out.map(|o| o.bytes)));
                tokio::time::sleep(Duration::from_millis(15)).await;
            }
            done
        }
    });

    // Crash when a third of the large file is acknowledged, and again at two thirds.
    let mut emu = Some(emu);
    for threshold in [16 * MIB, 32 * MIB] {
        while progress.borrow().bytes_acked < threshold {
            if progress.changed().await.is_err() {
                break;
            }
        }
        if let Some(e) = emu.take() {
            e.crash().await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        emu = Some(start(dir.path(), port, durable).await);
    }

    let out = big.await.unwrap().expect("the large upload completes");
    assert_eq!(out.bytes, large.len() as u64);
    let smalls = smalls.await.unwrap();
    let emu = emu.expect("running");
    let mut expected = vec![(
        "/restart/large.bin".to_string(),
        Some(dropbox_upload::content_hash(&large).to_hex()),
    )];
    for (path, body, r) in &smalls {
        let n = r.as_ref().unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(*n, body.len() as u64);
        expected.push((
            path.clone(),
            Some(dropbox_upload::content_hash(body).to_hex()),
        ));
    }
    expected.sort();
    // Every file once, with its hash, and nothing else (no "name (1).bin").
    assert_eq!(listing(&client).await, expected);
    assert_eq!(download(&client, "/restart/large.bin").await, large);
    assert_eq!(
        download(&client, "/restart/small/59.bin").await,
        smalls[59].1
    );
    // The crashes were met by retries, and the large file's session survived them: it was
    // started once, not started over from the source.
    assert!(seen.retried.load(Ordering::SeqCst) >= 2, "no retry seen");
    assert_eq!(
        seen.starts.load(Ordering::SeqCst),
        1,
        "the session was kept"
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_survive_two_crashes_of_the_server() {
    survives_two_crashes(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_survive_two_crashes_without_fsync() {
    // Without fsync a crash of the server process (not of the machine) keeps everything too.
    survives_two_crashes(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_the_server_lost_at_commit_is_started_over_from_the_source() {
    use dbx_emulator::{FaultAction, FaultRule};
    let dir = tempfile::tempdir().unwrap();
    let emu = start(dir.path(), 0, false).await;
    let port = emu.addr().port();
    // The commit waits, so that the server can go down while it is on the wire.
    emu.faults().add(FaultRule::new(
        "files/upload_session/finish",
        FaultAction::Latency { millis: 3000 },
    ));
    let seen = Arc::new(Seen::default());
    let client = patient_client(emu.base_url(), seen.clone());
    let body = data(20 * MB + 7, 7);
    let (reporter, mut progress) = ProgressReporter::channel();
    let options = UploadOptions::default()
        .chunk_size(4 * MIB)
        .progress(reporter);
    let up = tokio::spawn({
        let (client, body) = (client.clone(), body.clone());
        async move {
            client
                .upload_bytes(body, CommitInfo::new("/lost/big.bin"), &options)
                .await
        }
    });
    while progress.borrow().bytes_acked < body.len() as u64 {
        progress.changed().await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    emu.crash().await;
    // The server comes back without its upload sessions (as after losing its disk).
    for e in std::fs::read_dir(dir.path().join("sessions")).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }
    let emu = start(dir.path(), port, false).await;
    let out = up.await.unwrap().expect("started over and completed");
    assert_eq!(out.bytes, body.len() as u64);
    assert_eq!(download(&client, "/lost/big.bin").await, body);
    assert_eq!(
        seen.starts.load(Ordering::SeqCst),
        2,
        "one restart from the source"
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_entries_whose_session_the_server_lost_are_sent_again() {
    use dbx_emulator::{FaultAction, FaultRule};
    use dropbox_upload::{BatchItem, BatchOptions};
    let dir = tempfile::tempdir().unwrap();
    let emu = start(dir.path(), 0, false).await;
    let port = emu.addr().port();
    // The commit waits, so that the server can go down while it is on the wire.
    emu.faults().add(FaultRule::new(
        "files/upload_session/finish_batch_v2",
        FaultAction::Latency { millis: 3000 },
    ));
    let seen = Arc::new(Seen::default());
    let client = patient_client(emu.base_url(), seen.clone());
    let bodies: Vec<Vec<u8>> = (0..30)
        .map(|i| data(500 + i * 101, 300 + i as u64))
        .collect();
    let items = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| {
            BatchItem::bytes(b.clone(), CommitInfo::new(format!("/lostbatch/{i:02}.bin")))
        })
        .collect();
    let batch = tokio::spawn({
        let client = client.clone();
        async move { client.upload_batch(items, &BatchOptions::default()).await }
    });
    // Wait until the commit is in flight (the sessions are all closed), then lose them.
    let mut waited = 0;
    while emu.stats().calls("files/upload_session/finish_batch_v2") == 0 && waited < 200 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += 1;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    emu.crash().await;
    for e in std::fs::read_dir(dir.path().join("sessions")).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }
    let emu = start(dir.path(), port, false).await;
    let report = batch.await.unwrap().expect("the batch completes");
    assert_eq!(
        report.succeeded(),
        30,
        "{:?}",
        report.results.iter().find(|r| r.is_err())
    );
    for (i, b) in bodies.iter().enumerate() {
        assert_eq!(
            &download(&client, &format!("/lostbatch/{i:02}.bin")).await,
            b
        );
    }
    // Each file was sent again in a session of its own.
    assert_eq!(seen.starts.load(Ordering::SeqCst), 30);
    emu.shutdown().await;
}
