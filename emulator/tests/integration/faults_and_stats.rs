//! Fault injection (library API and control endpoint) and per-route counters.

use std::time::Duration;

use crate::common::*;
use dbx_emulator::{EmulatorConfig, FaultAction, FaultRule, RateLimitKind};
use dropbox_api::auth::{RateLimitError, RateLimitReason};
use dropbox_api::files::{
    ListFolderArg, UploadSessionAppendArg, UploadSessionAppendError, UploadSessionCursor,
    UploadSessionOffsetError,
};
use reqwest::StatusCode;

fn append_req(api: &Api, sid: &str, offset: u64, body: Vec<u8>) -> reqwest::RequestBuilder {
    let arg = UploadSessionAppendArg::new(UploadSessionCursor::new(sid, offset));
    api.http
        .post(api.url("/2/files/upload_session/append_v2"))
        .bearer_auth(&api.token)
        .header("Content-Type", "application/octet-stream")
        .header("Dropbox-API-Arg", header_json(&arg))
        .body(body)
}

#[tokio::test]
async fn reset_after_k_bytes_drops_the_connection_and_the_partial_append() {
    let emu = start().await;
    let api = Api::new(&emu);
    let sid = api.start_session(b"", false).await;
    emu.faults().add(
        FaultRule::new(
            "files/upload_session/append_v2",
            FaultAction::ResetAfterBytes { bytes: 1 << 20 },
        )
        .times(1),
    );
    let body = data(8 * MIB, 1);
    let err = append_req(&api, &sid, 0, body.clone()).send().await;
    assert!(err.is_err(), "expected a dropped connection, got {err:?}");
    // Nothing of the cut request was kept; the retry succeeds.
    let r = api.append(&sid, 0, false, body.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let (e, _): (UploadSessionAppendError, _) = api.append(&sid, 0, false, vec![]).await.conflict();
    assert_eq!(
        e,
        UploadSessionAppendError::IncorrectOffset(UploadSessionOffsetError::new(body.len() as u64))
    );
    assert_eq!(emu.faults().injected(), 1);
    assert_eq!(emu.faults().injected_by_kind()["reset_after_bytes"], 1);
    // The cut request is recorded (status 0) once the server has dropped it.
    let mut recorded = 0;
    for _ in 0..500 {
        recorded = emu
            .stats()
            .status_count("files/upload_session/append_v2", 0);
        if recorded == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(recorded, 1);
    assert_eq!(
        emu.stats()
            .route("files/upload_session/append_v2")
            .in_flight,
        0
    );
    // A reset after 0 bytes drops the connection before anything is handled.
    emu.faults().add(
        FaultRule::new(
            "files/list_folder",
            FaultAction::ResetAfterBytes { bytes: 0 },
        )
        .times(1),
    );
    let cut = api
        .http
        .post(api.url("/2/files/list_folder"))
        .bearer_auth(&api.token)
        .header("Content-Type", "application/json")
        .body(r#"{"path": ""}"#)
        .send()
        .await;
    assert!(cut.is_err(), "{cut:?}");
    // The server read at most about 1 MiB of the cut request.
    let read = emu.stats().bytes_in("files/upload_session/append_v2");
    assert!(read <= (1 << 20) + body.len() as u64, "{read}");
}

#[tokio::test]
async fn reset_before_response_applies_the_call_but_loses_the_answer() {
    let emu = start().await;
    let api = Api::new(&emu);
    let sid = api.start_session(b"abc", false).await;
    let id = emu.faults().add(FaultRule::new(
        "files/upload_session/append_v2",
        FaultAction::ResetBeforeResponse,
    ));
    assert!(
        append_req(&api, &sid, 3, b"defg".to_vec())
            .send()
            .await
            .is_err()
    );
    assert!(emu.faults().remove(id));
    // The append happened: a blind retry learns the new offset.
    let (e, summary): (UploadSessionAppendError, _) = api
        .append(&sid, 3, false, b"defg".to_vec())
        .await
        .conflict();
    assert_eq!(
        e,
        UploadSessionAppendError::IncorrectOffset(UploadSessionOffsetError::new(7))
    );
    assert_eq!(summary, "incorrect_offset/...");
}

#[tokio::test]
async fn status_faults_every_nth_and_rate_limits() {
    let emu = start().await;
    let api = Api::new(&emu);
    emu.faults()
        .add(FaultRule::new("files/list_folder", FaultAction::InternalError).every_nth(2));
    emu.faults()
        .add(FaultRule::new("files/list_*", FaultAction::ServiceUnavailable).every_nth(3));
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(
            api.rpc("files/list_folder", &ListFolderArg::new(""))
                .await
                .status
                .as_u16(),
        );
    }
    assert_eq!(statuses, [200, 500, 503, 500, 200, 500]);
    emu.faults().clear();
    emu.faults().add(FaultRule::new(
        "files/*",
        FaultAction::RateLimited {
            retry_after: 7,
            reason: RateLimitKind::TooManyRequests,
        },
    ));
    let r = api.rpc("files/list_folder", &ListFolderArg::new("")).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers["retry-after"], "7");
    let e: RateLimitError = serde_json::from_value(r.json()["error"].clone()).unwrap();
    assert_eq!(e.reason, RateLimitReason::TooManyRequests);
    assert_eq!(e.retry_after, 7);
    assert_eq!(r.json()["error_summary"], "too_many_requests/...");
    // Latency combines with the other rules and only counts.
    emu.faults().clear();
    emu.faults()
        .add(FaultRule::new("*", FaultAction::Latency { millis: 20 }).times(2));
    assert_eq!(
        api.rpc("files/list_folder", &ListFolderArg::new(""))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(emu.faults().injected_by_kind()["latency"], 1);
    assert_eq!(emu.faults().injected_by_kind()["internal_error"], 3);
    assert_eq!(emu.faults().injected_by_kind()["service_unavailable"], 1);
}

#[tokio::test]
async fn seeded_probabilistic_faults_are_reproducible() {
    async fn run(seed: u64) -> Vec<u16> {
        let emu = start_with(EmulatorConfig {
            durable: false,
            fault_seed: seed,
            faults: vec![
                FaultRule::new("files/list_folder", FaultAction::ServiceUnavailable)
                    .with_probability(0.5),
            ],
            ..EmulatorConfig::default()
        })
        .await;
        let api = Api::new(&emu);
        let mut out = Vec::new();
        for _ in 0..40 {
            out.push(
                api.rpc("files/list_folder", &ListFolderArg::new(""))
                    .await
                    .status
                    .as_u16(),
            );
        }
        out
    }
    let a = run(7).await;
    assert_eq!(a, run(7).await);
    assert_ne!(a, run(8).await);
    assert!(a.contains(&503) && a.contains(&200));
}

#[tokio::test]
async fn control_endpoints() {
    let emu = start().await;
    let api = Api::new(&emu);
    let http = &api.http;
    // Add a rule through JSON.
    let r = api
        .send(
            http.post(api.url("/__emulator/faults"))
                .json(&serde_json::json!({
                    "route": "files/get_metadata",
                    "action": {"type": "internal_error"},
                    "max_times": 1
                })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let id = r.json()["id"].as_u64().unwrap();
    let r = api
        .rpc(
            "files/get_metadata",
            &dropbox_api::files::GetMetadataArg::new("/x"),
        )
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    let r = api.send(http.get(api.url("/__emulator/faults"))).await;
    let v = r.json();
    assert_eq!(v["injected"], 1);
    assert_eq!(v["rules"][0]["id"], id);
    assert_eq!(v["rules"][0]["fired"], 1);
    // Replace all rules with a seed.
    let r = api
        .send(http.put(api.url("/__emulator/faults")).json(&serde_json::json!({
            "seed": 99,
            "rules": [{"route": "x", "every_nth": 2, "action": {"type": "latency", "millis": 1}}]
        })))
        .await;
    assert_eq!(r.json()["seed"], 99);
    assert_eq!(r.json()["rules"].as_array().unwrap().len(), 1);
    let r = api.send(http.delete(api.url("/__emulator/faults"))).await;
    assert_eq!(r.json()["rules"], serde_json::json!([]));
    assert_eq!(emu.faults().rules().len(), 0);
    // Bad JSON is a 400.
    let r = api
        .send(http.post(api.url("/__emulator/faults")).body("{"))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Stats.
    let r = api.send(http.get(api.url("/__emulator/stats"))).await;
    let v = r.json();
    assert_eq!(v["routes"]["files/get_metadata"]["calls"], 1);
    assert_eq!(v["routes"]["files/get_metadata"]["statuses"]["500"], 1);
    assert_eq!(v["faults_injected"], 1);
    api.send(http.delete(api.url("/__emulator/stats"))).await;
    assert_eq!(emu.stats().calls("files/get_metadata"), 0);
    // Clock.
    let before = api
        .send(http.get(api.url("/__emulator/clock")))
        .await
        .json()["now"]
        .as_str()
        .unwrap()
        .to_string();
    let after = api
        .send(
            http.post(api.url("/__emulator/clock"))
                .json(&serde_json::json!({"advance_secs": 86400})),
        )
        .await
        .json()["now"]
        .as_str()
        .unwrap()
        .to_string();
    let b = chrono::DateTime::parse_from_rfc3339(&before).unwrap();
    let a = chrono::DateTime::parse_from_rfc3339(&after).unwrap();
    assert!(a - b >= chrono::Duration::hours(24));
}

#[tokio::test]
async fn counters_calls_bytes_statuses_and_concurrency() {
    let emu = start_with(EmulatorConfig {
        durable: false,
        commit_latency: Duration::from_millis(200),
        ..EmulatorConfig::default()
    })
    .await;
    let api = Api::new(&emu);
    let a = api.start_session(b"12345", true).await;
    let b = api.start_session(b"678", true).await;
    let (ra, rb) = tokio::join!(api.finish(&a, 5, "/a"), api.finish(&b, 3, "/b"));
    assert_eq!(ra.status, StatusCode::OK);
    assert_eq!(rb.status, StatusCode::OK);
    let s = emu.stats();
    assert_eq!(s.calls("files/upload_session/start"), 2);
    assert_eq!(s.bytes_in("files/upload_session/start"), 8);
    assert_eq!(s.status_count("files/upload_session/finish", 200), 2);
    assert_eq!(s.max_in_flight("files/upload_session/finish"), 2);
    assert!(s.bytes_out("files/upload_session/finish") > 100);
    assert_eq!(s.route("files/upload_session/finish").in_flight, 0);
    api.get("/a").await;
    assert_eq!(s.bytes_out("files/download"), 5);
}
