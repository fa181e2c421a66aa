//! Batch uploads: sessions from start_batch, commits through finish_batch:2 in groups of
//! 1,000, serialised per account, results mapped back to their items.

use std::time::Duration;

use crate::common::*;
use dbx_emulator::{EmulatorConfig, FaultAction, FaultRule};
use dropbox_api::files::{CommitInfo, WriteMode};
use dropbox_upload::prelude::*;
use dropbox_upload::{CommitStyle, UploadError, UploadSource};

const FINISH_V2: &str = "files/upload_session/finish_batch_v2";

fn small_items(prefix: &str, n: usize) -> Vec<BatchItem> {
    (0..n)
        .map(|i| {
            BatchItem::bytes(
                format!("{prefix} file {i}\n").repeat(i % 7 + 1),
                CommitInfo::new(format!("/{prefix}/{i:05}.txt")),
            )
        })
        .collect()
}

fn options() -> BatchOptions {
    BatchOptions {
        upload: UploadOptions::default().concurrency(16).retry(fast_retry()),
        ..BatchOptions::default()
    }
}

#[tokio::test]
async fn batch_of_2500_commits_in_exactly_three_serial_calls() {
    let emu = emulator_with(EmulatorConfig {
        commit_latency: Duration::from_millis(50),
        ..EmulatorConfig::default()
    })
    .await;
    let client = client(&emu);
    let items = small_items("many", 2500);
    let expected: Vec<(String, String)> = items
        .iter()
        .map(|it| match &it.source {
            UploadSource::Bytes(b) => (
                it.commit.path.to_string(),
                dropbox_upload::content_hash(b).to_string(),
            ),
            other => unreachable!("{other:?}"),
        })
        .collect();
    let report = client.upload_batch(items, &options()).await.unwrap();
    assert_eq!(report.results.len(), 2500);
    assert_eq!(report.succeeded(), 2500);
    assert_eq!(report.commit_calls, 3);
    for (r, (path, hash)) in report.results.iter().zip(&expected) {
        let meta = r.as_ref().unwrap();
        assert_eq!(meta.path_display.as_deref(), Some(path.as_str()));
        assert_eq!(meta.content_hash.as_deref(), Some(hash.as_str()));
    }
    let stats = emu.stats();
    assert_eq!(stats.calls(FINISH_V2), 3);
    assert_eq!(stats.max_in_flight(FINISH_V2), 1);
    assert_eq!(stats.calls("files/upload_session/start_batch"), 3);
    // Small files share append_batch calls (at most 1,000 pieces each): no single appends.
    assert_eq!(stats.calls("files/upload_session/append_batch"), 3);
    assert_eq!(stats.calls("files/upload_session/append_v2"), 0);
    assert_eq!(stats.calls("files/upload_session/finish"), 0);
    assert_eq!(
        download(&client, "/many/01234.txt").await,
        "many file 1234\n".repeat(1234 % 7 + 1).as_bytes()
    );
}

#[tokio::test]
async fn batches_of_one_account_share_the_commit_queue() {
    let emu = emulator_with(EmulatorConfig {
        commit_latency: Duration::from_millis(100),
        ..EmulatorConfig::default()
    })
    .await;
    // Two clients built apart from the same credentials, and a clone: one account, one queue.
    let client = client(&emu);
    let another = crate::common::client(&emu);
    let clone = client.clone();
    let opts = BatchOptions {
        commit_group: 50,
        ..options()
    };
    let (a, b, c) = tokio::join!(
        client.upload_batch(small_items("a", 200), &opts),
        another.upload_batch(small_items("b", 200), &opts),
        clone.upload_batch(small_items("c", 200), &opts),
    );
    for r in [a, b, c] {
        let r = r.unwrap();
        assert_eq!(r.succeeded(), 200);
        assert_eq!(r.commit_calls, 4);
    }
    assert_eq!(emu.stats().calls(FINISH_V2), 12);
    assert_eq!(
        emu.stats().max_in_flight(FINISH_V2),
        1,
        "commits overlapped"
    );
}

#[tokio::test]
async fn overlapping_commits_from_another_process_are_retried() {
    // Two clients with separate commit locks (as two processes would have) commit at once:
    // the emulator answers the later call with too_many_write_operations per entry, and
    // those entries are committed again in a later round.
    let emu = emulator_with(EmulatorConfig {
        commit_latency: Duration::from_millis(150),
        ..EmulatorConfig::default()
    })
    .await;
    let (c1, c2) = (client(&emu), client(&emu));
    // Back off long enough for the other commit (150 ms) to finish.
    let mut policy = fast_retry();
    policy.base_delay = Duration::from_millis(100);
    policy.max_delay = Duration::from_secs(1);
    let opts = BatchOptions {
        upload: UploadOptions::default().concurrency(16).retry(policy),
        ..BatchOptions::default()
    };
    let other_process = BatchOptions {
        commit_lock: Some(std::sync::Arc::new(dropbox_upload::CommitQueue::default())),
        ..opts.clone()
    };
    let (a, b) = tokio::join!(
        c1.upload_batch(small_items("p1", 300), &opts),
        c2.upload_batch(small_items("p2", 300), &other_process),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    for r in a.results.iter().chain(&b.results) {
        if let Err(e) = r {
            panic!("{e}");
        }
    }
    assert_eq!(a.succeeded() + b.succeeded(), 600);
    assert!(
        a.commit_calls + b.commit_calls > 2,
        "expected a retried commit, got {} + {}",
        a.commit_calls,
        b.commit_calls
    );
    assert!(emu.stats().max_in_flight(FINISH_V2) >= 2);
}

#[tokio::test]
async fn a_conflict_fails_its_own_item_only() {
    let emu = emulator().await;
    let client = client(&emu);
    client
        .upload_bytes(
            "already here",
            CommitInfo::new("/c/00003.txt"),
            &UploadOptions::default(),
        )
        .await
        .unwrap();
    let mut items = small_items("c", 10);
    // Item 7 overwrites deliberately, item 3 would clobber the existing file.
    items[7].commit = items[7].commit.clone().with_mode(WriteMode::Overwrite);
    let report = client.upload_batch(items, &options()).await.unwrap();
    assert_eq!(report.succeeded(), 9);
    assert_eq!(report.commit_calls, 1);
    for (i, r) in report.results.iter().enumerate() {
        if i == 3 {
            let err = r.as_ref().unwrap_err();
            assert!(matches!(err, UploadError::BatchEntry { .. }), "{err:?}");
            let text = err.to_string();
            assert!(
                text.ends_with("/c/00003.txt in a batch failed: path/conflict/file"),
                "{text}"
            );
        } else {
            assert!(r.is_ok(), "item {i}: {r:?}");
        }
    }
    assert_eq!(download(&client, "/c/00003.txt").await, b"already here");
}

#[tokio::test]
async fn missing_local_file_fails_its_item_only() {
    let emu = emulator().await;
    let client = client(&emu);
    let dir = tempfile::tempdir().unwrap();
    let present = dir.path().join("here.txt");
    std::fs::write(&present, b"present").unwrap();
    let items = vec![
        BatchItem::file(&present, CommitInfo::new("/m/here.txt")),
        BatchItem::file(
            dir.path().join("missing.txt"),
            CommitInfo::new("/m/missing.txt"),
        ),
    ];
    let report = client.upload_batch(items, &options()).await.unwrap();
    assert!(report.results[0].is_ok());
    assert!(
        matches!(report.results[1], Err(UploadError::Io { .. })),
        "{:?}",
        report.results[1]
    );
    assert_eq!(download(&client, "/m/here.txt").await, b"present");
}

#[tokio::test]
async fn large_items_use_several_appends() {
    let emu = emulator().await;
    let client = client(&emu);
    let big = data(9 * MB + 1, 4);
    let items = vec![
        BatchItem::bytes(big.clone(), CommitInfo::new("/l/big.bin")),
        BatchItem::bytes("small", CommitInfo::new("/l/small.txt")),
    ];
    let opts = BatchOptions {
        upload: UploadOptions::default()
            .chunk_size(4 * MIB)
            .retry(fast_retry()),
        ..BatchOptions::default()
    };
    let report = client.upload_batch(items, &opts).await.unwrap();
    assert_eq!(report.succeeded(), 2);
    assert_eq!(download(&client, "/l/big.bin").await, big);
    assert!(emu.stats().calls("files/upload_session/append_v2") >= 3);
}

#[tokio::test]
async fn seekable_readers_are_batch_items_and_streams_are_refused_alone() {
    let emu = emulator().await;
    let client = client(&emu);
    let big = data(9 * MB + 3, 8);
    let small = data(300_000, 9);
    let seekable = |bytes: &Vec<u8>| UploadSource::Seekable {
        reader: Box::new(std::io::Cursor::new(bytes.clone())),
        len: bytes.len() as u64,
    };
    let items = vec![
        BatchItem {
            source: seekable(&big),
            commit: CommitInfo::new("/src/big.bin"),
        },
        BatchItem {
            source: UploadSource::Stream {
                reader: Box::new(std::io::Cursor::new(small.clone())),
                len: None,
            },
            commit: CommitInfo::new("/src/streamed.bin"),
        },
        BatchItem {
            source: seekable(&small),
            commit: CommitInfo::new("/src/small.bin"),
        },
    ];
    let opts = BatchOptions {
        upload: UploadOptions::default()
            .chunk_size(4 * MIB)
            .retry(fast_retry()),
        ..BatchOptions::default()
    };
    let report = client.upload_batch(items, &opts).await.unwrap();
    assert_eq!(report.succeeded(), 2, "{:?}", report.results);
    assert!(
        matches!(&report.results[1], Err(UploadError::InvalidOptions(m)) if m.contains("stream")),
        "{:?}",
        report.results[1]
    );
    for (i, path, bytes) in [(0, "/src/big.bin", &big), (2, "/src/small.bin", &small)] {
        assert_eq!(&download(&client, path).await, bytes, "{path}");
        let meta = report.results[i].as_ref().unwrap();
        assert_eq!(
            meta.content_hash.as_deref(),
            Some(dropbox_upload::content_hash(bytes).to_hex().as_str())
        );
    }
    let listed = dropbox_api::files::get_metadata(
        &client,
        &dropbox_api::files::GetMetadataArg::new("/src/streamed.bin"),
    )
    .await;
    assert!(
        listed.is_err(),
        "the refused item was not stored: {listed:?}"
    );
}

#[tokio::test]
async fn transient_commit_failures_are_retried() {
    let emu = emulator().await;
    let client = client(&emu);
    emu.faults()
        .add(FaultRule::new(FINISH_V2, FaultAction::ServiceUnavailable).times(1));
    // The answer of a commit that did happen is lost: the retry must not duplicate files.
    emu.faults()
        .add(FaultRule::new(FINISH_V2, FaultAction::ResetBeforeResponse).times(1));
    let report = client
        .upload_batch(small_items("t", 20), &options())
        .await
        .unwrap();
    assert_eq!(
        report.succeeded(),
        20,
        "{:?}",
        report.results.iter().find(|r| r.is_err())
    );
    let listed =
        dropbox_api::files::list_folder(&client, &dropbox_api::files::ListFolderArg::new("/t"))
            .await
            .unwrap();
    assert_eq!(listed.entries.len(), 20, "no duplicates, nothing missing");
}

#[tokio::test]
async fn legacy_async_commit_polls_the_job() {
    let emu = emulator_with(EmulatorConfig {
        commit_latency: Duration::from_millis(300),
        ..EmulatorConfig::default()
    })
    .await;
    let client = client(&emu);
    let opts = BatchOptions {
        commit_style: CommitStyle::AsyncJob,
        ..options()
    };
    let report = client
        .upload_batch(small_items("j", 30), &opts)
        .await
        .unwrap();
    assert_eq!(report.succeeded(), 30);
    assert_eq!(emu.stats().calls("files/upload_session/finish_batch"), 1);
    assert!(
        emu.stats().calls("files/upload_session/finish_batch/check") >= 2,
        "polled while in progress"
    );
    assert_eq!(emu.stats().calls(FINISH_V2), 0);
}

#[tokio::test]
async fn packed_appends_survive_lost_answers_and_server_errors() {
    let emu = emulator().await;
    let client = client(&emu);
    const APPEND_BATCH: &str = "files/upload_session/append_batch";
    // The first call is stored but its answer lost (the retry finds the sessions closed);
    // the second meets a 503 and is retried.
    emu.faults()
        .add(FaultRule::new(APPEND_BATCH, FaultAction::ResetBeforeResponse).times(1));
    emu.faults()
        .add(FaultRule::new(APPEND_BATCH, FaultAction::ServiceUnavailable).times(1));
    let mut items = small_items("pk", 300);
    items.push(BatchItem::bytes(
        Vec::new(),
        CommitInfo::new("/pk/empty.txt"),
    ));
    let expected: Vec<Vec<u8>> = items
        .iter()
        .map(|it| match &it.source {
            UploadSource::Bytes(b) => b.to_vec(),
            other => unreachable!("{other:?}"),
        })
        .collect();
    let opts = BatchOptions {
        upload: UploadOptions::default()
            .chunk_size(4 * MIB)
            .concurrency(1)
            .retry(fast_retry()),
        commit_group: 100,
        ..BatchOptions::default()
    };
    let report = client.upload_batch(items, &opts).await.unwrap();
    assert_eq!(
        report.succeeded(),
        301,
        "{:?}",
        report.results.iter().find(|r| r.is_err())
    );
    assert_eq!(emu.faults().injected(), 2);
    assert_eq!(
        emu.stats().calls("files/upload_session/append_v2"),
        0,
        "no piece fell back"
    );
    assert_eq!(download(&client, "/pk/00299.txt").await, expected[299]);
    assert_eq!(download(&client, "/pk/empty.txt").await, Vec::<u8>::new());
    assert_eq!(report.commit_calls, 4);
}
