//! The request lifecycle: the one function every rpc, upload and download call goes through.
//!
//! ```text
//! call ── attempt ──> response ──> success ───────────────────────────> value
//!            ^            │
//!            │            └──> classify: permanent ─────────────────────> error
//!            │                           expired token (once) ── refresh ─┐
//!            │                           refused (429, 503, too_many_write_operations,
//!            │                                    connect failure) ───────┤
//!            │                           lost answer (reset, timeout, 500/502/504):
//!            │                               idempotent route or LostAnswer::Retry ─┤
//!            └──────── wait: max(Retry-After, full-jitter backoff) <───────────────┘
//! ```
//!
//! Each attempt runs under the idle watchdog ([`crate::stall`]), the per-attempt timeout and
//! the call's deadline; interceptors ([`crate::hooks`]) see each attempt before and after;
//! a `tracing` span per call carries the route, an event per attempt its number and outcome.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RANGE, USER_AGENT};
use serde::de::DeserializeOwned;
use tracing::Instrument as _;

use crate::classify::RouteError;
use crate::download::ByteRange;
use crate::error::{Class, Error, ErrorTypes, TimeoutKind};
use crate::hooks::{AttemptEnd, AttemptStart, Outcome};
use crate::retry::LostAnswer;
use crate::route::{RouteSpec, Style};
use crate::secret::Secret;
use crate::stall::{self, Activity, Counted};
use crate::status::{Failed, error_from_status, tag_of};
use crate::token::TokenError;
use crate::transport::Transport;

/// The request body of a call.
pub(crate) enum Payload {
    /// No body.
    Empty,
    /// A JSON argument (rpc).
    Json(Bytes),
    /// Bytes in memory (upload), shared between attempts.
    Bytes(Bytes),
    /// A stream (upload), sent once: taken by the first attempt.
    Stream(Option<reqwest::Body>),
}

impl Payload {
    /// The body for the next attempt, counting into `activity`; `Err` when a stream was
    /// already sent and cannot be sent again.
    fn for_attempt(&mut self, activity: &Arc<Activity>) -> Result<Option<Counted>, ()> {
        Ok(Some(match self {
            Payload::Empty => return Ok(None),
            Payload::Json(b) | Payload::Bytes(b) => Counted::bytes(b.clone(), activity.clone()),
            Payload::Stream(s) => Counted::stream(s.take().ok_or(())?, activity.clone()),
        }))
    }

    /// Whether another attempt could send the body again.
    fn resendable(&self) -> bool {
        !matches!(self, Payload::Stream(None))
    }
}

/// One route call, as the lifecycle sends it.
pub(crate) struct Call {
    route: &'static RouteSpec,
    payload: Payload,
    arg_header: Option<HeaderValue>,
    range: Option<ByteRange>,
    /// Hand back the response with its body unread (downloads).
    pub(crate) stream_response: bool,
    /// Send to this URL instead of the route's (a temporary upload link: a secret).
    pub(crate) url: Option<Secret>,
    /// Hand back every answer but 429 and 5xx as it is, for the caller to read (requests
    /// outside the API routes, whose statuses mean other things).
    pub(crate) raw_statuses: bool,
}

impl Call {
    pub(crate) fn new(
        route: &'static RouteSpec,
        payload: Payload,
        arg_header: Option<HeaderValue>,
        range: Option<ByteRange>,
    ) -> Self {
        Call {
            route,
            payload,
            arg_header,
            range,
            stream_response: false,
            url: None,
            raw_statuses: false,
        }
    }
}

/// A successful answer.
pub(crate) enum Received {
    /// The whole body (rpc and upload routes).
    Body {
        bytes: Bytes,
        status: u16,
        request_id: Option<String>,
        /// Attempts made, the successful one included.
        attempts: u32,
    },
    /// The response with its body still to read (download routes).
    Stream {
        response: reqwest::Response,
        request_id: Option<String>,
    },
}

impl Received {
    fn request_id(&self) -> Option<&str> {
        match self {
            Received::Body { request_id, .. } | Received::Stream { request_id, .. } => {
                request_id.as_deref()
            }
        }
    }

    fn status(&self) -> u16 {
        match self {
            Received::Body { status, .. } => *status,
            Received::Stream { response, .. } => response.status().as_u16(),
        }
    }
}

/// A failed attempt.
struct Failure<E, P: ErrorTypes> {
    error: Error<E, P>,
    /// Dropbox said `expired_access_token`.
    expired_token: bool,
}

impl<E, P: ErrorTypes> From<Error<E, P>> for Failure<E, P> {
    fn from(error: Error<E, P>) -> Self {
        Failure {
            error,
            expired_token: false,
        }
    }
}

/// What the attempt's watchdogs saw.
#[derive(Default)]
struct Watched {
    activity: Arc<Activity>,
    request_id: OnceLock<String>,
}

fn transport_error<E, P: ErrorTypes>(e: reqwest::Error, connect_timeout: Duration) -> Error<E, P> {
    if e.is_connect() && e.is_timeout() {
        return Error::Timeout {
            kind: TimeoutKind::Connect,
            after: connect_timeout,
            request_id: None,
        };
    }
    Error::Transport {
        source: e.without_url(),
        request_id: None,
    }
}

/// Resolves after `d`, or never.
async fn sleep_or_never(d: Option<Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

/// Runs `fut` under the per-attempt timeout and the call's deadline.
async fn bounded<T, E, P: ErrorTypes>(
    fut: impl Future<Output = Result<T, Failure<E, P>>>,
    watched: &Watched,
    idle: Option<stall::IdleRule>,
    attempt_timeout: Option<Duration>,
    call_left: Option<(Duration, Duration)>,
) -> Result<T, Failure<E, P>> {
    let request_id = || watched.request_id.get().cloned();
    tokio::select! {
        biased;
        r = fut => r,
        after = stall::watch(&watched.activity, idle) => Err(Error::Timeout {
            kind: TimeoutKind::Idle,
            after,
            request_id: request_id(),
        }
        .into()),
        () = sleep_or_never(attempt_timeout) => Err(Error::Timeout {
            kind: TimeoutKind::Attempt,
            after: attempt_timeout.unwrap_or_default(),
            request_id: request_id(),
        }
        .into()),
        () = sleep_or_never(call_left.map(|(left, _)| left)) => Err(Error::Timeout {
            kind: TimeoutKind::Call,
            after: call_left.map(|(_, total)| total).unwrap_or_default(),
            request_id: request_id(),
        }
        .into()),
    }
}

impl Transport {
    /// Sends `call` until it succeeds, fails for good, or the retry policy or a timeout ends it.
    pub(crate) async fn execute<E, P>(&self, call: Call) -> Result<Received, Error<E, P>>
    where
        E: DeserializeOwned + RouteError,
        P: ErrorTypes,
    {
        let span = tracing::debug_span!(
            target: "dropbox_api_runtime",
            "dropbox_call",
            route = call.route.path,
        );
        self.run(call).instrument(span).await
    }

    async fn run<E, P>(&self, mut call: Call) -> Result<Received, Error<E, P>>
    where
        E: DeserializeOwned + RouteError,
        P: ErrorTypes,
    {
        let route = call.route;
        let policy = &self.config.retry;
        let timeouts = self.config.timeouts;
        let started = Instant::now();
        let provider = self.credentials.provider().cloned();
        let mut refreshed = false;
        // Attempts that count against the policy (a token refresh does not).
        let mut counted = 0u32;
        let mut attempt = 0u32;
        let mut stale: Option<Secret> = None;
        loop {
            attempt += 1;
            counted += 1;
            let attempt_started = Instant::now();
            let call_left = timeouts
                .call
                .map(|total| (total.saturating_sub(started.elapsed()), total));
            // The token: cached, or fetched within the idle bound.
            let token = match &provider {
                None => None,
                Some(p) => {
                    let limit = timeouts
                        .idle
                        .or(timeouts.attempt)
                        .unwrap_or(timeouts.connect);
                    let fetch = async {
                        match stale.take() {
                            Some(old) => p.refresh(&old).await,
                            None => p.token().await,
                        }
                    };
                    match tokio::time::timeout(limit, fetch).await {
                        Ok(Ok(t)) => Some(t),
                        Ok(Err(e)) => {
                            self.after(route, attempt, Outcome::Token, attempt_started, None, None);
                            return Err(Error::Token(e));
                        }
                        Err(_) => {
                            self.after(route, attempt, Outcome::Token, attempt_started, None, None);
                            return Err(Error::Token(TokenError::Transport(format!(
                                "no answer from the token endpoint within {:.1} s",
                                limit.as_secs_f64()
                            ))));
                        }
                    }
                }
            };
            let watched = Watched::default();
            let result = bounded(
                self.attempt(&mut call, token.as_ref(), attempt, &watched),
                &watched,
                timeouts.idle_rule(),
                timeouts.attempt,
                call_left,
            )
            .await;
            let failure = match result {
                Ok(mut received) => {
                    if let Received::Body { attempts, .. } = &mut received {
                        *attempts = attempt;
                    }
                    let status = received.status();
                    tracing::debug!(target: "dropbox_api_runtime", route = route.path, attempt, status, "dropbox request");
                    self.after(
                        route,
                        attempt,
                        Outcome::Status(status),
                        attempt_started,
                        received.request_id(),
                        None,
                    );
                    return Ok(received);
                }
                Err(f) => f,
            };
            let error = failure.error;
            let outcome = outcome_of(&error);
            // An expired token is refreshed once, and the request sent again at once.
            if failure.expired_token
                && !refreshed
                && call.payload.resendable()
                && provider.as_ref().is_some_and(|p| p.can_refresh())
            {
                refreshed = true;
                counted -= 1;
                stale = token;
                self.after(
                    route,
                    attempt,
                    outcome,
                    attempt_started,
                    error.request_id(),
                    Some(Duration::ZERO),
                );
                continue;
            }
            let hint = match error.class() {
                Class::Permanent => None,
                Class::Refused(hint) => Some(hint),
                Class::Lost => match policy.lost_answer {
                    LostAnswer::Retry => Some(None),
                    LostAnswer::RetryIdempotent if route.idempotent => Some(None),
                    LostAnswer::RetryIdempotent | LostAnswer::Fail => None,
                },
            };
            let delay = hint.and_then(|hint| {
                if counted >= policy.max_attempts.max(1) || !call.payload.resendable() {
                    return None;
                }
                let delay = policy.backoff(counted, hint);
                let elapsed = started.elapsed();
                let past_deadline =
                    |limit: Option<Duration>| limit.is_some_and(|d| elapsed + delay > d);
                if past_deadline(policy.deadline) || past_deadline(timeouts.call) {
                    return None;
                }
                Some(delay)
            });
            tracing::debug!(
                target: "dropbox_api_runtime",
                route = route.path,
                attempt,
                status = error.status(),
                error = %error,
                retry_in = ?delay,
                "dropbox request failed"
            );
            self.after(
                route,
                attempt,
                outcome,
                attempt_started,
                error.request_id(),
                delay,
            );
            match delay {
                Some(d) => tokio::time::sleep(d).await,
                None => return Err(error),
            }
        }
    }

    fn after(
        &self,
        route: &'static RouteSpec,
        attempt: u32,
        outcome: Outcome<'_>,
        started: Instant,
        request_id: Option<&str>,
        retry_in: Option<Duration>,
    ) {
        if self.interceptors.is_empty() {
            return;
        }
        let end = AttemptEnd {
            route,
            attempt,
            outcome,
            elapsed: started.elapsed(),
            request_id,
            retry_in,
        };
        for i in self.interceptors.iter() {
            i.after_attempt(&end);
        }
    }

    fn headers(&self, call: &Call, token: Option<&Secret>) -> Result<HeaderMap, TokenError> {
        let mut headers = HeaderMap::new();
        // A post to an address outside the routes (a temporary link) never carries the
        // client's credentials.
        if call.url.is_none()
            && let Some(v) = self.credentials.header(token)?
        {
            headers.insert(AUTHORIZATION, v);
        }
        if let Ok(ua) = HeaderValue::from_str(&self.config.user_agent) {
            headers.insert(USER_AGENT, ua);
        }
        if let Some(select) = &self.select {
            let (name, id) = select.header();
            if let Ok(v) = HeaderValue::from_str(id) {
                headers.insert(name, v);
            }
        }
        if let Some(root) = &self.path_root {
            headers.insert("dropbox-api-path-root", root.clone());
        }
        if let Some(arg) = &call.arg_header {
            headers.insert("dropbox-api-arg", arg.clone());
        }
        match call.route.style {
            Style::Rpc => {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            }
            Style::Upload => {
                headers.insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/octet-stream"),
                );
            }
            Style::Download => {}
        }
        if let Some(r) = call.range
            && let Ok(v) = HeaderValue::from_str(&r.header_value())
        {
            headers.insert(RANGE, v);
        }
        Ok(headers)
    }

    /// One attempt: send, await the answer, read its body (unless streamed).
    async fn attempt<E, P>(
        &self,
        call: &mut Call,
        token: Option<&Secret>,
        attempt: u32,
        watched: &Watched,
    ) -> Result<Received, Failure<E, P>>
    where
        E: DeserializeOwned + RouteError,
        P: ErrorTypes,
    {
        let route = call.route;
        let connect_timeout = self.config.timeouts.connect;
        let headers = self.headers(call, token).map_err(Error::Token)?;
        let url = match &call.url {
            Some(u) => u.expose().to_owned(),
            None => self.url(route),
        };
        let mut builder = self.http.post(url).headers(headers);
        match call.payload.for_attempt(&watched.activity) {
            Ok(Some(body)) => builder = builder.body(reqwest::Body::wrap(body)),
            Ok(None) => {}
            Err(()) => {
                return Err(Error::Decode {
                    route: route.path,
                    message: "a streamed body cannot be sent twice".into(),
                    request_id: None,
                }
                .into());
            }
        }
        let mut request = builder
            .build()
            .map_err(|e| transport_error::<E, P>(e, connect_timeout))?;
        if !self.interceptors.is_empty() {
            let start = AttemptStart {
                route,
                attempt,
                url_is_secret: call.url.is_some(),
            };
            for i in self.interceptors.iter() {
                i.before_attempt(&start, &mut request);
            }
        }
        let mut response = self
            .http
            .execute(request)
            .await
            .map_err(|e| transport_error::<E, P>(e, connect_timeout))?;
        let request_id = response
            .headers()
            .get("x-dropbox-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if let Some(id) = &request_id {
            let _ = watched.request_id.set(id.clone());
        }
        let status = response.status().as_u16();
        let success = response.status().is_success();
        if success && call.stream_response {
            return Ok(Received::Stream {
                response,
                request_id,
            });
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let is_json = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let mut body = BytesMut::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    watched.activity.add(chunk.len() as u64);
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(transport_error::<E, P>(e, connect_timeout)
                        .with_request_id(request_id.as_deref())
                        .into());
                }
            }
        }
        let bytes = body.freeze();
        let answer = success || (call.raw_statuses && status != 429 && status < 500);
        if answer {
            return Ok(Received::Body {
                bytes,
                status,
                request_id,
                attempts: attempt,
            });
        }
        let expired_token =
            status == 401 && tag_of(&bytes).as_deref() == Some("expired_access_token");
        let error = error_from_status(&Failed {
            status,
            body: &bytes,
            is_json,
            retry_after,
            request_id: request_id.as_deref(),
        });
        Err(Failure {
            error,
            expired_token,
        })
    }
}

fn outcome_of<E, P: ErrorTypes>(error: &Error<E, P>) -> Outcome<'static> {
    match error {
        Error::Timeout { kind, .. } => Outcome::Timeout(*kind),
        Error::Token(_) => Outcome::Token,
        Error::Transport { source, .. } if source.is_connect() => {
            Outcome::Transport("connection failed")
        }
        Error::Transport { .. } => Outcome::Transport("connection lost"),
        other => Outcome::Status(other.status().unwrap_or(0)),
    }
}
