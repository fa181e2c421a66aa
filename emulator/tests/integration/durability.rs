//! Nothing in flight is lost to a restart: upload sessions (v2 sequential and concurrent,
//! v1 chunked), finish_batch jobs and unused temporary upload links survive a crash.

use std::path::Path;
use std::time::Duration;

use crate::common::*;
use dbx_emulator::{EmulatorConfig, EmulatorHandle, FaultAction, FaultRule};
use dropbox_api::r#async::PollArg;
use dropbox_api::files::{
    CommitInfo, FileMetadata, GetTemporaryUploadLinkArg, GetTemporaryUploadLinkResult,
    UploadSessionAppendArg, UploadSessionAppendError, UploadSessionCursor, UploadSessionFinishArg,
    UploadSessionFinishBatchArg, UploadSessionFinishBatchJobStatus, UploadSessionFinishBatchLaunch,
    UploadSessionFinishBatchResultEntry, UploadSessionLookupError, UploadSessionOffsetError,
};
use reqwest::StatusCode;

fn config(dir: &Path, port: u16, durable: bool) -> EmulatorConfig {
    EmulatorConfig {
        data_dir: Some(dir.to_path_buf()),
        durable,
        ..EmulatorConfig::default()
    }
    .with_port(port)
}

async fn poll_job(api: &Api, job: &str) -> UploadSessionFinishBatchJobStatus {
    for _ in 0..200 {
        let s: UploadSessionFinishBatchJobStatus = api
            .rpc(
                "files/upload_session/finish_batch/check",
                &PollArg::new(job),
            )
            .await
            .ok();
        if !matches!(s, UploadSessionFinishBatchJobStatus::InProgress) {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("job still running");
}

fn v1_put(api: &Api, q: &str, body: Vec<u8>) -> reqwest::RequestBuilder {
    api.http
        .put(api.url(&format!("/1/chunked_upload{q}")))
        .bearer_auth(&api.token)
        .body(body)
}

async fn everything_in_flight_survives(durable: bool) {
    let dir = tempfile::tempdir().unwrap();
    let emu = start_with(config(dir.path(), 0, durable)).await;
    let port = emu.addr().port();
    let token = emu.access_token().to_string();
    let api = Api::new(&emu);
    let a = data(BLOCK + 1000, 1);
    let b = data(2 * BLOCK + 77, 2);
    let c = data(3000, 3);

    // Sequential: start + two appends (crossing a block boundary).
    let seq = api.start_session(&a[..100], false).await;
    let r = api
        .append(&seq, 100, false, a[100..BLOCK + 10].to_vec())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = api
        .append(
            &seq,
            (BLOCK + 10) as u64,
            false,
            a[BLOCK + 10..BLOCK + 500].to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // Concurrent: blocks 2 (closing) and 0; block 1 comes after the restart.
    let conc = api.start_concurrent().await;
    let r = api
        .append(&conc, (2 * BLOCK) as u64, true, b[2 * BLOCK..].to_vec())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = api.append(&conc, 0, false, b[..BLOCK].to_vec()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // v1 chunked upload with one chunk.
    let r = api.send(v1_put(&api, "", c[..1000].to_vec())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v1 = r.json()["upload_id"].as_str().unwrap().to_string();

    // A finish_batch job, complete before the crash.
    let s1 = api.start_session(b"batch one", true).await;
    let s2 = api.start_session(b"batch two", false).await;
    let launch: UploadSessionFinishBatchLaunch = api
        .rpc(
            "files/upload_session/finish_batch",
            &UploadSessionFinishBatchArg::new(vec![
                UploadSessionFinishArg::new(
                    UploadSessionCursor::new(&s1, 9),
                    CommitInfo::new("/batch/one.txt"),
                ),
                UploadSessionFinishArg::new(
                    UploadSessionCursor::new(&s2, 9),
                    CommitInfo::new("/batch/two.txt"),
                ),
            ]),
        )
        .await
        .ok();
    let UploadSessionFinishBatchLaunch::AsyncJobId(job) = launch else {
        panic!("expected a job id");
    };
    let before = poll_job(&api, &job).await;
    let UploadSessionFinishBatchJobStatus::Complete(result) = &before else {
        panic!("expected complete, got {before:?}");
    };
    assert!(matches!(
        result.entries[0],
        UploadSessionFinishBatchResultEntry::Success(_)
    ));
    assert!(matches!(
        result.entries[1],
        UploadSessionFinishBatchResultEntry::Failure(_)
    ));

    // An unused temporary upload link.
    let link: GetTemporaryUploadLinkResult = api
        .rpc(
            "files/get_temporary_upload_link",
            &GetTemporaryUploadLinkArg::new(CommitInfo::new("/linked.txt")),
        )
        .await
        .ok();

    // A sequential append stalled mid-body when the crash comes.
    emu.faults().add(
        FaultRule::new(
            "files/upload_session/append_v2",
            FaultAction::StallRequestBody { bytes: 500 },
        )
        .times(1),
    );
    let stalled = tokio::spawn({
        let api = api.clone();
        let seq = seq.clone();
        let body = a[BLOCK + 500..].to_vec();
        async move {
            let arg =
                UploadSessionAppendArg::new(UploadSessionCursor::new(&seq, (BLOCK + 500) as u64));
            api.http
                .post(api.url("/2/files/upload_session/append_v2"))
                .bearer_auth(&api.token)
                .header("Content-Type", "application/octet-stream")
                .header("Dropbox-API-Arg", header_json(&arg))
                .body(body)
                .send()
                .await
        }
    });
    for _ in 0..200 {
        if emu.stats().bytes_in("files/upload_session/append_v2") >= (BLOCK + 390 + 500) as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let sessions_before = emu.upload_sessions();
    emu.crash().await;
    assert!(
        stalled.await.unwrap().is_err(),
        "the stalled request never got an answer"
    );

    // Restart on the same directory and port, with the same (generated) token.
    let emu = start_with(config(dir.path(), port, durable)).await;
    assert_eq!(emu.addr().port(), port);
    assert_eq!(emu.access_token(), token);
    assert_eq!(emu.upload_sessions(), sessions_before);
    let api = Api::new(&emu);

    // Sequential: the stalled append left the session at the acknowledged offset.
    let (e, _): (UploadSessionAppendError, _) = api.append(&seq, 0, false, vec![]).await.conflict();
    assert_eq!(
        e,
        UploadSessionAppendError::IncorrectOffset(UploadSessionOffsetError::new(
            (BLOCK + 500) as u64
        ))
    );
    let r = api
        .append(&seq, (BLOCK + 500) as u64, true, a[BLOCK + 500..].to_vec())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let m: FileMetadata = api.finish(&seq, a.len() as u64, "/seq.bin").await.ok();
    assert_eq!(m.content_hash.as_deref(), Some(content_hash(&a).as_str()));
    assert_eq!(api.get("/seq.bin").await, a);

    // Concurrent: the missing block, then finish.
    let r = api
        .append(&conc, BLOCK as u64, false, b[BLOCK..2 * BLOCK].to_vec())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let m: FileMetadata = api.finish(&conc, b.len() as u64, "/conc.bin").await.ok();
    assert_eq!(m.content_hash.as_deref(), Some(content_hash(&b).as_str()));
    assert_eq!(api.get("/conc.bin").await, b);

    // v1: the next chunk at the right offset, then commit.
    let r = api
        .send(v1_put(
            &api,
            &format!("?upload_id={v1}&offset=1000"),
            c[1000..].to_vec(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["offset"], 3000);
    let r = api
        .send(
            api.http
                .post(api.url("/1/commit_chunked_upload/auto/v1.bin"))
                .bearer_auth(&api.token)
                .form(&[("upload_id", v1.as_str())]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["content_hash"], content_hash(&c).as_str());
    assert_eq!(api.get("/v1.bin").await, c);

    // The job's result is the same.
    assert_eq!(poll_job(&api, &job).await, before);

    // The link takes one upload.
    let post = |body: &'static [u8]| {
        api.send(
            api.http
                .post(link.link.as_str())
                .header("Content-Type", "application/octet-stream")
                .body(body),
        )
    };
    let r = post(b"via link").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["content-hash"], content_hash(b"via link").as_str());
    assert_eq!(api.get("/linked.txt").await, b"via link");
    assert_eq!(post(b"again").await.status, StatusCode::GONE);

    // Finished sessions are gone, and stay gone after a clean restart.
    emu.shutdown().await;
    let emu = start_with(config(dir.path(), port, durable)).await;
    let api = Api::new(&emu);
    // Only the batch's unclosed session is left, and it still takes data.
    assert_eq!(emu.upload_sessions(), 1);
    let r = api.append(&s2, 9, false, b"!".to_vec()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let (e, _): (UploadSessionLookupError, _) = api.append(&seq, 0, false, vec![]).await.conflict();
    assert_eq!(e, UploadSessionLookupError::NotFound);
    assert_eq!(poll_job(&api, &job).await, before);
    let left: Vec<_> = std::fs::read_dir(dir.path().join("sessions"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left.len(),
        2,
        "the record and spool of one session: {left:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_jobs_and_links_survive_a_crash() {
    everything_in_flight_survives(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_fsync_they_survive_a_process_crash_too() {
    everything_in_flight_survives(false).await;
}

#[tokio::test]
async fn a_damaged_session_record_drops_only_that_session() {
    let dir = tempfile::tempdir().unwrap();
    let emu: EmulatorHandle = start_with(config(dir.path(), 0, false)).await;
    let port = emu.addr().port();
    let api = Api::new(&emu);
    let good = api.start_session(b"good", false).await;
    let sessions = dir.path().join("sessions");
    let records = |d: &Path| -> Vec<std::path::PathBuf> {
        let mut v: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        v.sort();
        v
    };
    let good_record = records(&sessions);
    assert_eq!(good_record.len(), 1);
    let bad = api.start_session(b"bad", false).await;
    let torn = api.start_session(b"torn", false).await;
    let all = records(&sessions);
    let others: Vec<_> = all.iter().filter(|p| !good_record.contains(p)).collect();
    assert_eq!(others.len(), 2);
    emu.crash().await;
    // One record is garbage, the other torn half-way; a stray temp file is left too.
    std::fs::write(others[0], b"\x00\x01 not json").unwrap();
    let text = std::fs::read(others[1]).unwrap();
    std::fs::write(others[1], &text[..text.len() / 2]).unwrap();
    std::fs::write(sessions.join("0123456789abcdef0123456789abcdef.tmp"), b"{").unwrap();

    let emu = start_with(config(dir.path(), port, false)).await;
    let api = Api::new(&emu);
    assert_eq!(emu.upload_sessions(), 1);
    for sid in [&bad, &torn] {
        let (e, _): (UploadSessionLookupError, _) =
            api.append(sid, 3, false, vec![]).await.conflict();
        assert_eq!(e, UploadSessionLookupError::NotFound);
    }
    let r = api.append(&good, 4, true, b"!".to_vec()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let m: FileMetadata = api.finish(&good, 5, "/good.txt").await.ok();
    assert_eq!(
        m.content_hash.as_deref(),
        Some(content_hash(b"good!").as_str())
    );
    // Only the good session's files were there; the damaged ones were deleted.
    let left: Vec<_> = std::fs::read_dir(&sessions).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_running_at_the_crash_is_run_again_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let emu =
        start_with(config(dir.path(), 0, false).with_commit_latency(Duration::from_secs(5))).await;
    let port = emu.addr().port();
    let api = Api::new(&emu);
    let sid = api.start_session(b"late", true).await;
    let launch: UploadSessionFinishBatchLaunch = api
        .rpc(
            "files/upload_session/finish_batch",
            &UploadSessionFinishBatchArg::new(vec![UploadSessionFinishArg::new(
                UploadSessionCursor::new(&sid, 4),
                CommitInfo::new("/late.txt"),
            )]),
        )
        .await
        .ok();
    let UploadSessionFinishBatchLaunch::AsyncJobId(job) = launch else {
        panic!("expected a job id");
    };
    let s: UploadSessionFinishBatchJobStatus = api
        .rpc(
            "files/upload_session/finish_batch/check",
            &PollArg::new(&job),
        )
        .await
        .ok();
    assert_eq!(s, UploadSessionFinishBatchJobStatus::InProgress);
    emu.crash().await;
    let emu = start_with(config(dir.path(), port, false)).await;
    let api = Api::new(&emu);
    let done = poll_job(&api, &job).await;
    let UploadSessionFinishBatchJobStatus::Complete(r) = done else {
        panic!("expected complete, got {done:?}");
    };
    let UploadSessionFinishBatchResultEntry::Success(m) = &r.entries[0] else {
        panic!("expected success, got {:?}", r.entries[0]);
    };
    assert_eq!(
        m.content_hash.as_deref(),
        Some(content_hash(b"late").as_str())
    );
    assert_eq!(api.get("/late.txt").await, b"late");
}
