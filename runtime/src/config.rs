//! Where requests go and how long each part of a call may take.

use std::time::Duration;

use crate::retry::RetryPolicy;

/// The Dropbox API servers.
pub const DEFAULT_API_URL: &str = "https://api.dropboxapi.com";
/// The Dropbox content servers (uploads and downloads).
pub const DEFAULT_CONTENT_URL: &str = "https://content.dropboxapi.com";
/// The Dropbox notification servers (long polling).
pub const DEFAULT_NOTIFY_URL: &str = "https://notify.dropboxapi.com";
/// The OAuth2 token endpoint.
pub const DEFAULT_TOKEN_URL: &str = "https://api.dropboxapi.com/oauth2/token";

/// Where requests go and how they are sent.
#[derive(Debug, Clone)]
pub struct Config {
    /// Base URL of the `api` host (no trailing slash).
    pub api_url: String,
    /// Base URL of the `content` host.
    pub content_url: String,
    /// Base URL of the `notify` host.
    pub notify_url: String,
    /// The OAuth2 token endpoint.
    pub token_url: String,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// How long each part of a call may take.
    pub timeouts: Timeouts,
    /// Which failures are tried again, how often and after how long.
    pub retry: RetryPolicy,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            api_url: DEFAULT_API_URL.into(),
            content_url: DEFAULT_CONTENT_URL.into(),
            notify_url: DEFAULT_NOTIFY_URL.into(),
            token_url: DEFAULT_TOKEN_URL.into(),
            user_agent: concat!("dropbox-api-rs/", env!("CARGO_PKG_VERSION")).into(),
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
        }
    }
}

/// The bounds on every network wait of a call. Each one that fires ends the attempt with
/// [`Error::Timeout`](crate::Error::Timeout), naming it; connect, idle and attempt timeouts
/// are transient (the retry policy may try again), the call timeout ends the call.
///
/// ```
/// use std::time::Duration;
/// use dropbox_api_runtime::Timeouts;
/// let t = Timeouts::default().idle(Duration::from_secs(20)).call(Duration::from_secs(300));
/// assert_eq!(t.connect, Duration::from_secs(10));
/// assert_eq!(t.idle, Some(Duration::from_secs(20)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing a connection (TCP and TLS). Default 10 s.
    pub connect: Duration,
    /// The longest time a transfer may go on with fewer than [`Timeouts::idle_min_bytes`]
    /// moving in either direction: while the request body is sent, while the answer is
    /// awaited, and while a response body (also a streamed download) is read. Default 60 s;
    /// `None` turns it off.
    pub idle: Option<Duration>,
    /// How many bytes must move within one idle period for the transfer to count as alive,
    /// so that a server that trickles a byte now and then is caught as well as one that sends
    /// nothing. Default 1 KiB (an average of 17 bytes a second over the default idle timeout).
    pub idle_min_bytes: u64,
    /// The longest one attempt may take, from the request to the end of the answer (for a
    /// download: to the response headers). Default none: a large upload takes as long as it
    /// takes while bytes move.
    pub attempt: Option<Duration>,
    /// The longest a whole call may take, all attempts and waits between them included.
    /// Default none.
    pub call: Option<Duration>,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            idle: Some(Duration::from_secs(60)),
            idle_min_bytes: 1024,
            attempt: None,
            call: None,
        }
    }
}

impl Timeouts {
    /// Sets the connect timeout.
    pub fn connect(mut self, d: Duration) -> Self {
        self.connect = d;
        self
    }

    /// Sets the idle timeout.
    pub fn idle(mut self, d: Duration) -> Self {
        self.idle = Some(d);
        self
    }

    /// Turns the idle timeout off (not recommended: a stalled connection then waits forever
    /// unless an attempt or call timeout is set).
    pub fn no_idle(mut self) -> Self {
        self.idle = None;
        self
    }

    /// Sets the bytes that must move within an idle period.
    pub fn idle_min_bytes(mut self, n: u64) -> Self {
        self.idle_min_bytes = n;
        self
    }

    /// Sets the per-attempt timeout.
    pub fn attempt(mut self, d: Duration) -> Self {
        self.attempt = Some(d);
        self
    }

    /// Sets the per-call timeout.
    pub fn call(mut self, d: Duration) -> Self {
        self.call = Some(d);
        self
    }
}

impl Timeouts {
    /// The idle rule the stall detector applies, if the idle timeout is on.
    pub(crate) fn idle_rule(&self) -> Option<crate::stall::IdleRule> {
        self.idle.map(|idle| crate::stall::IdleRule {
            idle,
            min_bytes: self.idle_min_bytes,
        })
    }
}
