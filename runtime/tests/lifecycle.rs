//! The request lifecycle against servers that misbehave, over real TCP on 127.0.0.1: every
//! bound of `Timeouts` fires when it should (a server that never answers, stops reading an
//! upload body, stops sending a response body, trickles it, or never finishes a TLS
//! handshake), is classified as transient, and is retried exactly as the policy says, counted
//! on the server's side; `Retry-After` is waited out; request ids and hooks see every attempt.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dropbox_api_runtime::__private as rt;
use dropbox_api_runtime::auth::User;
use dropbox_api_runtime::hooks::{AttemptEnd, AttemptStart, Interceptor, Outcome};
use dropbox_api_runtime::route::{Host, Route, RouteSpec, Style};
use dropbox_api_runtime::{
    BodyError, ClientBuilder, Error, LostAnswer, RetryPolicy, TimeoutKind, Untyped, UserClient,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// What the server does with each request, by attempt number (the last one repeats).
#[derive(Clone, Debug)]
enum Act {
    /// Reads the request, then never answers.
    Stall,
    /// Reads this many body bytes, then stops reading (and never answers).
    StallRequestBody(usize),
    /// Sends headers (with this body length) and `sent` bytes of the body, then stalls.
    StallResponseBody { len: usize, sent: usize },
    /// Sends headers, then the body one byte per `every`.
    Trickle { len: usize, every: Duration },
    /// Answers with this status, extra headers and JSON body.
    Answer(u16, Vec<(&'static str, &'static str)>, &'static str),
    /// A download of `len` bytes: without a `Range`, sends `sent` bytes and stalls; with
    /// `Range: bytes=K-`, answers 206 with the bytes from K.
    Resumable { len: usize, sent: usize },
}

/// The `Range` headers the server saw.
static RANGES: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

fn byte(i: usize) -> u8 {
    (i % 251) as u8
}

struct Server {
    base: String,
    /// Requests whose headers arrived, counted server-side.
    requests: Arc<AtomicU32>,
    /// When each request arrived.
    arrivals: Arc<Mutex<Vec<Instant>>>,
}

async fn server(acts: Vec<Act>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicU32::new(0));
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let acts = Arc::new(acts);
    let (r, a) = (requests.clone(), arrivals.clone());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (acts, r, a) = (acts.clone(), r.clone(), a.clone());
            tokio::spawn(async move { connection(stream, acts, r, a).await });
        }
    });
    Server {
        base,
        requests,
        arrivals,
    }
}

/// Reads up to the end of the headers; returns the content length, the body bytes read and
/// the `Range` header.
async fn read_head(stream: &mut TcpStream) -> Option<(usize, usize, Option<String>)> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 4096];
    loop {
        let n = stream.read(&mut byte).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&byte[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            let range = head
                .lines()
                .find_map(|l| l.strip_prefix("range:"))
                .map(|v| v.trim().to_owned());
            return Some((len, buf.len() - end - 4, range));
        }
    }
}

async fn connection(
    mut stream: TcpStream,
    acts: Arc<Vec<Act>>,
    requests: Arc<AtomicU32>,
    arrivals: Arc<Mutex<Vec<Instant>>>,
) {
    loop {
        let Some((len, mut read, range)) = read_head(&mut stream).await else {
            return;
        };
        let n = requests.fetch_add(1, Ordering::SeqCst) as usize;
        arrivals.lock().unwrap().push(Instant::now());
        let act = acts[n.min(acts.len() - 1)].clone();
        if let Act::StallRequestBody(limit) = act {
            let mut buf = vec![0u8; 8192];
            while read < limit {
                match stream.read(&mut buf[..(limit - read).min(8192)]).await {
                    Ok(0) | Err(_) => return,
                    Ok(k) => read += k,
                }
            }
            tokio::time::sleep(Duration::from_secs(600)).await;
            return;
        }
        let mut buf = vec![0u8; 65536];
        while read < len {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(k) => read += k,
            }
        }
        let head = |status: u16, len: usize, extra: &[(&str, &str)]| {
            let mut h = format!(
                "HTTP/1.1 {status} X\r\ncontent-length: {len}\r\ncontent-type: application/json\r\nx-dropbox-request-id: req-{n}\r\n"
            );
            for (k, v) in extra {
                h.push_str(&format!("{k}: {v}\r\n"));
            }
            h.push_str("\r\n");
            h
        };
        match act {
            Act::Stall | Act::StallRequestBody(_) => {
                tokio::time::sleep(Duration::from_secs(600)).await;
                return;
            }
            Act::StallResponseBody { len, sent } => {
                let r = r#"{"name":"a.txt"}"#;
                let h = head(200, len, &[("dropbox-api-result", r)]);
                let _ = stream.write_all(h.as_bytes()).await;
                let _ = stream.write_all(&vec![b' '; sent]).await;
                tokio::time::sleep(Duration::from_secs(600)).await;
                return;
            }
            Act::Trickle { len, every } => {
                let _ = stream.write_all(head(200, len, &[]).as_bytes()).await;
                for _ in 0..len {
                    if stream.write_all(b" ").await.is_err() {
                        return;
                    }
                    tokio::time::sleep(every).await;
                }
                return;
            }
            Act::Resumable { len, sent } => {
                let r = r#"{"name":"big.bin"}"#;
                let from = range
                    .as_deref()
                    .and_then(|r| r.strip_prefix("bytes="))
                    .and_then(|r| r.strip_suffix('-'))
                    .and_then(|k| k.parse::<usize>().ok());
                let base = s_base(&stream);
                RANGES
                    .lock()
                    .unwrap()
                    .push((base, range.clone().unwrap_or_default()));
                let body: Vec<u8> = (from.unwrap_or(0)..len).map(byte).collect();
                let status = if from.is_some() { 206 } else { 200 };
                let h = head(status, body.len(), &[("dropbox-api-result", r)]);
                let _ = stream.write_all(h.as_bytes()).await;
                if from.is_some() {
                    let _ = stream.write_all(&body).await;
                } else {
                    let _ = stream.write_all(&body[..sent]).await;
                    tokio::time::sleep(Duration::from_secs(600)).await;
                    return;
                }
            }
            Act::Answer(status, extra, body) => {
                let h = head(status, body.len(), &extra);
                if stream.write_all(h.as_bytes()).await.is_err()
                    || stream.write_all(body.as_bytes()).await.is_err()
                {
                    return;
                }
            }
        }
    }
}

/// The server's own address, to tell test servers apart in `RANGES`.
fn s_base(stream: &TcpStream) -> String {
    stream
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default()
}

const fn route(path: &'static str, style: Style, idempotent: bool) -> Route<User> {
    Route::new(RouteSpec {
        namespace: "files",
        name: "test",
        version: 1,
        path,
        host: Host::Api,
        style,
        auth: "user",
        idempotent,
    })
}

/// A read route (retried after a lost answer by default) and a write route (not).
static READ: Route<User> = route("/2/files/list_folder", Style::Rpc, true);
static WRITE: Route<User> = route("/2/files/create_folder_v2", Style::Rpc, false);
static UPLOAD: Route<User> = route("/2/files/upload", Style::Upload, false);
static DOWNLOAD: Route<User> = route("/2/files/download", Style::Download, true);

const IDLE: Duration = Duration::from_millis(400);

fn fast(retries: u32) -> RetryPolicy {
    RetryPolicy::default()
        .retries(retries)
        .delays(Duration::from_millis(10), Duration::from_millis(20))
}

fn client(base: &str, policy: RetryPolicy) -> UserClient {
    ClientBuilder::new()
        .access_token("t")
        .base_url(base)
        .idle_timeout(IDLE)
        .retry_policy(policy)
        .build_user()
        .unwrap()
}

async fn rpc(c: &UserClient, route: &'static Route<User>) -> Result<Value, Error<Value, Untyped>> {
    rt::rpc(c, route, &json!({"path": ""})).await
}

/// The error is the idle timeout, transient, and came within about its bound per attempt.
fn assert_idle(err: &Error<Value, Untyped>, attempts: u32, elapsed: Duration) {
    assert_eq!(err.timeout().map(|t| t.0), Some(TimeoutKind::Idle), "{err}");
    assert!(err.is_transient());
    assert!(err.to_string().contains("idle timeout"), "{err}");
    // Each attempt ends within 1.25 idle periods (the watchdog looks four times a period),
    // plus scheduling slack.
    let bound = IDLE.mul_f64(1.25 * f64::from(attempts)) + Duration::from_millis(700);
    assert!(elapsed < bound, "{elapsed:?} >= {bound:?}");
    assert!(elapsed >= IDLE * attempts, "{elapsed:?}");
}

#[tokio::test]
async fn a_server_that_never_answers_is_an_idle_timeout_retried_as_configured() {
    let s = server(vec![Act::Stall]).await;
    let started = Instant::now();
    let err = rpc(&client(&s.base, fast(2)), &READ).await.unwrap_err();
    assert_idle(&err, 3, started.elapsed());
    assert_eq!(s.requests.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_lost_answer_of_a_write_route_is_not_resent_unless_the_caller_says_so() {
    let s = server(vec![Act::Stall]).await;
    let started = Instant::now();
    let err = rpc(&client(&s.base, fast(3)), &WRITE).await.unwrap_err();
    assert_idle(&err, 1, started.elapsed());
    assert_eq!(s.requests.load(Ordering::SeqCst), 1, "one attempt only");
    // With the caller's knowledge (LostAnswer::Retry) it is resent.
    let s = server(vec![Act::Stall]).await;
    let c = client(&s.base, fast(1).lost_answer(LostAnswer::Retry));
    let started = Instant::now();
    let err = rpc(&c, &WRITE).await.unwrap_err();
    assert_idle(&err, 2, started.elapsed());
    assert_eq!(s.requests.load(Ordering::SeqCst), 2);
    // Refusals (503) are resent for any route: the request had no effect.
    let s = server(vec![
        Act::Answer(503, vec![], "busy"),
        Act::Answer(200, vec![], "{}"),
    ])
    .await;
    rpc(&client(&s.base, fast(1)), &WRITE).await.unwrap();
    assert_eq!(s.requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_server_that_stops_reading_an_upload_body_is_an_idle_timeout() {
    let s = server(vec![Act::StallRequestBody(64 * 1024)]).await;
    let c = client(&s.base, fast(1).lost_answer(LostAnswer::Retry));
    let body = bytes::Bytes::from(vec![7u8; 32 << 20]);
    let started = Instant::now();
    let err = rt::upload::<_, _, _, Value, Value, Untyped>(
        &c,
        &UPLOAD,
        &json!({"path": "/a"}),
        body.into(),
    )
    .await
    .unwrap_err();
    assert_idle(&err, 2, started.elapsed());
    assert_eq!(
        s.requests.load(Ordering::SeqCst),
        2,
        "resent from the shared bytes"
    );
}

#[tokio::test]
async fn a_streamed_upload_body_is_sent_once() {
    let s = server(vec![Act::StallRequestBody(1024)]).await;
    let c = client(&s.base, fast(3).lost_answer(LostAnswer::Retry));
    let chunks = futures_util::stream::iter(
        (0..64).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![1u8; 1 << 20]))),
    );
    let body = dropbox_api_runtime::Body::wrap_stream(chunks);
    let err =
        rt::upload::<_, _, _, Value, Value, Untyped>(&c, &UPLOAD, &json!({"path": "/a"}), body)
            .await
            .unwrap_err();
    assert_eq!(err.timeout().map(|t| t.0), Some(TimeoutKind::Idle));
    assert_eq!(s.requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_response_body_that_stops_is_an_idle_timeout_with_the_request_id() {
    let s = server(vec![Act::StallResponseBody {
        len: 5000,
        sent: 10,
    }])
    .await;
    let started = Instant::now();
    let err = rpc(&client(&s.base, fast(1)), &READ).await.unwrap_err();
    assert_idle(&err, 2, started.elapsed());
    assert_eq!(s.requests.load(Ordering::SeqCst), 2);
    assert_eq!(err.request_id(), Some("req-1"), "the last attempt's id");
    assert!(err.to_string().contains("(request id req-1)"), "{err}");
}

#[tokio::test]
async fn a_download_body_that_stops_fails_within_the_idle_timeout() {
    let s = server(vec![Act::StallResponseBody {
        len: 100_000,
        sent: 2000,
    }])
    .await;
    // No retries: the stalled body is not resumed.
    let c = client(&s.base, RetryPolicy::none());
    let d =
        rt::download::<_, _, _, Value, Value, Untyped>(&c, &DOWNLOAD, &json!({"path": "/a"}), None)
            .await
            .unwrap();
    assert_eq!(d.request_id.as_deref(), Some("req-0"));
    assert_eq!(d.result["name"], "a.txt");
    let started = Instant::now();
    let err = d.bytes().await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(err, BodyError::Idle { .. }), "{err}");
    assert_eq!(err.request_id(), Some("req-0"));
    assert!(
        elapsed >= IDLE && elapsed < IDLE * 2 + Duration::from_millis(500),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn a_download_body_that_stops_is_resumed_where_it_stopped() {
    let len = 300_000;
    let s = server(vec![Act::Resumable { len, sent: 70_000 }]).await;
    let c = client(&s.base, fast(2));
    let d = rt::download::<_, _, _, Value, Value, Untyped>(
        &c,
        &DOWNLOAD,
        &json!({"path": "/big.bin"}),
        None,
    )
    .await
    .unwrap();
    let started = Instant::now();
    let mut d = d;
    let mut body = Vec::new();
    while let Some(chunk) = d.chunk().await.unwrap() {
        body.extend_from_slice(&chunk);
    }
    assert_eq!(body.len(), len);
    assert!(
        body.iter().enumerate().all(|(i, b)| *b == byte(i)),
        "the bytes line up"
    );
    assert_eq!(d.resumed(), 1);
    assert_eq!(
        d.request_id.as_deref(),
        Some("req-1"),
        "the resumed response's id"
    );
    assert_eq!(
        s.requests.load(Ordering::SeqCst),
        2,
        "one resume, counted server-side"
    );
    let host = s.base.trim_start_matches("http://").to_owned();
    let ranges: Vec<String> = RANGES
        .lock()
        .unwrap()
        .iter()
        .filter(|(b, _)| *b == host)
        .map(|(_, r)| r.clone())
        .collect();
    assert_eq!(ranges, vec![String::new(), "bytes=70000-".to_owned()]);
    assert!(started.elapsed() >= IDLE && started.elapsed() < IDLE * 2 + Duration::from_secs(1));
}

#[tokio::test]
async fn a_trickling_server_is_caught_by_the_idle_rule() {
    let s = server(vec![Act::Trickle {
        len: 10_000,
        every: Duration::from_millis(20),
    }])
    .await;
    let started = Instant::now();
    let err = rpc(&client(&s.base, fast(1)), &READ).await.unwrap_err();
    // 50 bytes a second is below 1 KiB per idle period: idle, although bytes still arrive.
    assert_idle(&err, 2, started.elapsed());
    assert_eq!(s.requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn retry_after_is_waited_out_then_the_call_succeeds() {
    let s = server(vec![
        Act::Answer(
            429,
            vec![("retry-after", "2")],
            r#"{"error_summary":"too_many_requests/","error":{"reason":{".tag":"too_many_requests"},"retry_after":2}}"#,
        ),
        Act::Answer(200, vec![], r#"{"entries":[]}"#),
    ])
    .await;
    let v = rpc(&client(&s.base, fast(3)), &READ).await.unwrap();
    assert_eq!(v, json!({"entries": []}));
    let at = s.arrivals.lock().unwrap().clone();
    assert_eq!(at.len(), 2);
    assert!(
        at[1] - at[0] >= Duration::from_secs(2),
        "{:?}",
        at[1] - at[0]
    );
}

#[tokio::test]
async fn no_retries_means_exactly_one_attempt() {
    let s = server(vec![Act::Answer(503, vec![], "busy")]).await;
    let err = rpc(&client(&s.base, RetryPolicy::none()), &READ)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(s.requests.load(Ordering::SeqCst), 1);
    // A per-call override on a client whose own policy retries.
    let s = server(vec![Act::Answer(503, vec![], "busy")]).await;
    let c = client(&s.base, fast(4)).with_retry_policy(RetryPolicy::none());
    rpc(&c, &READ).await.unwrap_err();
    assert_eq!(s.requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn route_errors_that_mean_later_are_retried_others_are_not() {
    let contention = r#"{"error_summary":"path/too_many_write_operations/","error":{".tag":"path","path":{".tag":"too_many_write_operations"}}}"#;
    let s = server(vec![
        Act::Answer(409, vec![], contention),
        Act::Answer(200, vec![], "{}"),
    ])
    .await;
    rpc(&client(&s.base, fast(2)), &WRITE).await.unwrap();
    assert_eq!(s.requests.load(Ordering::SeqCst), 2);
    let conflict =
        r#"{"error_summary":"path/conflict/","error":{".tag":"path","path":{".tag":"conflict"}}}"#;
    let s = server(vec![Act::Answer(409, vec![], conflict)]).await;
    let err = rpc(&client(&s.base, fast(2)), &WRITE).await.unwrap_err();
    assert_eq!(s.requests.load(Ordering::SeqCst), 1);
    assert!(!err.is_transient());
    assert_eq!(err.request_id(), Some("req-0"));
    assert_eq!(
        err.to_string(),
        "Dropbox refused the request (409): path/conflict/ (request id req-0)"
    );
}

#[tokio::test]
async fn the_call_timeout_ends_the_call_and_the_attempt_timeout_each_attempt() {
    let s = server(vec![Act::Stall]).await;
    let c = ClientBuilder::new()
        .access_token("t")
        .base_url(&s.base)
        .idle_timeout(Duration::from_secs(30))
        .call_timeout(Duration::from_millis(700))
        .retry_policy(fast(5))
        .build_user()
        .unwrap();
    let started = Instant::now();
    let err = rpc(&c, &READ).await.unwrap_err();
    assert_eq!(err.timeout().map(|t| t.0), Some(TimeoutKind::Call), "{err}");
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert_eq!(s.requests.load(Ordering::SeqCst), 1);

    let s = server(vec![Act::Stall]).await;
    let c = ClientBuilder::new()
        .access_token("t")
        .base_url(&s.base)
        .idle_timeout(Duration::from_secs(30))
        .attempt_timeout(Duration::from_millis(300))
        .retry_policy(fast(2))
        .build_user()
        .unwrap();
    let started = Instant::now();
    let err = rpc(&c, &READ).await.unwrap_err();
    assert_eq!(
        err.timeout().map(|t| t.0),
        Some(TimeoutKind::Attempt),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_millis(2000));
    assert_eq!(s.requests.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_tls_handshake_that_never_completes_is_a_connect_timeout() {
    // Accepts TCP connections and reads, but never speaks TLS.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicU32::new(0));
    let a = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            a.fetch_add(1, Ordering::SeqCst);
            held.push(s);
        }
    });
    let c = ClientBuilder::new()
        .access_token("t")
        .base_url(&format!("https://127.0.0.1:{port}"))
        .connect_timeout(Duration::from_millis(300))
        .idle_timeout(Duration::from_secs(30))
        .retry_policy(fast(1))
        .build_user()
        .unwrap();
    let started = Instant::now();
    let err = rpc(&c, &READ).await.unwrap_err();
    assert_eq!(
        err.timeout().map(|t| t.0),
        Some(TimeoutKind::Connect),
        "{err}"
    );
    assert!(err.is_transient());
    assert!(started.elapsed() < Duration::from_millis(2000));
    assert_eq!(accepted.load(Ordering::SeqCst), 2, "retried once");
}

/// One `after_attempt`: attempt, outcome, request id, retry delay.
type Seen = (u32, String, Option<String>, Option<Duration>);

/// Records what the hooks see.
#[derive(Default)]
struct Recorder {
    before: Mutex<Vec<u32>>,
    after: Mutex<Vec<Seen>>,
}

impl Interceptor for Recorder {
    fn before_attempt(&self, start: &AttemptStart<'_>, request: &mut reqwest::Request) {
        self.before.lock().unwrap().push(start.attempt);
        request
            .headers_mut()
            .insert("x-test-attempt", start.attempt.to_string().parse().unwrap());
        // The token is sent but never shown.
        assert!(!format!("{request:?}").contains("Bearer t"));
    }

    fn after_attempt(&self, end: &AttemptEnd<'_>) {
        let outcome = match end.outcome {
            Outcome::Status(s) => s.to_string(),
            Outcome::Timeout(k) => k.to_string(),
            other => format!("{other:?}"),
        };
        self.after.lock().unwrap().push((
            end.attempt,
            outcome,
            end.request_id.map(str::to_owned),
            end.retry_in,
        ));
    }
}

#[tokio::test]
async fn interceptors_see_every_attempt_and_its_fate() {
    let s = server(vec![
        Act::Answer(500, vec![], "oops"),
        Act::Stall,
        Act::Answer(200, vec![], "{}"),
    ])
    .await;
    let recorder = Arc::new(Recorder::default());
    let c = ClientBuilder::new()
        .access_token("t")
        .base_url(&s.base)
        .idle_timeout(IDLE)
        .retry_policy(fast(3))
        .interceptor(recorder.clone())
        .build_user()
        .unwrap();
    rpc(&c, &READ).await.unwrap();
    assert_eq!(*recorder.before.lock().unwrap(), vec![1, 2, 3]);
    let after = recorder.after.lock().unwrap().clone();
    assert_eq!(after.len(), 3);
    assert_eq!((after[0].0, after[0].1.as_str()), (1, "500"));
    assert_eq!(after[0].2.as_deref(), Some("req-0"));
    assert!(after[0].3.is_some());
    assert_eq!((after[1].0, after[1].1.as_str()), (2, "idle"));
    assert!(after[1].3.is_some());
    assert_eq!(
        (after[2].0, after[2].1.as_str(), after[2].3),
        (3, "200", None)
    );
}
