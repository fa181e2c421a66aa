//! HTTP plumbing: the accept loop, per-connection kill switches (for injected resets),
//! lingering close, and the layer every request goes through (route naming, counters,
//! request log, fault injection).

use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use futures_util::task::AtomicWaker;
use http::{Request, Response};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, Interest, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::faults::{FaultAction, STALL_CAP};
use crate::state::Shared;

/// A connection's controls: lets a request handler drop its connection with a TCP reset,
/// and hold it open (an injected stall) until the client closes it or the connection ends.
#[derive(Debug)]
pub(crate) struct KillSwitch {
    killed: AtomicBool,
    waker: AtomicWaker,
    /// The socket, for watching it during a stall (hyper owns the strong reference).
    stream: Weak<TcpStream>,
    /// Cancelled when the connection task ends (also when it is aborted at shutdown).
    closed: CancellationToken,
}

impl KillSwitch {
    /// Resets the connection at the next I/O.
    pub(crate) fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.waker.wake();
    }

    fn is_killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }
}

/// A future that ends a stall.
type StallFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Holds a stalled connection: resolves when the client closes the connection (or resets
/// it), when the connection task ends (the emulator stops), or after [`STALL_CAP`].
///
/// A client that closes while the socket's receive window is full of body bytes nobody
/// reads cannot deliver its FIN; that stall lasts until the cap.
fn stall(kill: &KillSwitch) -> StallFuture {
    stall_for(kill, STALL_CAP)
}

/// A stall that ends after `cap` at the latest.
fn stall_for(kill: &KillSwitch, cap: Duration) -> StallFuture {
    let stream = kill.stream.upgrade();
    let closed = kill.closed.clone();
    Box::pin(async move {
        let peer = async {
            match &stream {
                Some(s) => peer_closed(s).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = peer => {}
            _ = closed.cancelled() => {}
            _ = tokio::time::sleep(cap) => {}
        }
    })
}

/// Resolves once the peer has closed (or reset) the connection, without reading from it.
async fn peer_closed(s: &TcpStream) {
    loop {
        match s.ready(Interest::READABLE).await {
            Err(_) => return,
            Ok(r) if r.is_read_closed() || r.is_error() => return,
            Ok(_) => {
                // Data nobody reads (a stalled body): clear the readiness and wait for
                // the next event on the socket.
                let _ = s.try_io(Interest::READABLE, || {
                    Err::<(), _>(io::Error::from(io::ErrorKind::WouldBlock))
                });
            }
        }
    }
}

/// A TCP stream that fails all I/O (and closes with RST) once its switch is thrown. The
/// stream is shared (with a stall watching it), so I/O goes through the `&self` readiness
/// API of tokio's `TcpStream`.
struct KillableIo {
    inner: Arc<TcpStream>,
    kill: Arc<KillSwitch>,
}

impl KillableIo {
    fn check(&mut self, cx: &mut Context<'_>) -> Result<(), io::Error> {
        self.kill.waker.register(cx.waker());
        if self.kill.is_killed() {
            let _ = self.inner.set_zero_linger();
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "connection reset (injected fault)",
            ));
        }
        Ok(())
    }
}

impl AsyncRead for KillableIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Err(e) = self.check(cx) {
            return Poll::Ready(Err(e));
        }
        loop {
            if let Err(e) = std::task::ready!(self.inner.poll_read_ready(cx)) {
                return Poll::Ready(Err(e));
            }
            match self.inner.try_read_buf(buf) {
                Ok(_) => return Poll::Ready(Ok(())),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for KillableIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Err(e) = self.check(cx) {
            return Poll::Ready(Err(e));
        }
        loop {
            if let Err(e) = std::task::ready!(self.inner.poll_write_ready(cx)) {
                return Poll::Ready(Err(e));
            }
            match self.inner.try_write(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                r => return Poll::Ready(r),
            }
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Err(e) = self.check(cx) {
            return Poll::Ready(Err(e));
        }
        loop {
            if let Err(e) = std::task::ready!(self.inner.poll_write_ready(cx)) {
                return Poll::Ready(Err(e));
            }
            match self.inner.try_write_vectored(bufs) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                r => return Poll::Ready(r),
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Err(e) = self.check(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // hyper does not shut the connection down (`without_shutdown`): the connection
        // task does, after the lingering close below.
        if let Err(e) = self.check(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(()))
    }
}

/// Runs the accept loop until `shutdown` turns true.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
            }
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                conns.spawn(connection(stream, router.clone(), shared.clone()));
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    conns.shutdown().await;
}

async fn connection(stream: TcpStream, router: Router, shared: Arc<Shared>) {
    let stream = Arc::new(stream);
    let kill = Arc::new(KillSwitch {
        killed: AtomicBool::new(false),
        waker: AtomicWaker::new(),
        stream: Arc::downgrade(&stream),
        closed: CancellationToken::new(),
    });
    // Ends any stall of this connection when the task ends or is aborted.
    let _closed = kill.closed.clone().drop_guard();
    let io = TokioIo::new(KillableIo {
        inner: stream,
        kill: kill.clone(),
    });
    let conn_kill = kill.clone();
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let router = router.clone();
        let shared = shared.clone();
        let kill = conn_kill.clone();
        async move { Ok::<_, Infallible>(handle(req, router, shared, kill).await) }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30))
        .half_close(true)
        .max_buf_size(1024 * 1024);
    let conn = builder.serve_connection(io, service).without_shutdown();
    if let Ok(parts) = conn.await {
        if kill.is_killed() {
            return;
        }
        // Lingering close: the client may still be sending a body we chose not to read
        // (for example past the payload limit). Closing with unread data would reset the
        // connection and could destroy our response before the client reads it, so send
        // FIN and discard what is still in flight for a bounded time.
        let io = parts.io.into_inner();
        let Ok(mut stream) = Arc::try_unwrap(io.inner) else {
            return;
        };
        let _ = stream.shutdown().await;
        let mut sink = vec![0u8; 64 * 1024];
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut budget: u64 = 512 * 1024 * 1024;
        while budget > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match tokio::time::timeout(left, stream.read(&mut sink)).await {
                Ok(Ok(n)) if n > 0 => budget = budget.saturating_sub(n as u64),
                _ => break,
            }
        }
    }
}

/// The route name used for stats, logs and fault globs. Never contains secrets (the id of a
/// temporary upload link is dropped).
pub(crate) fn route_label(path: &str) -> String {
    if let Some(rest) = path.strip_prefix("/2/") {
        if let Some(name) = crate::api::routes::known_name(rest) {
            return name.to_string();
        }
        // Revoke is served by the OAuth module with the runtime's own route description
        // (our specs do not describe it).
        let revoke = dropbox_api::oauth::TOKEN_REVOKE;
        if path == revoke.path {
            return format!("{}/{}", revoke.namespace, revoke.name);
        }
        return "(unknown)".into();
    }
    if path.starts_with("/apitul/1/") {
        return "apitul/1".into();
    }
    match path {
        "/1/chunked_upload" => return "1/chunked_upload".into(),
        "/oauth2/token" => return "oauth2/token".into(),
        "/oauth2/authorize" => return "oauth2/authorize".into(),
        "/__emulator/faults" | "/__emulator/stats" | "/__emulator/clock" => {
            return path[1..].to_string();
        }
        _ => {}
    }
    if path.starts_with("/1/commit_chunked_upload/") {
        return "1/commit_chunked_upload".into();
    }
    if path.starts_with("/__emulator/faults/") {
        return "__emulator/faults".into();
    }
    "(unknown)".into()
}

async fn handle(
    req: Request<Incoming>,
    router: Router,
    shared: Arc<Shared>,
    kill: Arc<KillSwitch>,
) -> Response<Body> {
    let route = route_label(req.uri().path());
    shared.stats.begin(&route);
    let bytes_in = Arc::new(AtomicU64::new(0));
    // Records the request when dropped, also if hyper drops this future because the
    // connection died (status 0 then).
    let mut log = RequestLog {
        shared: shared.clone(),
        route: route.clone(),
        method: req.method().clone(),
        status: 0,
        started: Instant::now(),
        bytes_in: bytes_in.clone(),
        bytes_out: 0,
    };
    let control = route.starts_with("__emulator/");
    let decision = if control {
        Default::default()
    } else {
        shared.faults.decide(&route)
    };
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    let reset_after = match &decision.action {
        Some(FaultAction::ResetAfterBytes { bytes }) => Some(*bytes),
        _ => None,
    };
    let stall_after = match &decision.action {
        Some(FaultAction::StallRequestBody { bytes }) => Some(*bytes),
        _ => None,
    };
    let declared = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let req = req.map(|body| {
        Body::new(CountingBody {
            inner: body,
            shared: shared.clone(),
            route: route.clone(),
            count: bytes_in.clone(),
            reset_after,
            stall_after,
            stall: None,
            idle_limit: shared.limits.body_idle_timeout,
            idle: None,
            declared,
            kill: kill.clone(),
            done: false,
        })
    });
    let response = match &decision.action {
        Some(FaultAction::ResetAfterBytes { bytes: 0 }) => {
            // Nothing of the body is read: reset right away.
            kill.kill();
            crate::api::injected_status(500)
        }
        Some(FaultAction::InternalError) => crate::api::injected_status(500),
        Some(FaultAction::ServiceUnavailable) => crate::api::injected_status(503),
        Some(FaultAction::RateLimited {
            retry_after,
            reason,
        }) => crate::api::injected_rate_limit(*retry_after, *reason),
        _ => match router.oneshot(req).await {
            Ok(r) => r,
            Err(never) => match never {},
        },
    };
    // A stalled request body ends in a reset (the kill switch is thrown); a handler that
    // answered without reading its body stalls here all the same.
    let stall_here = matches!(
        decision.action,
        Some(FaultAction::StallBeforeResponse) | Some(FaultAction::StallRequestBody { .. })
    );
    if stall_here && !kill.is_killed() {
        stall(&kill).await;
        kill.kill();
    }
    let reset =
        kill.is_killed() || matches!(decision.action, Some(FaultAction::ResetBeforeResponse));
    if reset {
        kill.kill();
    }
    log.status = if reset { 0 } else { response.status().as_u16() };
    let (mut parts, body) = response.into_parts();
    // Every answer carries a request id, as Dropbox's do (support asks for it).
    if !control && let Ok(id) = http::HeaderValue::from_str(&crate::ids::request_id()) {
        parts.headers.insert("x-dropbox-request-id", id);
    }
    let body = match decision.action {
        Some(FaultAction::StallResponseBody { bytes }) if !reset => Body::new(ShapedBody::new(
            body,
            Shape::StallAfter(bytes),
            kill.clone(),
        )),
        Some(FaultAction::Trickle { interval_millis }) if !reset => Body::new(ShapedBody::new(
            body,
            Shape::Trickle(Duration::from_millis(interval_millis)),
            kill.clone(),
        )),
        _ => body,
    };
    Response::from_parts(parts, Body::new(LoggedBody { inner: body, log }))
}

fn reset_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionReset,
        "connection reset (injected fault)",
    )
}

/// The request body, counted (for stats), optionally cut by an injected reset or stalled,
/// and checked against its `Content-Length` (a body that ends early is an error, never a
/// short success).
struct CountingBody {
    inner: Incoming,
    shared: Arc<Shared>,
    route: String,
    count: Arc<AtomicU64>,
    reset_after: Option<u64>,
    /// Stop reading after this many bytes (an injected stall).
    stall_after: Option<u64>,
    /// The running stall; when it ends the body fails.
    stall: Option<StallFuture>,
    /// The server's patience with a body that makes no progress.
    idle_limit: Duration,
    /// When the body has waited that long for its next bytes.
    idle: Option<Pin<Box<tokio::time::Sleep>>>,
    declared: Option<u64>,
    kill: Arc<KillSwitch>,
    done: bool,
}

impl http_body::Body for CountingBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        loop {
            if let Some(stall) = self.stall.as_mut() {
                std::task::ready!(stall.as_mut().poll(cx));
                self.stall = None;
                self.done = true;
                self.kill.kill();
            }
            if self.done {
                return Poll::Ready(Some(Err(reset_error())));
            }
            let seen = self.count.load(Ordering::SeqCst);
            if self.stall_after.is_some_and(|limit| seen >= limit) {
                self.stall = Some(stall_for(&self.kill, self.idle_limit));
                continue;
            }
            let frame = match Pin::new(&mut self.inner).poll_frame(cx) {
                Poll::Pending => {
                    let limit = self.idle_limit;
                    let idle = self
                        .idle
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                    if idle.as_mut().poll(cx).is_ready() {
                        // The client stopped sending: give up on the request.
                        self.done = true;
                        self.kill.kill();
                        return Poll::Ready(Some(Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "no request body bytes within the server's body idle timeout",
                        ))));
                    }
                    return Poll::Pending;
                }
                Poll::Ready(None) => {
                    if self.stall_after.is_some() {
                        // The whole body is shorter than the stall point: stall at its end.
                        self.stall = Some(stall_for(&self.kill, self.idle_limit));
                        continue;
                    }
                    if self.declared.is_some_and(|n| n != seen) {
                        return Poll::Ready(Some(Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the body ended before its Content-Length",
                        ))));
                    }
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(io::Error::other(e)))),
                Poll::Ready(Some(Ok(f))) => f,
            };
            self.idle = None;
            let Ok(mut data) = frame.into_data() else {
                // Trailers are not used by the API; drop them.
                return Poll::Ready(None);
            };
            if let Some(limit) = self.stall_after
                && seen + data.len() as u64 > limit
            {
                data.truncate(limit.saturating_sub(seen) as usize);
            }
            if let Some(limit) = self.reset_after
                && seen + data.len() as u64 >= limit
            {
                let keep = limit.saturating_sub(seen) as usize;
                data.truncate(keep);
                self.done = true;
                self.kill.kill();
            }
            let n = data.len() as u64;
            self.count.fetch_add(n, Ordering::SeqCst);
            self.shared.stats.add_in(&self.route, n);
            if data.is_empty() {
                if self.done {
                    return Poll::Ready(Some(Err(reset_error())));
                }
                continue;
            }
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
    }

    fn is_end_stream(&self) -> bool {
        !self.done && self.stall_after.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// How an injected fault shapes a response body.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// Send this many bytes, then stall.
    StallAfter(u64),
    /// One byte per interval.
    Trickle(Duration),
}

/// A response body cut short by a stall or sent a byte at a time.
struct ShapedBody {
    inner: Body,
    shape: Shape,
    kill: Arc<KillSwitch>,
    sent: u64,
    /// Bytes taken from `inner` and not sent yet (trickle).
    pending: Bytes,
    /// Set once the body deviates from `inner` (cut or trickled): never ends early.
    shaped: bool,
    stall: Option<StallFuture>,
    tick: Option<Pin<Box<tokio::time::Sleep>>>,
    deadline: tokio::time::Instant,
}

impl ShapedBody {
    fn new(inner: Body, shape: Shape, kill: Arc<KillSwitch>) -> ShapedBody {
        ShapedBody {
            inner,
            shape,
            kill,
            sent: 0,
            pending: Bytes::new(),
            shaped: false,
            stall: None,
            tick: None,
            deadline: tokio::time::Instant::now() + STALL_CAP,
        }
    }

    fn fail(&mut self) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        self.kill.kill();
        Poll::Ready(Some(Err(axum::Error::new(reset_error()))))
    }
}

impl http_body::Body for ShapedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        loop {
            if let Some(stall) = this.stall.as_mut() {
                std::task::ready!(stall.as_mut().poll(cx));
                this.stall = None;
                return this.fail();
            }
            match this.shape {
                Shape::StallAfter(limit) => {
                    if this.sent >= limit {
                        this.shaped = true;
                        this.stall = Some(stall(&this.kill));
                        continue;
                    }
                    let frame = match std::task::ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                        None => return Poll::Ready(None),
                        Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                        Some(Ok(f)) => f,
                    };
                    let Ok(mut data) = frame.into_data() else {
                        continue;
                    };
                    let room = limit - this.sent;
                    if data.len() as u64 >= room {
                        data.truncate(room as usize);
                        this.shaped = true;
                    }
                    this.sent += data.len() as u64;
                    if data.is_empty() {
                        continue;
                    }
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                Shape::Trickle(interval) => {
                    if tokio::time::Instant::now() >= this.deadline {
                        return this.fail();
                    }
                    if this.pending.is_empty() {
                        let frame =
                            match std::task::ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                                None => return Poll::Ready(None),
                                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                                Some(Ok(f)) => f,
                            };
                        if let Ok(data) = frame.into_data() {
                            this.shaped = true;
                            this.pending = data;
                        }
                        continue;
                    }
                    if let Some(tick) = this.tick.as_mut() {
                        std::task::ready!(tick.as_mut().poll(cx));
                    }
                    let byte = this.pending.split_to(1);
                    this.sent += 1;
                    let next = tokio::time::Instant::now() + interval;
                    match this.tick.as_mut() {
                        Some(t) => t.as_mut().reset(next),
                        None => this.tick = Some(Box::pin(tokio::time::sleep_until(next))),
                    }
                    return Poll::Ready(Some(Ok(Frame::data(byte))));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        !self.shaped && self.pending.is_empty() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The response body; counts bytes and writes the request log line when it is done.
struct LoggedBody {
    inner: Body,
    log: RequestLog,
}

impl http_body::Body for LoggedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(d) = frame.data_ref()
        {
            self.log.bytes_out += d.len() as u64;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

struct RequestLog {
    shared: Arc<Shared>,
    route: String,
    method: http::Method,
    status: u16,
    started: Instant,
    bytes_in: Arc<AtomicU64>,
    bytes_out: u64,
}

impl Drop for RequestLog {
    fn drop(&mut self) {
        self.shared
            .stats
            .finish(&self.route, self.status, self.bytes_out);
        tracing::info!(
            target: "dbx_emulator::request",
            method = %self.method,
            route = %self.route,
            status = self.status,
            bytes_in = self.bytes_in.load(Ordering::SeqCst),
            bytes_out = self.bytes_out,
            millis = self.started.elapsed().as_millis() as u64,
            "request"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_hide_link_ids() {
        assert_eq!(route_label("/apitul/1/SECRET"), "apitul/1");
        assert_eq!(route_label("/2/files/upload"), "files/upload");
        assert_eq!(route_label("/2/files/nope"), "(unknown)");
        assert_eq!(
            route_label("/1/commit_chunked_upload/auto/a"),
            "1/commit_chunked_upload"
        );
        assert_eq!(route_label("/x"), "(unknown)");
    }
}
