//! `--timeout` and `--retries` over real HTTP on loopback: a server that reads requests and
//! never answers, a server that answers 409 with a request id, and bad flag values.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A server on 127.0.0.1 that accepts connections, reads whatever is sent and never answers.
struct Silent {
    port: u16,
    /// Requests whose headers arrived.
    requests: Arc<AtomicUsize>,
    /// Their request lines, for failure messages.
    lines: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Silent {
    async fn start() -> Silent {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(AtomicUsize::new(0));
        let lines = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (r, l) = (requests.clone(), lines.clone());
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let (r, l) = (r.clone(), l.clone());
                tokio::spawn(async move {
                    let Some((head, _)) = read_head(&conn).await else {
                        return;
                    };
                    r.fetch_add(1, Ordering::SeqCst);
                    l.lock()
                        .unwrap()
                        .push(head.lines().next().unwrap_or("").to_owned());
                    // Read (and drop) the body and anything else until the client hangs up;
                    // never write a byte.
                    let mut conn = conn;
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n) = conn.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                    }
                });
            }
        });
        Silent {
            port,
            requests,
            lines,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

/// Reads up to the end of the request headers; returns them and the body bytes read with
/// them, or `None` if the connection closed first.
async fn read_head(conn: &TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        conn.readable().await.ok()?;
        match conn.try_read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => return None,
        }
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            return Some((head, buf[end + 4..].to_vec()));
        }
    }
}

/// What a scripted server sends for a request to a path, and whether it then stalls
/// (keeps the connection open and silent) instead of closing it.
type Script = fn(&str) -> (String, bool);

/// A server that answers each request as `script` says; returns its URL and the number of
/// requests whose headers arrived.
async fn scripted_server(script: Script) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(AtomicUsize::new(0));
    let count = requests.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                let Some((head, mut body)) = read_head(&conn).await else {
                    return;
                };
                count.fetch_add(1, Ordering::SeqCst);
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.trim()
                            .eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                let mut buf = vec![0u8; 64 * 1024];
                while body.len() < length {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => body.extend_from_slice(&buf[..n]),
                    }
                }
                let path = head.split_whitespace().nth(1).unwrap_or("");
                let (response, stall) = script(path);
                let _ = conn.write_all(response.as_bytes()).await;
                let _ = conn.flush().await;
                if stall {
                    while let Ok(n) = conn.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                    }
                } else {
                    let _ = conn.shutdown().await;
                }
            });
        }
    });
    (format!("http://127.0.0.1:{port}"), requests)
}

/// Every request: 409 with `x-dropbox-request-id: abc123` and a not-found error (for
/// `files/upload`, a disallowed-name write error).
fn refuse(path: &str) -> (String, bool) {
    let answer = if path == "/2/files/upload" {
        r#"{"error_summary":"path/disallowed_name/..","error":{".tag":"path","reason":{".tag":"disallowed_name"},"upload_session_id":"s1"}}"#
    } else {
        r#"{"error_summary":"path/not_found/..","error":{".tag":"path","path":{".tag":"not_found"}}}"#
    };
    (
        format!(
            "HTTP/1.1 409 Conflict\r\ncontent-type: application/json\r\nx-dropbox-request-id: abc123\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
            answer.len()
        ),
        false,
    )
}

/// A download whose headers (with `x-dropbox-request-id: abc123`) and first 10 bytes arrive,
/// then nothing.
fn stall_download(_path: &str) -> (String, bool) {
    let result = r#"{".tag":"file","name":"f.bin","id":"id:abcdefghijk","client_modified":"2025-01-01T00:00:00Z","server_modified":"2025-01-01T00:00:00Z","rev":"0123456789abcdef","size":100000,"path_lower":"/f.bin","path_display":"/f.bin"}"#;
    (
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ndropbox-api-result: {result}\r\nx-dropbox-request-id: abc123\r\ncontent-length: 100000\r\n\r\n0123456789"
        ),
        true,
    )
}

/// `dbx` isolated from the environment, with a token and a base URL.
fn dbx_at(url: &str, home: &std::path::Path) -> tokio::process::Command {
    let mut cmd: tokio::process::Command = crate::common::dbx(home).into();
    cmd.env("DROPBOX_TOKEN", "t")
        .arg("--base-url")
        .arg(url)
        .kill_on_drop(true);
    cmd
}

/// Runs a command with a generous bound, returning its output and how long it took.
async fn timed(cmd: &mut tokio::process::Command) -> (std::process::Output, Duration) {
    let started = Instant::now();
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("dbx finishes within 60 s")
        .expect("dbx runs");
    (out, started.elapsed())
}

fn describe(o: &std::process::Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        crate::common::stdout(o),
        crate::common::stderr(o)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ls_times_out_after_two_attempts() {
    let server = Silent::start().await;
    let home = tempfile::tempdir().unwrap();
    let (o, elapsed) = timed(dbx_at(&server.url(), home.path()).args([
        "--timeout",
        "3s",
        "--retries",
        "1",
        "ls",
        "/",
    ]))
    .await;
    eprintln!(
        "ls: {elapsed:?}, {} requests: {:?}",
        server.requests(),
        server.lines()
    );
    assert_eq!(o.status.code(), Some(5), "{}", describe(&o));
    assert_eq!(server.requests(), 2, "{:?}", server.lines());
    assert!(
        server
            .lines()
            .iter()
            .all(|l| l.contains("/2/files/list_folder")),
        "{:?}",
        server.lines()
    );
    assert!(elapsed >= Duration::from_secs(6), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(12), "{elapsed:?}");
    let err = crate::common::stderr(&o);
    assert!(err.contains("idle timeout"), "{err}");
    assert!(err.contains("--timeout"), "the hint names the flag: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_times_out_after_two_attempts() {
    let server = Silent::start().await;
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("x.bin");
    std::fs::write(&local, crate::common::data(3 * crate::common::MB, 7)).unwrap();
    let (o, elapsed) = timed(
        dbx_at(&server.url(), home.path())
            .args(["--timeout", "3s", "--retries", "1", "upload"])
            .arg(&local)
            .arg("/x.bin"),
    )
    .await;
    eprintln!(
        "upload: {elapsed:?}, {} requests: {:?}",
        server.requests(),
        server.lines()
    );
    assert_eq!(o.status.code(), Some(5), "{}", describe(&o));
    assert_eq!(server.requests(), 2, "{:?}", server.lines());
    assert!(
        server
            .lines()
            .iter()
            .all(|l| l.contains("/2/files/upload ")),
        "one files/upload call, sent twice: {:?}",
        server.lines()
    );
    assert!(elapsed >= Duration::from_secs(6), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(12), "{elapsed:?}");
    let err = crate::common::stderr(&o);
    assert!(err.contains("idle timeout"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_0_makes_one_attempt_and_the_json_error_has_no_request_id() {
    let server = Silent::start().await;
    let home = tempfile::tempdir().unwrap();
    let (o, elapsed) = timed(dbx_at(&server.url(), home.path()).args([
        "--json",
        "--timeout",
        "3s",
        "--retries",
        "0",
        "ls",
        "/",
    ]))
    .await;
    eprintln!(
        "ls --retries 0: {elapsed:?}, {} requests: {:?}",
        server.requests(),
        server.lines()
    );
    assert_eq!(o.status.code(), Some(5), "{}", describe(&o));
    assert_eq!(server.requests(), 1, "{:?}", server.lines());
    assert!(elapsed >= Duration::from_secs(3), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(8), "{elapsed:?}");
    let v = crate::common::json(&o);
    let e = &v["error"];
    assert_eq!(e["kind"], "transient", "{v}");
    assert_eq!(e["exit_code"], 5, "{v}");
    assert!(e["request_id"].is_null(), "{v}");
    assert!(
        e.as_object().unwrap().contains_key("request_id"),
        "request_id is present, as null: {v}"
    );
    assert!(
        e["message"].as_str().unwrap().contains("idle timeout"),
        "{v}"
    );
    let err = crate::common::stderr(&o);
    assert!(err.contains("idle timeout"), "{err}");
    assert!(!err.contains("request id"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_errors_carry_the_request_id() {
    let (url, _) = scripted_server(refuse).await;
    let home = tempfile::tempdir().unwrap();
    let small = home.path().join("small.txt");
    std::fs::write(&small, b"hello").unwrap();
    let local = home.path().join("got.bin");
    let cases: [(&str, Vec<std::ffi::OsString>); 3] = [
        ("ls", vec!["ls".into(), "/nope".into()]),
        (
            "get",
            vec!["get".into(), "/nope.bin".into(), local.clone().into()],
        ),
        (
            "upload",
            vec!["upload".into(), small.clone().into(), "/bad.txt".into()],
        ),
    ];
    for (what, args) in cases {
        let (o, _) = timed(
            dbx_at(&url, home.path())
                .args(["--json", "--timeout", "5s"])
                .args(&args),
        )
        .await;
        assert_eq!(o.status.code(), Some(4), "{what}: {}", describe(&o));
        let v = crate::common::json(&o);
        assert_eq!(v["error"]["request_id"], "abc123", "{what}: {v}");
        assert_eq!(v["error"]["kind"], "refused", "{what}: {v}");
        let err = crate::common::stderr(&o);
        assert!(err.contains("request id abc123"), "{what}: {err}");
    }
    assert!(!local.exists(), "a refused download writes no file");
}

#[tokio::test]
async fn bad_timeouts_are_usage_errors() {
    let home = tempfile::tempdir().unwrap();
    for (value, expected) in [
        ("0s", "out of range"),
        ("5x", "unknown unit `x`"),
        ("soon", "not a duration"),
        ("-3s", "not a duration"),
    ] {
        let (o, elapsed) = timed(
            dbx_at("http://127.0.0.1:9", home.path())
                .arg(format!("--timeout={value}"))
                .args(["ls", "/"]),
        )
        .await;
        assert_eq!(o.status.code(), Some(2), "{value}: {}", describe(&o));
        let err = crate::common::stderr(&o);
        assert!(err.contains("--timeout"), "{value}: {err}");
        assert!(err.contains(expected), "{value}: {err}");
        assert!(elapsed < Duration::from_secs(5), "{value}: {elapsed:?}");
    }
    let (o, _) =
        timed(dbx_at("http://127.0.0.1:9", home.path()).args(["--retries", "-1", "ls", "/"])).await;
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
}

#[tokio::test]
async fn help_lists_timeout_and_retries() {
    let home = tempfile::tempdir().unwrap();
    let (o, _) = timed(dbx_at("http://127.0.0.1:9", home.path()).arg("--help")).await;
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let help = crate::common::stdout(&o);
    assert!(help.contains("--timeout <DURATION>"), "{help}");
    assert!(help.contains("Idle timeout of every request"), "{help}");
    assert!(help.contains("[default: 60s]"), "{help}");
    assert!(help.contains("--retries <N>"), "{help}");
    assert!(help.contains("0: exactly one attempt"), "{help}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_download_is_transient_and_keeps_the_request_id() {
    let (url, requests) = scripted_server(stall_download).await;
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("f.bin");
    let (o, elapsed) = timed(
        dbx_at(&url, home.path())
            .args([
                "--json",
                "--timeout",
                "2s",
                "--retries",
                "1",
                "get",
                "/f.bin",
            ])
            .arg(&local),
    )
    .await;
    let requests = requests.load(Ordering::SeqCst);
    eprintln!("stalled get: {elapsed:?}, {requests} requests");
    assert_eq!(o.status.code(), Some(5), "{}", describe(&o));
    // A body that stalls is resumed with a `Range` for the rest, as often as `--retries`
    // allows: once here. This server never gives the rest, so the command fails.
    assert_eq!(requests, 2);
    assert!(elapsed >= Duration::from_secs(2), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(8), "{elapsed:?}");
    let v = crate::common::json(&o);
    assert_eq!(v["error"]["kind"], "transient", "{v}");
    assert_eq!(v["error"]["request_id"], "abc123", "{v}");
    let err = crate::common::stderr(&o);
    assert!(err.contains("idle timeout"), "{err}");
    assert!(err.contains("request id abc123"), "{err}");
    assert!(err.contains("--timeout"), "the hint names the flag: {err}");
    let left: Vec<_> = std::fs::read_dir(home.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with("f."))
        .collect();
    assert!(left.is_empty(), "no partial file is left: {left:?}");
}
