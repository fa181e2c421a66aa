//! A barrage of malformed requests: the server never panics, never writes outside its
//! data directory, never loses a committed file, and keeps answering.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::common::*;
use dbx_emulator::EmulatorConfig;
use dropbox_api::files::{
    ListFolderArg, ListFolderResult, UploadSessionAppendBatchArg, UploadSessionAppendBatchArgEntry,
    UploadSessionCursor,
};
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

static PANICS: AtomicUsize = AtomicUsize::new(0);

/// Sends raw bytes, optionally half-closes, and returns what the server answered.
async fn raw(addr: SocketAddr, bytes: &[u8], close_write: bool) -> Vec<u8> {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let _ = s.write_all(bytes).await;
    if close_write {
        let _ = s.shutdown().await;
    }
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    out
}

fn status_of(resp: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(resp);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

fn tree(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            out.insert(p.strip_prefix(dir).unwrap().display().to_string());
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            }
        }
    }
    out
}

fn http_req(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut s = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (k, v) in headers {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    s.push_str("\r\n");
    let mut b = s.into_bytes();
    b.extend_from_slice(body);
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_never_hurt_the_server_or_its_files() {
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        prev(info);
    }));

    let parent = tempfile::tempdir().unwrap();
    std::fs::write(parent.path().join("sentinel"), b"outside").unwrap();
    let data_dir = parent.path().join("data");
    let emu = start_with(EmulatorConfig {
        data_dir: Some(data_dir.clone()),
        ..EmulatorConfig::default()
    })
    .await;
    let api = Api::new(&emu);
    let addr = emu.addr();
    let token = format!("Bearer {}", emu.access_token());
    let auth = token.as_str();

    // Committed files that must survive everything below.
    let files: Vec<(String, Vec<u8>)> = (0..5)
        .map(|i| {
            (
                format!("/keep/file{i}.bin"),
                data(10_000 * (i + 1), i as u64),
            )
        })
        .collect();
    for (p, d) in &files {
        api.put(p, d).await;
    }
    let outside_before = tree(parent.path())
        .into_iter()
        .filter(|p| !p.starts_with("data"))
        .collect::<BTreeSet<_>>();

    // ---- raw protocol garbage ----
    raw(addr, b"\x00\x01\x02 GARBAGE\r\n\r\n", true).await;
    raw(addr, b"POST /2/files/upload HTTP/1.1\r\n", true).await;
    raw(
        addr,
        b"POST /2/files/upload HTTP/9.9\r\nHost: x\r\n\r\n",
        true,
    )
    .await;
    let huge = "a".repeat(2 * 1024 * 1024);
    let r = raw(
        addr,
        &http_req("POST", "/2/files/upload", &[("X-Huge", &huge)], b""),
        true,
    )
    .await;
    assert!(
        r.is_empty() || status_of(&r).is_some_and(|s| s >= 400),
        "{:?}",
        status_of(&r)
    );
    let many: Vec<(String, String)> = (0..2000).map(|i| (format!("X-H{i}"), "v".into())).collect();
    let many_ref: Vec<(&str, &str)> = many.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let r = raw(
        addr,
        &http_req("POST", "/2/files/upload", &many_ref, b""),
        true,
    )
    .await;
    assert!(r.is_empty() || status_of(&r).is_some_and(|s| s >= 400));
    for cl in ["-1", "abc", "99999999999999999999999"] {
        let r = raw(
            addr,
            &http_req(
                "POST",
                "/2/files/list_folder",
                &[("Content-Length", cl)],
                b"",
            ),
            true,
        )
        .await;
        assert!(r.is_empty() || status_of(&r) == Some(400), "{cl}");
    }
    raw(
        addr,
        &http_req(
            "POST",
            "/2/files/upload",
            &[("Transfer-Encoding", "chunked"), ("Authorization", auth)],
            b"zz\r\nnot hex\r\n",
        ),
        true,
    )
    .await;

    let r = raw(
        addr,
        b"POST /2/files/list_folder HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\x00b\r\n\r\n",
        true,
    )
    .await;
    assert!(r.is_empty() || status_of(&r).is_some_and(|s| s >= 400));

    // ---- truncated bodies ----
    for (path, arg) in [
        (
            "/2/files/upload",
            r#"{"path": "/keep/file0.bin", "mode": "overwrite"}"#,
        ),
        ("/2/files/upload_session/start", r#"{}"#),
    ] {
        let r = raw(
            addr,
            &http_req(
                "POST",
                path,
                &[
                    ("Authorization", auth),
                    ("Content-Type", "application/octet-stream"),
                    ("Dropbox-API-Arg", arg),
                    ("Content-Length", "100000"),
                ],
                b"only a few bytes",
            ),
            true,
        )
        .await;
        assert!(
            r.is_empty() || status_of(&r).is_some_and(|s| s >= 400),
            "{path}"
        );
    }
    let sid = api.start_session(b"base", false).await;
    let arg = format!(r#"{{"cursor": {{"session_id": "{sid}", "offset": 4}}}}"#);
    raw(
        addr,
        &http_req(
            "POST",
            "/2/files/upload_session/append_v2",
            &[
                ("Authorization", auth),
                ("Content-Type", "application/octet-stream"),
                ("Dropbox-API-Arg", &arg),
                ("Content-Length", "5000"),
            ],
            &[7u8; 100],
        ),
        true,
    )
    .await;
    // The cut append left the session at offset 4.
    assert_eq!(
        api.append(&sid, 4, false, b"more".to_vec()).await.status,
        StatusCode::OK
    );

    // ---- header argument garbage ----
    let mut bad_utf8 = http_req(
        "POST",
        "/2/files/upload",
        &[
            ("Authorization", auth),
            ("Content-Type", "application/octet-stream"),
        ],
        b"",
    );
    let insert_at = bad_utf8.len() - 2;
    bad_utf8.splice(
        insert_at..insert_at,
        b"Dropbox-API-Arg: {\"path\": \"/\xff\xfe\"}\r\n"
            .iter()
            .copied(),
    );
    let r = raw(addr, &bad_utf8, true).await;
    assert!(
        status_of(&r).is_some_and(|s| s == 400),
        "{}",
        String::from_utf8_lossy(&r)
    );
    let hostile_args = [
        r#"{"path": "/a\u0000b"}"#,
        r#"{"path": "/../../etc/passwd"}"#,
        r#"{"path": "/.."}"#,
        r#"{"path": "/a/./b"}"#,
        r#"{"path": "/a//b"}"#,
        r#"{"path": "/a/"}"#,
        r#"{"path": "id:../../x"}"#,
        r#"{"path": "ns:1/../../x"}"#,
        r#"{"path": "/\ud800"}"#,
        r#"{"path": "/x", "mode": {".tag": "update", "update": 5}}"#,
        r#"{"path": "/x", "mode": "bogus"}"#,
        r#"{"path": "/x", "client_modified": "yesterday"}"#,
        r#"{"path": ["/x"]}"#,
        r#"{"path": "/x", "content_hash": "zz"}"#,
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        "null",
        "",
    ];
    for arg in hostile_args {
        let r = api
            .send(
                api.http
                    .post(api.url("/2/files/upload"))
                    .bearer_auth(&api.token)
                    .header("Content-Type", "application/octet-stream")
                    .header("Dropbox-API-Arg", arg)
                    .body("hostile"),
            )
            .await;
        assert!(
            r.status == StatusCode::BAD_REQUEST || r.status == StatusCode::CONFLICT,
            "{arg}: {} {}",
            r.status,
            r.text()
        );
    }
    // Path traversal in every path-taking rpc route.
    for (route, body) in [
        ("files/get_metadata", r#"{"path": "/../../../etc/passwd"}"#),
        ("files/delete_v2", r#"{"path": "/../.."}"#),
        ("files/delete_v2", r#"{"path": "/keep/../keep"}"#),
        ("files/create_folder_v2", r#"{"path": "/a/../../b"}"#),
        ("files/list_folder", r#"{"path": "/.."}"#),
        (
            "files/list_folder/continue",
            r#"{"cursor": "eyJyb290IjoiLi4vLi4iLCJyZWMiOnRydWUsImRlbCI6ZmFsc2UsImxpbSI6MTAsInBvcyI6eyJtIjoiY2hhbmdlcyIsInNpbmNlIjowfX0"}"#,
        ),
        (
            "files/upload_session/finish_batch_v2",
            r#"{"entries": [{"cursor": {"session_id": "../../x", "offset": 0}, "commit": {"path": "/../x"}}]}"#,
        ),
        (
            "files/upload_session/finish_batch/check",
            r#"{"async_job_id": "../../../"}"#,
        ),
        (
            "files/upload_session/start_batch",
            r#"{"num_sessions": 18446744073709551616}"#,
        ),
        (
            "files/upload_session/start_batch",
            r#"{"num_sessions": -1}"#,
        ),
        (
            "files/get_temporary_upload_link",
            r#"{"commit_info": {"path": "/x"}, "duration": 1e400}"#,
        ),
        ("files/list_folder", r#"{"path": "", "limit": 4294967296}"#),
    ] {
        let r = api
            .send(
                api.http
                    .post(api.url(&format!("/2/{route}")))
                    .bearer_auth(&api.token)
                    .header("Content-Type", "application/json")
                    .body(body),
            )
            .await;
        assert!(
            matches!(r.status.as_u16(), 200 | 400 | 409),
            "{route} {body}: {} {}",
            r.status,
            r.text()
        );
        if route == "files/delete_v2" {
            assert_ne!(r.status, StatusCode::OK, "{body} must not delete anything");
        }
    }
    // Offsets and ranges at the edges of u64.
    let csid = api.start_concurrent().await;
    let r = api
        .append(&csid, u64::MAX - (u64::MAX % (4 << 20)), false, vec![0; 10])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = api.append(&sid, u64::MAX, false, vec![1]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let entries = vec![
        UploadSessionAppendBatchArgEntry::new(UploadSessionCursor::new(&sid, 8), u64::MAX),
        UploadSessionAppendBatchArgEntry::new(UploadSessionCursor::new(&sid, 8), 2),
    ];
    let r = api
        .upload(
            "files/upload_session/append_batch",
            &UploadSessionAppendBatchArg::new(entries),
            b"x".to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    for range in [
        "bytes=18446744073709551615-",
        "bytes=-18446744073709551615",
        "bytes=0-18446744073709551615",
        "bytes=--",
        "bytes=1-2-3",
    ] {
        let r = api
            .download(
                "files/download",
                &dropbox_api::files::DownloadArg::new("/keep/file0.bin"),
                Some(range),
            )
            .await;
        assert!(matches!(r.status.as_u16(), 200 | 206 | 416), "{range}");
    }
    // Links, v1 and control endpoints with traversal.
    for path in ["/apitul/1/..%2F..%2Fdata", "/apitul/1/%00"] {
        let r = api
            .send(
                api.http
                    .post(api.url(path))
                    .header("Content-Type", "text/plain")
                    .body("x"),
            )
            .await;
        assert!(
            matches!(r.status.as_u16(), 404 | 409),
            "{path} {}",
            r.status
        );
    }
    for path in [
        "/1/commit_chunked_upload/auto/..%2F..%2Fsentinel",
        "/1/commit_chunked_upload/auto/%2E%2E/x",
        "/1/commit_chunked_upload/auto/a%00b",
    ] {
        let r = api
            .send(
                api.http
                    .post(api.url(&format!("{path}?upload_id=x")))
                    .bearer_auth(&api.token),
            )
            .await;
        assert!(
            matches!(r.status.as_u16(), 400 | 404),
            "{path} {}",
            r.status
        );
    }
    let r = api
        .send(
            api.http
                .put(api.url("/1/chunked_upload?upload_id=../../sentinel&offset=0"))
                .bearer_auth(&api.token)
                .body("x"),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = api
        .send(
            api.http
                .post(api.url("/oauth2/token"))
                .body(vec![0xffu8; 100]),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = api
        .send(
            api.http
                .post(api.url("/__emulator/clock"))
                .body("{\"advance_secs\": -1}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // ---- afterwards ----
    // Still serving.
    let root: ListFolderResult = api
        .rpc("files/list_folder", &ListFolderArg::new(""))
        .await
        .ok();
    assert!(!root.entries.is_empty());
    // Nothing lost.
    for (p, d) in &files {
        assert_eq!(&api.get(p).await, d, "{p}");
    }
    // Nothing written outside the data directory.
    let outside_after = tree(parent.path())
        .into_iter()
        .filter(|p| !p.starts_with("data"))
        .collect::<BTreeSet<_>>();
    assert_eq!(outside_before, outside_after);
    assert_eq!(
        std::fs::read(parent.path().join("sentinel")).unwrap(),
        b"outside"
    );
    // Only the emulator's own layout inside it.
    for p in tree(&data_dir) {
        let top = p.split('/').next().unwrap_or("");
        assert!(
            [
                "index.json",
                "blobs",
                "tmp",
                "sessions",
                "jobs",
                "links",
                "dev_token"
            ]
            .contains(&top),
            "unexpected {p}"
        );
    }
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "the server panicked");
    emu.shutdown().await;
}
