//! Stall and trickle faults: connections that stop answering, bodies cut short or sent a
//! byte at a time, over real HTTP with short client timeouts.

use std::time::{Duration, Instant};

use crate::common::*;
use dbx_emulator::{EmulatorHandle, FaultAction, FaultRule};
use dropbox_api::files::{
    DownloadArg, ListFolderArg, UploadSessionAppendArg, UploadSessionAppendError,
    UploadSessionCursor, UploadSessionOffsetError,
};
use reqwest::StatusCode;

/// A client that gives up after 300 ms.
fn impatient(emu: &EmulatorHandle) -> Api {
    let mut api = Api::new(emu);
    api.http = dropbox_api::http_client_builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    api
}

fn append_req(api: &Api, sid: &str, offset: u64, body: Vec<u8>) -> reqwest::RequestBuilder {
    let arg = UploadSessionAppendArg::new(UploadSessionCursor::new(sid, offset));
    api.http
        .post(api.url("/2/files/upload_session/append_v2"))
        .bearer_auth(&api.token)
        .header("Content-Type", "application/octet-stream")
        .header("Dropbox-API-Arg", header_json(&arg))
        .body(body)
}

fn list_req(api: &Api) -> reqwest::RequestBuilder {
    api.http
        .post(api.url("/2/files/list_folder"))
        .bearer_auth(&api.token)
        .header("Content-Type", "application/json")
        .body(serde_json::to_vec(&ListFolderArg::new("")).unwrap())
}

/// Waits (briefly) until the route has no request in flight any more.
async fn settled(emu: &EmulatorHandle, route: &str) -> u64 {
    for _ in 0..200 {
        if emu.stats().route(route).in_flight == 0 {
            return 0;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    emu.stats().route(route).in_flight
}

#[tokio::test]
async fn stall_before_response_applies_the_call_and_never_answers() {
    let emu = start().await;
    let api = Api::new(&emu);
    let slow = impatient(&emu);
    let sid = api.start_session(b"abc", false).await;
    emu.faults().add(
        FaultRule::new(
            "files/upload_session/append_v2",
            FaultAction::StallBeforeResponse,
        )
        .times(1),
    );
    let t = Instant::now();
    let err = append_req(&slow, &sid, 3, b"defg".to_vec())
        .send()
        .await
        .expect_err("no answer");
    assert!(err.is_timeout(), "{err:?}");
    assert!(t.elapsed() >= Duration::from_millis(290));
    // The append happened: a retry learns the new offset.
    let (e, _): (UploadSessionAppendError, _) = api
        .append(&sid, 3, false, b"defg".to_vec())
        .await
        .conflict();
    assert_eq!(
        e,
        UploadSessionAppendError::IncorrectOffset(UploadSessionOffsetError::new(7))
    );
    assert_eq!(emu.faults().injected_by_kind()["stall_before_response"], 1);
    assert_eq!(emu.faults().rules()[0].fired, 1);
    // The client closing its end ends the stall (recorded without a status).
    assert_eq!(settled(&emu, "files/upload_session/append_v2").await, 0);
    assert_eq!(
        emu.stats()
            .status_count("files/upload_session/append_v2", 0),
        1
    );
}

#[tokio::test]
async fn stall_request_body_leaves_the_session_at_its_acknowledged_offset() {
    let emu = start().await;
    let api = Api::new(&emu);
    let slow = impatient(&emu);
    let sid = api.start_session(b"0123456789", false).await;
    emu.faults().add(
        FaultRule::new(
            "files/upload_session/append_v2",
            FaultAction::StallRequestBody { bytes: 1000 },
        )
        .times(1),
    );
    let body = data(64 * 1024, 3);
    let err = append_req(&slow, &sid, 10, body.clone())
        .send()
        .await
        .expect_err("no answer");
    assert!(err.is_timeout(), "{err:?}");
    // The server read exactly the stall point.
    assert_eq!(emu.stats().bytes_in("files/upload_session/append_v2"), 1000);
    // Nothing of the stalled request was kept: the same append at the old offset works.
    let r = api.append(&sid, 10, false, body.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = api
        .finish(&sid, 10 + body.len() as u64, "/stalled.bin")
        .await;
    let m: dropbox_api::files::FileMetadata = r.ok();
    let mut all = b"0123456789".to_vec();
    all.extend_from_slice(&body);
    assert_eq!(m.content_hash.as_deref(), Some(content_hash(&all).as_str()));
    assert_eq!(emu.faults().injected_by_kind()["stall_request_body"], 1);
    assert_eq!(emu.faults().injected(), 1);
}

#[tokio::test]
async fn stall_request_body_through_the_control_endpoint() {
    let emu = start().await;
    let api = Api::new(&emu);
    let slow = impatient(&emu);
    // Rules come as JSON through /__emulator/faults too; a 0-byte stall on an rpc route.
    let r = api
        .send(
            api.http
                .post(api.url("/__emulator/faults"))
                .header("Content-Type", "application/json")
                .body(
                    r#"{"route": "files/list_*", "every_nth": 2, "max_times": 1,
                        "action": {"type": "stall_request_body", "bytes": 0}}"#,
                ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(list_req(&slow).send().await.unwrap().status(), 200);
    let err = list_req(&slow).send().await.expect_err("stalled");
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(list_req(&slow).send().await.unwrap().status(), 200);
    let rules = emu.faults().rules();
    assert_eq!((rules[0].matched, rules[0].fired), (3, 1));
}

#[tokio::test]
async fn stall_response_body_sends_the_headers_and_part_of_the_body() {
    let emu = start().await;
    let api = Api::new(&emu);
    let slow = impatient(&emu);
    let content = data(100_000, 5);
    api.put("/big.bin", &content).await;
    emu.faults().add(
        FaultRule::new(
            "files/download",
            FaultAction::StallResponseBody { bytes: 1234 },
        )
        .times(1),
    );
    let r = slow
        .http
        .post(slow.url("/2/files/download"))
        .bearer_auth(&slow.token)
        .header(
            "Dropbox-API-Arg",
            header_json(&DownloadArg::new("/big.bin")),
        )
        .send()
        .await
        .expect("headers arrive");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.content_length(), Some(100_000));
    assert!(r.headers().contains_key("dropbox-api-result"));
    let mut r = r;
    let mut got = Vec::new();
    let err = loop {
        match r.chunk().await {
            Ok(Some(c)) => got.extend_from_slice(&c),
            Ok(None) => panic!("the body completed"),
            Err(e) => break e,
        }
    };
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(got, &content[..1234]);
    drop(r);

    // JSON rpc answers too.
    emu.faults().add(
        FaultRule::new(
            "files/list_folder",
            FaultAction::StallResponseBody { bytes: 5 },
        )
        .times(1),
    );
    let mut r = list_req(&slow).send().await.expect("headers arrive");
    assert_eq!(r.status(), StatusCode::OK);
    let full = r.content_length().expect("content-length");
    assert!(full > 5);
    let mut got = Vec::new();
    loop {
        match r.chunk().await {
            Ok(Some(c)) => got.extend_from_slice(&c),
            Ok(None) => panic!("the body completed"),
            Err(e) => {
                assert!(e.is_timeout(), "{e:?}");
                break;
            }
        }
    }
    assert_eq!(got, b"{\"ent");
    drop(r);
    assert_eq!(emu.faults().injected_by_kind()["stall_response_body"], 2);
    assert_eq!(settled(&emu, "files/list_folder").await, 0);
    assert_eq!(settled(&emu, "files/download").await, 0);
}

#[tokio::test]
async fn trickle_sends_the_body_a_byte_at_a_time() {
    let emu = start().await;
    let api = Api::new(&emu);
    api.put("/t.txt", b"0123456789").await;
    emu.faults().add(
        FaultRule::new(
            "files/download",
            FaultAction::Trickle {
                interval_millis: 20,
            },
        )
        .times(1),
    );
    let t = Instant::now();
    let mut r = api
        .http
        .post(api.url("/2/files/download"))
        .bearer_auth(&api.token)
        .header("Dropbox-API-Arg", header_json(&DownloadArg::new("/t.txt")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let mut chunks = Vec::new();
    while let Some(c) = r.chunk().await.unwrap() {
        chunks.push(c.to_vec());
    }
    let elapsed = t.elapsed();
    assert_eq!(chunks.concat(), b"0123456789");
    assert!(chunks.iter().all(|c| c.len() == 1), "{chunks:?}");
    // Nine pauses of 20 ms between ten bytes.
    assert!(elapsed >= Duration::from_millis(180), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert_eq!(emu.faults().injected_by_kind()["trickle"], 1);
    // The impatient client gives up on a trickled body.
    emu.faults().add(
        FaultRule::new(
            "files/download",
            FaultAction::Trickle {
                interval_millis: 100,
            },
        )
        .times(1),
    );
    let slow = impatient(&emu);
    let r = slow
        .http
        .post(slow.url("/2/files/download"))
        .bearer_auth(&slow.token)
        .header("Dropbox-API-Arg", header_json(&DownloadArg::new("/t.txt")))
        .send()
        .await
        .unwrap();
    let err = r.bytes().await.expect_err("too slow");
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(settled(&emu, "files/download").await, 0);
}

#[tokio::test]
async fn a_stall_ends_at_shutdown() {
    let emu = start().await;
    let api = Api::new(&emu);
    emu.faults().add(FaultRule::new(
        "files/list_folder",
        FaultAction::StallBeforeResponse,
    ));
    let pending = tokio::spawn(list_req(&api).send());
    for _ in 0..100 {
        if emu.stats().route("files/list_folder").in_flight == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let t = Instant::now();
    emu.shutdown().await;
    assert!(t.elapsed() < Duration::from_secs(2));
    let r = tokio::time::timeout(Duration::from_secs(2), pending)
        .await
        .expect("the client learns the connection ended")
        .unwrap();
    assert!(r.is_err(), "{r:?}");
}
