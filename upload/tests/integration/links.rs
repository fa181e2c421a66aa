//! Temporary upload links: the two-party flow, and every way a link refuses.

use std::time::Duration;

use crate::common::*;
use dropbox_api::files::CommitInfo;
use dropbox_upload::LinkError;
use dropbox_upload::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn two_party_flow_with_hash_check() {
    let emu = emulator().await;
    // The server holds the token and issues the link...
    let server_side = client(&emu);
    let link = server_side
        .create_upload_link(
            CommitInfo::new("/inbox/photo.jpg"),
            Duration::from_secs(3600),
        )
        .await
        .unwrap();
    let expires = link.expires_at().unwrap();
    assert!(expires > std::time::SystemTime::now() + Duration::from_secs(3500));
    let url = link.url().expose().to_owned();
    assert!(url.starts_with(emu.base_url()), "{url}");

    // ...the uploader holds only the URL (no token anywhere in its requests).
    let body = data(5 * MB + 3, 77);
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("photo.jpg");
    std::fs::write(&local, &body).unwrap();
    let hash = TemporaryUploadLink::from_url(url)
        .upload_file(&local)
        .await
        .unwrap();
    assert_eq!(hash, dropbox_upload::content_hash(&body));
    assert_eq!(download(&server_side, "/inbox/photo.jpg").await, body);
}

#[tokio::test]
async fn reuse_and_expiry_are_gone() {
    let emu = emulator().await;
    let client = client(&emu);
    let link = client
        .create_upload_link(CommitInfo::new("/once.txt"), Duration::from_secs(60))
        .await
        .unwrap();
    link.upload_bytes("first").await.unwrap();
    let err = link.upload_bytes("second").await.unwrap_err();
    assert!(matches!(err, LinkError::Gone), "{err:?}");

    let link = client
        .create_upload_link(CommitInfo::new("/late.txt"), Duration::from_secs(60))
        .await
        .unwrap();
    emu.advance_clock(Duration::from_secs(61));
    let err = link.upload_bytes("too late").await.unwrap_err();
    assert!(matches!(err, LinkError::Gone), "{err:?}");
    assert!(!err.is_transient());
    assert_eq!(download(&client, "/once.txt").await, b"first");
}

#[tokio::test]
async fn conflict_at_consumption() {
    let emu = emulator().await;
    let client = client(&emu);
    let link = client
        .create_upload_link(CommitInfo::new("/taken.txt"), Duration::from_secs(600))
        .await
        .unwrap();
    // Someone else writes the path between issue and use.
    client
        .upload_bytes(
            "mine",
            CommitInfo::new("/taken.txt"),
            &UploadOptions::default(),
        )
        .await
        .unwrap();
    let err = link.upload_bytes("theirs").await.unwrap_err();
    assert!(matches!(err, LinkError::Conflict(_)), "{err:?}");
    assert_eq!(download(&client, "/taken.txt").await, b"mine");
}

#[tokio::test]
async fn wrong_content_type_is_a_bad_request() {
    let emu = emulator().await;
    let client = client(&emu);
    let link = client
        .create_upload_link(CommitInfo::new("/ct.bin"), Duration::from_secs(600))
        .await
        .unwrap();
    // Our client always sends application/octet-stream; a raw request shows the emulator's
    // answer to anything else, and the link is still usable afterwards.
    let r = dropbox_api::http_client_builder()
        .build()
        .unwrap()
        .post(link.url().expose())
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    link.upload_bytes(vec![9u8; 10]).await.unwrap();
}

#[tokio::test]
async fn invalid_duration_is_refused_by_the_api() {
    let emu = emulator().await;
    let client = client(&emu);
    for secs in [10, 5 * 3600] {
        let err = client
            .create_upload_link(CommitInfo::new("/d.txt"), Duration::from_secs(secs))
            .await
            .unwrap_err();
        assert!(!err.to_string().contains("http://"), "{err}");
    }
}

/// A one-request HTTP server answering with a canned status and body.
async fn canned(status: &'static str, body: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 1 << 16];
        let mut seen = Vec::new();
        // Read the head and the (small) body before answering.
        loop {
            let n = sock.read(&mut buf).await.unwrap();
            seen.extend_from_slice(&buf[..n]);
            if n == 0 || seen.windows(4).any(|w| w == b"\r\n\r\n") && seen.ends_with(b"payload") {
                break;
            }
        }
        let answer = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        sock.write_all(answer.as_bytes()).await.unwrap();
    });
    format!("http://{addr}/2/files/upload_via_link/secret-link-id")
}

#[tokio::test]
async fn statuses_map_to_typed_errors() {
    type Check = fn(&LinkError) -> bool;
    let cases: Vec<(&str, &str, Check)> = vec![
        (
            "400 Bad Request",
            "bad content type",
            |e| matches!(e, LinkError::BadRequest(m) if m.contains("bad content type")),
        ),
        ("409 Conflict", "{}", |e| {
            matches!(e, LinkError::Conflict(_))
        }),
        ("410 Gone", "", |e| matches!(e, LinkError::Gone)),
        ("503 Service Unavailable", "later", |e| {
            matches!(e, LinkError::Unexpected { status: 503, .. }) && e.is_transient()
        }),
        ("429 Too Many Requests", "slow down", |e| {
            matches!(e, LinkError::Unexpected { status: 429, .. }) && e.is_transient()
        }),
        ("200 OK", "{\"nope\":1}", |e| {
            matches!(e, LinkError::Malformed(_))
        }),
        (
            "200 OK",
            "{\"content-hash\":\"00\"}",
            |e| matches!(e, LinkError::HashMismatch(m) if m.dropbox.as_deref() == Some("00")),
        ),
    ];
    // One attempt each, so that 429 and 5xx come back as they are (the lifecycle would retry
    // them, and the canned server answers once).
    let once = dropbox_api_runtime::ClientBuilder::new()
        .retry_policy(dropbox_api_runtime::RetryPolicy::none())
        .build_noauth()
        .unwrap();
    let once = dropbox_api_runtime::auth::AuthClient::transport(&once);
    for (status, body, check) in cases {
        let url = canned(status, body).await;
        let err = TemporaryUploadLink::from_url(url)
            .with_transport(once)
            .upload_bytes("payload")
            .await
            .unwrap_err();
        assert!(check(&err), "{status}: {err:?}");
        assert!(!err.to_string().contains("secret-link-id"), "{err}");
        assert!(!format!("{err:?}").contains("secret-link-id"), "{err:?}");
    }
    // An unreachable link is a transport error that names no URL.
    let err = TemporaryUploadLink::from_url("http://127.0.0.1:9/2/files/secret-link-id")
        .with_transport(once)
        .upload_bytes("x")
        .await
        .unwrap_err();
    assert!(
        matches!(err, LinkError::Transport(_)) && err.is_transient(),
        "{err:?}"
    );
    assert!(!err.to_string().contains("secret-link-id"), "{err}");
}

/// Link uploads go through the request lifecycle: interceptors see them, are told the URL is
/// a secret, and a 503 from the link is retried from the bytes in memory.
#[tokio::test]
async fn link_uploads_go_through_the_lifecycle() {
    use std::sync::{Arc, Mutex};

    use dbx_emulator::{FaultAction, FaultRule};
    use dropbox_api_runtime::hooks::{AttemptEnd, AttemptStart, Interceptor};

    #[derive(Default)]
    struct Seen(Mutex<Vec<(String, u32, bool)>>, Mutex<u32>);
    impl Interceptor for Seen {
        fn before_attempt(&self, s: &AttemptStart<'_>, _: &mut reqwest::Request) {
            self.0
                .lock()
                .unwrap()
                .push((s.route.name.to_owned(), s.attempt, s.url_is_secret));
        }
        fn after_attempt(&self, e: &AttemptEnd<'_>) {
            if e.retry_in.is_some() {
                *self.1.lock().unwrap() += 1;
            }
        }
    }
    let emu = emulator().await;
    emu.faults()
        .add(FaultRule::new("apitul/*", FaultAction::ServiceUnavailable).times(1));
    let seen = Arc::new(Seen::default());
    let client = dropbox_api_runtime::ClientBuilder::new()
        .access_token(emu.access_token().to_string())
        .base_url(emu.base_url())
        .retry_policy(fast_retry())
        .interceptor(seen.clone())
        .build_user()
        .unwrap();
    let link = client
        .create_upload_link(
            CommitInfo::new("/links/hooked.bin"),
            Duration::from_secs(600),
        )
        .await
        .unwrap();
    let body = data(70_000, 5);
    link.upload_bytes(body.clone()).await.unwrap();
    assert_eq!(download(&client, "/links/hooked.bin").await, body);
    let seen_starts = seen.0.lock().unwrap().clone();
    assert_eq!(
        seen_starts,
        vec![
            ("get_temporary_upload_link".to_owned(), 1, false),
            ("temporary_upload_link".to_owned(), 1, true),
            ("temporary_upload_link".to_owned(), 2, true),
            ("download".to_owned(), 1, false),
        ]
    );
    assert_eq!(*seen.1.lock().unwrap(), 1, "the 503 was retried");
}
