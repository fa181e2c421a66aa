//! Emulator configuration.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::faults::FaultRule;

/// The limits Dropbox enforces (defaults are Dropbox's; tests may shrink them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum body of one upload request (`payload_too_large` beyond): 150 MiB.
    pub max_request_bytes: u64,
    /// Maximum size of an upload session (`too_large` beyond): 2^41 - 2^22 bytes.
    pub max_session_bytes: u64,
    /// Lifetime of an upload session: 7 days.
    pub session_ttl: Duration,
    /// Lifetime of a legacy v1 chunked upload: 48 hours.
    pub v1_upload_ttl: Duration,
    /// Maximum JSON body of an RPC call (the emulator's own bound, not Dropbox's): 16 MiB.
    pub max_rpc_body_bytes: u64,
    /// How long the server waits for the next bytes of a request body before it gives up on
    /// the request (which then has no effect: a session stays at its last acknowledged
    /// offset), as real servers do: 30 s. An injected `StallRequestBody` ends then too, so a
    /// stalled request never holds a session for longer.
    pub body_idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_bytes: 150 * 1024 * 1024,
            max_session_bytes: (1u64 << 41) - (1u64 << 22),
            session_ttl: Duration::from_secs(7 * 24 * 3600),
            v1_upload_ttl: Duration::from_secs(48 * 3600),
            max_rpc_body_bytes: 16 * 1024 * 1024,
            body_idle_timeout: Duration::from_secs(30),
        }
    }
}

/// An OAuth2 app known to the emulator's token endpoint.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthApp {
    /// The app key (`client_id`).
    pub client_id: String,
    /// The app secret; `None` for a PKCE-only app.
    pub client_secret: Option<String>,
}

impl fmt::Debug for OAuthApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthApp")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl Default for OAuthApp {
    fn default() -> Self {
        OAuthApp {
            client_id: "dbx-emulator-app".into(),
            client_secret: Some("dbx-emulator-secret".into()),
        }
    }
}

/// How to start an emulator.
#[derive(Clone)]
pub struct EmulatorConfig {
    /// Port on 127.0.0.1 (0 picks a free one).
    pub port: u16,
    /// Data directory; `None` uses a temporary directory kept alive by the handle.
    pub data_dir: Option<PathBuf>,
    /// The development access token (never expires); `None` generates one.
    pub access_token: Option<String>,
    /// Lifetime of access tokens issued by `/oauth2/token`.
    pub access_token_lifetime: Duration,
    /// Apps accepted by `/oauth2/token`.
    pub apps: Vec<OAuthApp>,
    /// The clock (tests inject a [`ManualClock`](crate::ManualClock)).
    pub clock: Arc<dyn Clock>,
    /// Dropbox's limits.
    pub limits: Limits,
    /// Fault-injection rules active from the start.
    pub faults: Vec<FaultRule>,
    /// Seed for probabilistic faults (same seed and call order, same faults).
    pub fault_seed: u64,
    /// When true, concurrent `upload_session/finish` calls into the same folder contend:
    /// the later one gets `too_many_write_operations`.
    pub contend_finish_in_folder: bool,
    /// Simulated commit time of `finish`, `finish_batch` and `finish_batch_v2` (zero by
    /// default), so tests can make calls overlap and watch async jobs in progress.
    pub commit_latency: Duration,
    /// fsync data and metadata before acknowledging (default true).
    pub durable: bool,
}

impl fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("port", &self.port)
            .field("data_dir", &self.data_dir)
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "<redacted>"),
            )
            .field("access_token_lifetime", &self.access_token_lifetime)
            .field("apps", &self.apps)
            .field("limits", &self.limits)
            .field("faults", &self.faults)
            .field("fault_seed", &self.fault_seed)
            .field("contend_finish_in_folder", &self.contend_finish_in_folder)
            .field("commit_latency", &self.commit_latency)
            .field("durable", &self.durable)
            .finish_non_exhaustive()
    }
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            port: 0,
            data_dir: None,
            access_token: None,
            access_token_lifetime: Duration::from_secs(4 * 3600),
            apps: vec![OAuthApp::default()],
            clock: Arc::new(SystemClock),
            limits: Limits::default(),
            faults: Vec::new(),
            fault_seed: 0,
            contend_finish_in_folder: false,
            commit_latency: Duration::ZERO,
            durable: true,
        }
    }
}

impl EmulatorConfig {
    /// Sets the port.
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
    /// Sets the data directory.
    pub fn with_data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }
    /// Sets the development access token.
    pub fn with_access_token(mut self, token: impl Into<String>) -> Self {
        self.access_token = Some(token.into());
        self
    }
    /// Sets the clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
    /// Sets the limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
    /// Adds a fault rule.
    pub fn with_fault(mut self, rule: FaultRule) -> Self {
        self.faults.push(rule);
        self
    }
    /// Sets the fault seed.
    pub fn with_fault_seed(mut self, seed: u64) -> Self {
        self.fault_seed = seed;
        self
    }
    /// Sets the simulated commit latency.
    pub fn with_commit_latency(mut self, latency: Duration) -> Self {
        self.commit_latency = latency;
        self
    }
    /// Makes concurrent finishes into one folder contend.
    pub fn with_finish_contention(mut self, on: bool) -> Self {
        self.contend_finish_in_folder = on;
        self
    }
    /// Sets the lifetime of OAuth-issued access tokens.
    pub fn with_access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.access_token_lifetime = lifetime;
        self
    }
}
