//! Upload routes: files/upload and every upload_session route, with Dropbox's rules.

use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use dbx_emulator::{EmulatorConfig, Limits, ManualClock};
use dropbox_api::r#async::{PollArg, PollError};
use dropbox_api::auth::{RateLimitError, RateLimitReason};
use dropbox_api::files::{
    CommitInfo, FileMetadata, UploadArg, UploadError, UploadSessionAppendArg,
    UploadSessionAppendBatchArg, UploadSessionAppendBatchArgEntry,
    UploadSessionAppendBatchEntryError, UploadSessionAppendBatchError,
    UploadSessionAppendBatchResult, UploadSessionAppendBatchResultEntry, UploadSessionAppendError,
    UploadSessionCursor, UploadSessionFinishArg, UploadSessionFinishBatchArg,
    UploadSessionFinishBatchJobStatus, UploadSessionFinishBatchLaunch,
    UploadSessionFinishBatchResult, UploadSessionFinishBatchResultEntry, UploadSessionFinishError,
    UploadSessionLookupError, UploadSessionOffsetError, UploadSessionStartArg,
    UploadSessionStartBatchArg, UploadSessionStartBatchResult, UploadSessionStartError,
    UploadSessionType, WriteConflictError, WriteError, WriteMode,
};
use reqwest::StatusCode;

#[tokio::test]
async fn files_upload_returns_metadata_with_content_hash() {
    let emu = start().await;
    let api = Api::new(&emu);
    let body = data(5 * MIB + 17, 1);
    let arg = UploadArg::new("/Docs/Report.PDF").with_content_hash(content_hash(&body));
    let meta: FileMetadata = api.upload("files/upload", &arg, body.clone()).await.ok();
    assert_eq!(meta.name, "Report.PDF");
    assert_eq!(meta.path_display.as_deref(), Some("/Docs/Report.PDF"));
    assert_eq!(meta.path_lower.as_deref(), Some("/docs/report.pdf"));
    assert_eq!(meta.size, body.len() as u64);
    assert_eq!(
        meta.content_hash.as_deref(),
        Some(content_hash(&body).as_str())
    );
    assert!(meta.id.starts_with("id:"));
    assert!(meta.rev.len() >= 9 && meta.rev.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(api.get("/docs/report.pdf").await, body);
}

#[tokio::test]
async fn files_upload_hash_mismatch_and_conflict_keeps_data_in_a_session() {
    let emu = start().await;
    let api = Api::new(&emu);
    let arg = UploadArg::new("/a.txt").with_content_hash("0".repeat(64));
    let (e, summary): (UploadError, _) = api
        .upload("files/upload", &arg, b"abc".to_vec())
        .await
        .conflict();
    assert_eq!(e, UploadError::ContentHashMismatch);
    assert_eq!(summary, "content_hash_mismatch/...");

    api.put("/a.txt", b"first").await;
    let r = api
        .upload(
            "files/upload",
            &UploadArg::new("/a.txt"),
            b"second".to_vec(),
        )
        .await;
    let (e, summary): (UploadError, _) = r.conflict();
    assert_eq!(summary, "path/conflict/file/...");
    let UploadError::Path(failed) = e else {
        panic!("expected path error, got {e:?}")
    };
    assert_eq!(
        failed.reason,
        WriteError::Conflict(WriteConflictError::File)
    );
    // The data is in a session: commit it elsewhere with finish.
    let meta: FileMetadata = api
        .finish(&failed.upload_session_id, 6, "/b.txt")
        .await
        .ok();
    assert_eq!(meta.size, 6);
    assert_eq!(api.get("/b.txt").await, b"second");
    assert_eq!(api.get("/a.txt").await, b"first");
}

#[tokio::test]
async fn sequential_session_offsets_close_and_finish() {
    let emu = start().await;
    let api = Api::new(&emu);
    let part1 = data(3 * MIB, 2);
    let part2 = data(2 * MIB + 5, 3);
    let sid = api.start_session(&part1, false).await;

    // Wrong offset: incorrect_offset with the server's offset.
    let r = api.append(&sid, 7, false, part2.clone()).await;
    let (e, summary): (UploadSessionAppendError, _) = r.conflict();
    assert_eq!(
        e,
        UploadSessionAppendError::IncorrectOffset(
            UploadSessionOffsetError::new(part1.len() as u64)
        )
    );
    assert_eq!(summary, "incorrect_offset/...");
    let raw = r.json();
    assert_eq!(raw["error"]["correct_offset"], part1.len() as u64);

    // Right offset, with a per-request content hash, closing the session.
    let arg = UploadSessionAppendArg::new(UploadSessionCursor::new(&sid, part1.len() as u64))
        .with_close(true)
        .with_content_hash(content_hash(&part2));
    let r = api
        .upload("files/upload_session/append_v2", &arg, part2.clone())
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, b"null");

    let total = (part1.len() + part2.len()) as u64;
    let (e, _): (UploadSessionAppendError, _) = api
        .append(&sid, total, false, b"x".to_vec())
        .await
        .conflict();
    assert_eq!(e, UploadSessionAppendError::Closed);

    // finish with the wrong offset, then the right one.
    let (e, summary): (UploadSessionFinishError, _) =
        api.finish(&sid, 1, "/big.bin").await.conflict();
    assert_eq!(
        e,
        UploadSessionFinishError::LookupFailed(UploadSessionLookupError::IncorrectOffset(
            UploadSessionOffsetError::new(total)
        ))
    );
    assert_eq!(summary, "lookup_failed/incorrect_offset/...");
    let meta: FileMetadata = api.finish(&sid, total, "/big.bin").await.ok();
    let mut all = part1.clone();
    all.extend_from_slice(&part2);
    assert_eq!(meta.size, total);
    assert_eq!(
        meta.content_hash.as_deref(),
        Some(content_hash(&all).as_str())
    );
    assert_eq!(api.get("/big.bin").await, all);

    // The session is gone.
    let (e, _): (UploadSessionAppendError, _) =
        api.append(&sid, total, false, vec![]).await.conflict();
    assert_eq!(e, UploadSessionAppendError::NotFound);
    let (e, summary): (UploadSessionFinishError, _) =
        api.finish(&sid, total, "/x").await.conflict();
    assert_eq!(
        e,
        UploadSessionFinishError::LookupFailed(UploadSessionLookupError::NotFound)
    );
    assert_eq!(summary, "lookup_failed/not_found/...");
}

#[tokio::test]
async fn deprecated_append_and_finish_with_data() {
    let emu = start().await;
    let api = Api::new(&emu);
    let sid = api.start_session(b"ab", false).await;
    let r = api
        .upload(
            "files/upload_session/append",
            &UploadSessionCursor::new(&sid, 2),
            b"cd".to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // finish carrying data whose hash does not match: nothing is appended or committed.
    let bad = UploadSessionFinishArg::new(
        UploadSessionCursor::new(&sid, 4),
        CommitInfo::new("/abcdef"),
    )
    .with_content_hash(content_hash(b"xx"));
    let (e, summary): (UploadSessionFinishError, _) = api
        .upload("files/upload_session/finish", &bad, b"ef".to_vec())
        .await
        .conflict();
    assert_eq!(e, UploadSessionFinishError::ContentHashMismatch);
    assert_eq!(summary, "content_hash_mismatch/...");
    // finish carrying the last piece, with its own content hash.
    let arg = UploadSessionFinishArg::new(
        UploadSessionCursor::new(&sid, 4),
        CommitInfo::new("/abcdef"),
    )
    .with_content_hash(content_hash(b"ef"));
    let meta: FileMetadata = api
        .upload("files/upload_session/finish", &arg, b"ef".to_vec())
        .await
        .ok();
    assert_eq!(meta.size, 6);
    assert_eq!(api.get("/abcdef").await, b"abcdef");
}

#[tokio::test]
async fn content_hash_mismatch_rolls_back_the_append() {
    let emu = start().await;
    let api = Api::new(&emu);
    let sid = api.start_session(b"12345", false).await;
    let arg = UploadSessionAppendArg::new(UploadSessionCursor::new(&sid, 5))
        .with_content_hash(content_hash(b"other"));
    let (e, _): (UploadSessionAppendError, _) = api
        .upload("files/upload_session/append_v2", &arg, b"67890".to_vec())
        .await
        .conflict();
    assert_eq!(e, UploadSessionAppendError::ContentHashMismatch);
    // Offset unchanged.
    let (e, _): (UploadSessionAppendError, _) =
        api.append(&sid, 10, false, vec![]).await.conflict();
    assert_eq!(
        e,
        UploadSessionAppendError::IncorrectOffset(UploadSessionOffsetError::new(5))
    );
    let start_arg = UploadSessionStartArg::new().with_content_hash(content_hash(b"nope"));
    let (e, _): (UploadSessionStartError, _) = api
        .upload("files/upload_session/start", &start_arg, b"data".to_vec())
        .await
        .conflict();
    assert_eq!(e, UploadSessionStartError::ContentHashMismatch);
}

#[tokio::test]
async fn payload_limit_150_mib_is_enforced_while_streaming() {
    let emu = start().await;
    let api = Api::new(&emu);
    let limit = 150 * MIB;
    // With Content-Length: refused before the body is read.
    let big = vec![7u8; limit + 1];
    let (e, _): (UploadError, _) = api
        .upload("files/upload", &UploadArg::new("/big"), big)
        .await
        .conflict();
    assert_eq!(e, UploadError::PayloadTooLarge);

    // Without Content-Length (chunked): counted while streaming.
    let sid = api.start_session(b"", false).await;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..151).map(|_| Ok(vec![1u8; MIB])).collect();
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let arg = UploadSessionAppendArg::new(UploadSessionCursor::new(&sid, 0));
    let (e, summary): (UploadSessionAppendError, _) = api
        .upload("files/upload_session/append_v2", &arg, body)
        .await
        .conflict();
    assert_eq!(e, UploadSessionAppendError::PayloadTooLarge);
    assert_eq!(summary, "payload_too_large/...");
    // Exactly 150 MiB is fine and the session kept nothing of the failed call.
    let ok = api.append(&sid, 0, false, vec![2u8; limit]).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert!(emu.stats().bytes_in("files/upload_session/append_v2") >= limit as u64);
}

#[tokio::test]
async fn session_size_limit_too_large() {
    // Real limit, through a concurrent session (offsets may be anywhere).
    let emu = start().await;
    let api = Api::new(&emu);
    let max: u64 = (1 << 41) - (1 << 22);
    let sid = api.start_concurrent().await;
    let (e, _): (UploadSessionAppendError, _) = api
        .append(&sid, max, false, vec![0u8; BLOCK])
        .await
        .conflict();
    assert_eq!(e, UploadSessionAppendError::TooLarge);

    // A small configured limit for a sequential session.
    let emu = start_with(EmulatorConfig {
        durable: false,
        limits: Limits {
            max_session_bytes: 10,
            ..Limits::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let api = Api::new(&emu);
    let sid = api.start_session(b"12345678", false).await;
    let (e, _): (UploadSessionAppendError, _) =
        api.append(&sid, 8, false, b"abc".to_vec()).await.conflict();
    assert_eq!(e, UploadSessionAppendError::TooLarge);
    assert_eq!(
        api.append(&sid, 8, true, b"ab".to_vec()).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn sessions_expire_after_seven_days() {
    let clock = Arc::new(ManualClock::default());
    let emu = start_with(EmulatorConfig {
        durable: false,
        clock: clock.clone(),
        ..EmulatorConfig::default()
    })
    .await;
    let api = Api::new(&emu);
    let sid = api.start_session(b"abc", false).await;
    clock.advance(Duration::from_secs(7 * 24 * 3600 - 60));
    assert_eq!(
        api.append(&sid, 3, false, b"d".to_vec()).await.status,
        StatusCode::OK
    );
    clock.advance(Duration::from_secs(120));
    let (e, _): (UploadSessionAppendError, _) = api.append(&sid, 4, false, vec![]).await.conflict();
    assert_eq!(e, UploadSessionAppendError::NotFound);
    // The handle's clock control works the same way.
    let sid = api.start_session(b"abc", false).await;
    emu.advance_clock(Duration::from_secs(8 * 24 * 3600));
    let (e, _): (UploadSessionFinishError, _) = api.finish(&sid, 3, "/x").await.conflict();
    assert_eq!(
        e,
        UploadSessionFinishError::LookupFailed(UploadSessionLookupError::NotFound)
    );
}

#[tokio::test]
async fn concurrent_session_rules() {
    let emu = start().await;
    let api = Api::new(&emu);
    let concurrent = UploadSessionStartArg::new().with_session_type(UploadSessionType::Concurrent);
    // start may not carry data or close.
    let (e, _): (UploadSessionStartError, _) = api
        .upload("files/upload_session/start", &concurrent, b"x".to_vec())
        .await
        .conflict();
    assert_eq!(e, UploadSessionStartError::ConcurrentSessionDataNotAllowed);
    let (e, summary): (UploadSessionStartError, _) = api
        .upload(
            "files/upload_session/start",
            &concurrent.clone().with_close(true),
            Vec::new(),
        )
        .await
        .conflict();
    assert_eq!(e, UploadSessionStartError::ConcurrentSessionCloseNotAllowed);
    assert_eq!(summary, "concurrent_session_close_not_allowed/...");

    let sid = api.start_concurrent().await;
    let blocks: Vec<Vec<u8>> = (0..3).map(|i| data(BLOCK, 10 + i)).collect();
    let tail = data(12345, 99);
    // Offset not a multiple of 4 MiB.
    let (e, _): (UploadSessionAppendError, _) = api
        .append(&sid, 5, false, blocks[0].clone())
        .await
        .conflict();
    assert_eq!(e, UploadSessionAppendError::ConcurrentSessionInvalidOffset);
    // Length not a multiple of 4 MiB (not closing).
    let (e, _): (UploadSessionAppendError, _) =
        api.append(&sid, 0, false, vec![1; 100]).await.conflict();
    assert_eq!(
        e,
        UploadSessionAppendError::ConcurrentSessionInvalidDataSize
    );
    // finish before close.
    let (e, summary): (UploadSessionFinishError, _) = api.finish(&sid, 0, "/c").await.conflict();
    assert_eq!(e, UploadSessionFinishError::ConcurrentSessionNotClosed);
    assert_eq!(summary, "concurrent_session_not_closed/...");

    // Out of order: block 2, the closing tail, then block 0; block 1 missing.
    let b = BLOCK as u64;
    assert_eq!(
        api.append(&sid, 2 * b, false, blocks[2].clone())
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        api.append(&sid, 3 * b, true, tail.clone()).await.status,
        StatusCode::OK
    );
    let api2 = api.clone();
    let sid2 = sid.clone();
    let b0 = blocks[0].clone();
    let h = tokio::spawn(async move { api2.append(&sid2, 0, false, b0).await.status });
    assert_eq!(h.await.unwrap(), StatusCode::OK);
    let total = 3 * b + tail.len() as u64;
    let (e, _): (UploadSessionFinishError, _) = api.finish(&sid, total, "/c").await.conflict();
    assert_eq!(e, UploadSessionFinishError::ConcurrentSessionMissingData);
    // Closed: no second close and nothing past the end, but missing blocks may still
    // arrive (the closing append may overtake parallel ones).
    let (e, _): (UploadSessionAppendError, _) = api
        .append(&sid, 4 * b, false, blocks[1].clone())
        .await
        .conflict();
    assert_eq!(e, UploadSessionAppendError::Closed);
    let (e, _): (UploadSessionAppendError, _) =
        api.append(&sid, 3 * b, true, tail.clone()).await.conflict();
    assert_eq!(e, UploadSessionAppendError::Closed);
    assert_eq!(
        api.append(&sid, b, false, blocks[1].clone()).await.status,
        StatusCode::OK
    );
    // finish may not carry data.
    let arg =
        UploadSessionFinishArg::new(UploadSessionCursor::new(&sid, total), CommitInfo::new("/c"));
    let (e, _): (UploadSessionFinishError, _) = api
        .upload("files/upload_session/finish", &arg, b"zz".to_vec())
        .await
        .conflict();
    assert_eq!(e, UploadSessionFinishError::ConcurrentSessionDataNotAllowed);
    let meta: FileMetadata = api.finish(&sid, total, "/c").await.ok();
    let mut all = Vec::new();
    for blk in &blocks {
        all.extend_from_slice(blk);
    }
    all.extend_from_slice(&tail);
    assert_eq!(meta.size, total);
    assert_eq!(
        meta.content_hash.as_deref(),
        Some(content_hash(&all).as_str())
    );
    assert_eq!(api.get("/c").await, all);
}

#[tokio::test]
async fn concurrent_appends_in_parallel_and_empty_close() {
    let emu = start().await;
    let api = Api::new(&emu);
    let sid = api.start_concurrent().await;
    let n = 6usize;
    let mut tasks = Vec::new();
    for i in (0..n).rev() {
        let api = api.clone();
        let sid = sid.clone();
        tasks.push(tokio::spawn(async move {
            api.append(&sid, (i * BLOCK) as u64, false, data(BLOCK, i as u64))
                .await
                .status
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    // Closing append with zero bytes.
    assert_eq!(
        api.append(&sid, (n * BLOCK) as u64, true, vec![])
            .await
            .status,
        StatusCode::OK
    );
    let meta: FileMetadata = api.finish(&sid, (n * BLOCK) as u64, "/par").await.ok();
    let all: Vec<u8> = (0..n).flat_map(|i| data(BLOCK, i as u64)).collect();
    assert_eq!(
        meta.content_hash.as_deref(),
        Some(content_hash(&all).as_str())
    );
    assert!(emu.stats().max_in_flight("files/upload_session/append_v2") >= 1);
}

#[tokio::test]
async fn start_batch_and_append_batch() {
    let emu = start().await;
    let api = Api::new(&emu);
    let r: UploadSessionStartBatchResult = api
        .rpc(
            "files/upload_session/start_batch",
            &UploadSessionStartBatchArg::new(3),
        )
        .await
        .ok();
    assert_eq!(r.session_ids.len(), 3);
    let ids = r.session_ids;
    let entries = vec![
        UploadSessionAppendBatchArgEntry::new(UploadSessionCursor::new(&ids[0], 0), 3)
            .with_close(true),
        UploadSessionAppendBatchArgEntry::new(UploadSessionCursor::new(&ids[1], 5), 2),
        UploadSessionAppendBatchArgEntry::new(UploadSessionCursor::new("nope", 0), 1),
        UploadSessionAppendBatchArgEntry::new(UploadSessionCursor::new(&ids[2], 0), 4),
    ];
    let body = b"aaabbcdddd".to_vec();
    let arg =
        UploadSessionAppendBatchArg::new(entries.clone()).with_content_hash(content_hash(&body));
    let r: UploadSessionAppendBatchResult = api
        .upload("files/upload_session/append_batch", &arg, body.clone())
        .await
        .ok();
    assert_eq!(
        r.entries,
        vec![
            UploadSessionAppendBatchResultEntry::Success,
            UploadSessionAppendBatchResultEntry::Failure(
                UploadSessionAppendBatchEntryError::IncorrectOffset(UploadSessionOffsetError::new(
                    0
                ))
            ),
            UploadSessionAppendBatchResultEntry::Failure(
                UploadSessionAppendBatchEntryError::NotFound
            ),
            UploadSessionAppendBatchResultEntry::Success,
        ]
    );
    // Lengths must add up to the body.
    let (e, summary): (UploadSessionAppendBatchError, _) = api
        .upload(
            "files/upload_session/append_batch",
            &UploadSessionAppendBatchArg::new(entries.clone()),
            b"short".to_vec(),
        )
        .await
        .conflict();
    assert_eq!(e, UploadSessionAppendBatchError::LengthMismatch);
    assert_eq!(summary, "length_mismatch/...");
    let (e, _): (UploadSessionAppendBatchError, _) = api
        .upload(
            "files/upload_session/append_batch",
            &UploadSessionAppendBatchArg::new(entries).with_content_hash("a".repeat(64)),
            body,
        )
        .await
        .conflict();
    assert_eq!(e, UploadSessionAppendBatchError::ContentHashMismatch);
    // Closed session 0 rejects more data.
    let r: UploadSessionAppendBatchResult = api
        .upload(
            "files/upload_session/append_batch",
            &UploadSessionAppendBatchArg::new(vec![UploadSessionAppendBatchArgEntry::new(
                UploadSessionCursor::new(&ids[0], 3),
                1,
            )]),
            b"z".to_vec(),
        )
        .await
        .ok();
    assert_eq!(
        r.entries,
        vec![UploadSessionAppendBatchResultEntry::Failure(
            UploadSessionAppendBatchEntryError::Closed
        )]
    );
    let meta: FileMetadata = api.finish(&ids[0], 3, "/s0").await.ok();
    assert_eq!(meta.size, 3);
    assert_eq!(api.get("/s0").await, b"aaa");
}

#[tokio::test]
async fn batch_limits_of_1000_are_argument_errors() {
    let emu = start().await;
    let api = Api::new(&emu);
    let r = api
        .rpc(
            "files/upload_session/start_batch",
            &UploadSessionStartBatchArg::new(1001),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("num_sessions"), "{}", r.text());
    let r = api
        .rpc(
            "files/upload_session/start_batch",
            &UploadSessionStartBatchArg::new(0),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r: UploadSessionStartBatchResult = api
        .rpc(
            "files/upload_session/start_batch",
            &UploadSessionStartBatchArg::new(1000),
        )
        .await
        .ok();
    assert_eq!(r.session_ids.len(), 1000);

    let entries: Vec<_> = (0..1001)
        .map(|i| {
            UploadSessionFinishArg::new(
                UploadSessionCursor::new(format!("s{i}"), 0),
                CommitInfo::new(format!("/f{i}")),
            )
        })
        .collect();
    for route in [
        "files/upload_session/finish_batch",
        "files/upload_session/finish_batch_v2",
    ] {
        let r = api
            .rpc(route, &UploadSessionFinishBatchArg::new(entries.clone()))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{route}");
        assert!(r.text().contains("entries"), "{}", r.text());
    }
    let append_entries: Vec<_> = (0..1001)
        .map(|i| {
            UploadSessionAppendBatchArgEntry::new(UploadSessionCursor::new(format!("s{i}"), 0), 0)
        })
        .collect();
    let r = api
        .upload(
            "files/upload_session/append_batch",
            &UploadSessionAppendBatchArg::new(append_entries),
            Vec::new(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

async fn closed_sessions(api: &Api, n: usize) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for i in 0..n {
        let d = data(1000 + i, 50 + i as u64);
        out.push((api.start_session(&d, true).await, d));
    }
    out
}

fn batch_arg(sessions: &[(String, Vec<u8>)], prefix: &str) -> UploadSessionFinishBatchArg {
    UploadSessionFinishBatchArg::new(
        sessions
            .iter()
            .enumerate()
            .map(|(i, (sid, d))| {
                UploadSessionFinishArg::new(
                    UploadSessionCursor::new(sid, d.len() as u64),
                    CommitInfo::new(format!("{prefix}/file{i}.bin")),
                )
            })
            .collect(),
    )
}

#[tokio::test]
async fn finish_batch_v2_is_synchronous_with_one_entry_per_input() {
    let emu = start().await;
    let api = Api::new(&emu);
    let mut sessions = closed_sessions(&api, 3).await;
    let open = api.start_session(b"open", false).await;
    sessions.push((open, b"open".to_vec()));
    let mut arg = batch_arg(&sessions, "/v2");
    arg.entries.push(UploadSessionFinishArg::new(
        UploadSessionCursor::new("missing", 0),
        CommitInfo::new("/v2/missing"),
    ));
    let r: UploadSessionFinishBatchResult = api
        .rpc("files/upload_session/finish_batch_v2", &arg)
        .await
        .ok();
    assert_eq!(r.entries.len(), 5);
    for (i, e) in r.entries.iter().take(3).enumerate() {
        let UploadSessionFinishBatchResultEntry::Success(m) = e else {
            panic!("entry {i}: {e:?}")
        };
        assert_eq!(m.size, sessions[i].1.len() as u64);
        assert_eq!(
            m.content_hash.as_deref(),
            Some(content_hash(&sessions[i].1).as_str())
        );
    }
    assert_eq!(
        r.entries[3],
        UploadSessionFinishBatchResultEntry::Failure(UploadSessionFinishError::LookupFailed(
            UploadSessionLookupError::NotClosed
        ))
    );
    assert_eq!(
        r.entries[4],
        UploadSessionFinishBatchResultEntry::Failure(UploadSessionFinishError::LookupFailed(
            UploadSessionLookupError::NotFound
        ))
    );
    assert_eq!(api.get("/v2/file1.bin").await, sessions[1].1);
    assert_eq!(emu.stats().calls("files/upload_session/finish_batch_v2"), 1);
}

#[tokio::test]
async fn finish_batch_v1_job_reports_in_progress_then_complete() {
    let emu = start_with(EmulatorConfig {
        durable: false,
        commit_latency: Duration::from_millis(400),
        ..EmulatorConfig::default()
    })
    .await;
    let api = Api::new(&emu);
    let sessions = closed_sessions(&api, 2).await;
    let launch: UploadSessionFinishBatchLaunch = api
        .rpc(
            "files/upload_session/finish_batch",
            &batch_arg(&sessions, "/v1"),
        )
        .await
        .ok();
    let UploadSessionFinishBatchLaunch::AsyncJobId(job) = launch else {
        panic!("expected a job id, got {launch:?}")
    };
    let status: UploadSessionFinishBatchJobStatus = api
        .rpc(
            "files/upload_session/finish_batch/check",
            &PollArg::new(&job),
        )
        .await
        .ok();
    assert_eq!(status, UploadSessionFinishBatchJobStatus::InProgress);

    // While it runs: another v1 job is refused with 429, a v2 call gets per-entry errors.
    let more = closed_sessions(&api, 1).await;
    let r = api
        .rpc(
            "files/upload_session/finish_batch",
            &batch_arg(&more, "/v1b"),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers["retry-after"], "1");
    let rl: RateLimitError = serde_json::from_value(r.json()["error"].clone()).unwrap();
    assert_eq!(rl.reason, RateLimitReason::TooManyWriteOperations);
    assert_eq!(r.json()["error_summary"], "too_many_write_operations/...");
    let v2: UploadSessionFinishBatchResult = api
        .rpc(
            "files/upload_session/finish_batch_v2",
            &batch_arg(&more, "/v1b"),
        )
        .await
        .ok();
    assert_eq!(
        v2.entries,
        vec![UploadSessionFinishBatchResultEntry::Failure(
            UploadSessionFinishError::TooManyWriteOperations
        )]
    );

    let mut done = None;
    for _ in 0..200 {
        let s: UploadSessionFinishBatchJobStatus = api
            .rpc(
                "files/upload_session/finish_batch/check",
                &PollArg::new(&job),
            )
            .await
            .ok();
        if let UploadSessionFinishBatchJobStatus::Complete(r) = s {
            done = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let done = done.expect("job completes");
    assert_eq!(done.entries.len(), 2);
    assert!(
        done.entries
            .iter()
            .all(|e| matches!(e, UploadSessionFinishBatchResultEntry::Success(_)))
    );
    // The sessions refused above are intact and can be committed now.
    let v2: UploadSessionFinishBatchResult = api
        .rpc(
            "files/upload_session/finish_batch_v2",
            &batch_arg(&more, "/v1b"),
        )
        .await
        .ok();
    assert!(matches!(
        v2.entries[0],
        UploadSessionFinishBatchResultEntry::Success(_)
    ));

    let (e, summary): (PollError, _) = api
        .rpc(
            "files/upload_session/finish_batch/check",
            &PollArg::new("dbjid:nope"),
        )
        .await
        .conflict();
    assert_eq!(e, PollError::InvalidAsyncJobId);
    assert_eq!(summary, "invalid_async_job_id/...");
}

#[tokio::test]
async fn concurrent_finishes_into_one_folder_can_contend() {
    let emu = start_with(EmulatorConfig {
        durable: false,
        commit_latency: Duration::from_millis(300),
        contend_finish_in_folder: true,
        ..EmulatorConfig::default()
    })
    .await;
    let api = Api::new(&emu);
    let a = api.start_session(b"a", true).await;
    let b = api.start_session(b"b", true).await;
    let c = api.start_session(b"c", true).await;
    let (r1, r2, r3) = tokio::join!(
        api.finish(&a, 1, "/same/a"),
        async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            api.finish(&b, 1, "/same/b").await
        },
        async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            api.finish(&c, 1, "/other/c").await
        }
    );
    assert_eq!(r1.status, StatusCode::OK);
    let (e, summary): (UploadSessionFinishError, _) = r2.conflict();
    assert_eq!(e, UploadSessionFinishError::TooManyWriteOperations);
    assert_eq!(summary, "too_many_write_operations/...");
    assert_eq!(r3.status, StatusCode::OK);
    // The refused session is intact.
    assert_eq!(api.finish(&b, 1, "/same/b").await.status, StatusCode::OK);
}

#[tokio::test]
async fn write_modes_through_finish() {
    let emu = start().await;
    let api = Api::new(&emu);
    let first = api.put("/m.txt", b"one").await;
    let sid = api.start_session(b"two", true).await;
    let commit = CommitInfo::new("/m.txt").with_mode(WriteMode::Update("0123456789ab".into()));
    let arg = UploadSessionFinishArg::new(UploadSessionCursor::new(&sid, 3), commit);
    let (e, summary): (UploadSessionFinishError, _) = api
        .upload("files/upload_session/finish", &arg, vec![])
        .await
        .conflict();
    assert_eq!(
        e,
        UploadSessionFinishError::Path(WriteError::Conflict(WriteConflictError::File))
    );
    assert_eq!(summary, "path/conflict/file/...");
    let commit = CommitInfo::new("/m.txt").with_mode(WriteMode::Update(first.rev.clone()));
    let arg = UploadSessionFinishArg::new(UploadSessionCursor::new(&sid, 3), commit);
    let meta: FileMetadata = api
        .upload("files/upload_session/finish", &arg, vec![])
        .await
        .ok();
    assert_eq!(meta.id, first.id);
    assert_ne!(meta.rev, first.rev);
    assert_eq!(api.get("/m.txt").await, b"two");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_vanishes_mid_append_leaves_the_session_consistent() {
    use tokio::io::AsyncWriteExt;
    let emu = start().await;
    let api = Api::new(&emu);
    let head = data(1000, 4);
    let sid = api.start_session(&head, false).await;
    // Promise 8 MiB, send 1 MiB of junk, then drop the connection.
    let arg = UploadSessionAppendArg::new(UploadSessionCursor::new(&sid, head.len() as u64));
    let request = format!(
        "POST /2/files/upload_session/append_v2 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/octet-stream\r\nDropbox-API-Arg: {}\r\nContent-Length: {}\r\n\r\n",
        emu.access_token(),
        header_json(&arg),
        8 * MIB
    );
    let mut s = tokio::net::TcpStream::connect(emu.addr()).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    s.write_all(&vec![0xEE; MIB]).await.unwrap();
    drop(s);
    // The next append waits for the cut one to roll back, then lands at the old offset.
    let tail = data(3 * MIB, 5);
    let r = api
        .append(&sid, head.len() as u64, true, tail.clone())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let total = (head.len() + tail.len()) as u64;
    let meta: FileMetadata = api.finish(&sid, total, "/vanish.bin").await.ok();
    let mut all = head.clone();
    all.extend_from_slice(&tail);
    assert_eq!(meta.size, total);
    assert_eq!(
        meta.content_hash.as_deref(),
        Some(content_hash(&all).as_str())
    );
    assert_eq!(api.get("/vanish.bin").await, all);
}

/// Found by the `emulator_request` fuzz target: every session used to keep its spool file
/// open, so enough idle sessions exhausted the process's file descriptors and the server
/// stopped answering. Sessions now open their file per request.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn idle_sessions_hold_no_file_descriptors() {
    let emu = start().await;
    let api = Api::new(&emu);
    let open_fds = || {
        std::fs::read_dir("/proc/self/fd")
            .map(|d| d.count())
            .unwrap_or(0)
    };
    let before = open_fds();
    for _ in 0..300 {
        let r = api
            .upload(
                "files/upload_session/start",
                &dropbox_api::files::UploadSessionStartArg::new(),
                "x",
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let after = open_fds();
    assert!(
        after < before + 50,
        "300 idle sessions opened {} descriptors",
        after - before
    );
}
