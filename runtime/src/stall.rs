//! Stall detection: the idle timeout of [`Timeouts`](crate::Timeouts).
//!
//! An attempt counts the bytes it moves, request body frames as the HTTP client takes them
//! and response body chunks as they arrive, in one [`Activity`]. A watchdog checks the count
//! a few times per idle period: when fewer than `min_bytes` moved since the last time enough
//! did, for a whole idle period, the transfer is stalled. That one rule covers a server that
//! stops reading the request body, one that never answers, one that stops sending the
//! response body, and one that trickles a byte now and then. A response body that the caller
//! streams (a download) is measured in the time spent waiting for its chunks only, so a slow
//! consumer is not mistaken for a stalled server.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};

/// Largest request body frame handed to the HTTP client at once: the granularity at which a
/// request body's progress is seen.
const FRAME: usize = 64 * 1024;

/// Bytes moved by one attempt, in either direction.
#[derive(Debug, Default)]
pub(crate) struct Activity {
    bytes: AtomicU64,
}

impl Activity {
    pub(crate) fn add(&self, n: u64) {
        self.bytes.fetch_add(n, Ordering::Relaxed);
    }

    fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

/// The idle rule: how long, and how many bytes make a period alive.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IdleRule {
    pub(crate) idle: Duration,
    pub(crate) min_bytes: u64,
}

/// The time since the last period in which enough bytes moved, and the bytes moved since.
#[derive(Debug)]
pub(crate) struct Checkpoint {
    bytes: u64,
    idle_for: Duration,
}

impl Checkpoint {
    pub(crate) fn new() -> Self {
        Checkpoint {
            bytes: 0,
            idle_for: Duration::ZERO,
        }
    }

    /// Records `waited` more time with `bytes` moved in it; returns how long the transfer
    /// has been idle when that is a whole idle period.
    pub(crate) fn observe(
        &mut self,
        rule: IdleRule,
        waited: Duration,
        bytes: u64,
    ) -> Option<Duration> {
        self.bytes = self.bytes.saturating_add(bytes);
        self.idle_for += waited;
        if self.bytes >= rule.min_bytes.max(1) {
            self.bytes = 0;
            self.idle_for = Duration::ZERO;
            return None;
        }
        (self.idle_for >= rule.idle).then_some(self.idle_for)
    }

    /// The wait left before the transfer counts as idle.
    pub(crate) fn remaining(&self, rule: IdleRule) -> Duration {
        rule.idle.saturating_sub(self.idle_for)
    }
}

/// Resolves, with how long the transfer was idle, once `activity` stalls under `rule`;
/// never resolves without a rule.
pub(crate) async fn watch(activity: &Activity, rule: Option<IdleRule>) -> Duration {
    let Some(rule) = rule else {
        return std::future::pending().await;
    };
    let tick = (rule.idle / 4).max(Duration::from_millis(5));
    let mut checkpoint = Checkpoint::new();
    let mut seen = activity.bytes();
    let mut last = Instant::now();
    loop {
        tokio::time::sleep(tick.min(checkpoint.remaining(rule).max(Duration::from_millis(1))))
            .await;
        let now = Instant::now();
        let bytes = activity.bytes();
        if let Some(idle) = checkpoint.observe(rule, now - last, bytes - seen) {
            return idle;
        }
        seen = bytes;
        last = now;
    }
}

/// A request body that hands its bytes to the HTTP client in frames and counts them.
pub(crate) struct Counted {
    inner: Source,
    activity: Arc<Activity>,
}

enum Source {
    /// Shared bytes, sliced without copying.
    Bytes(Bytes),
    /// A stream, sent once.
    Stream(reqwest::Body),
}

impl Counted {
    pub(crate) fn bytes(data: Bytes, activity: Arc<Activity>) -> Self {
        Counted {
            inner: Source::Bytes(data),
            activity,
        }
    }

    pub(crate) fn stream(body: reqwest::Body, activity: Arc<Activity>) -> Self {
        Counted {
            inner: Source::Stream(body),
            activity,
        }
    }
}

impl HttpBody for Counted {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match &mut this.inner {
            Source::Bytes(rest) => {
                if rest.is_empty() {
                    return Poll::Ready(None);
                }
                let frame = rest.split_to(rest.len().min(FRAME));
                this.activity.add(frame.len() as u64);
                Poll::Ready(Some(Ok(Frame::data(frame))))
            }
            Source::Stream(body) => match Pin::new(body).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    if let Some(data) = frame.data_ref() {
                        this.activity.add(data.len() as u64);
                    }
                    Poll::Ready(Some(Ok(frame)))
                }
                Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Box::new(e)))),
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            Source::Bytes(b) => b.is_empty(),
            Source::Stream(s) => s.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Source::Bytes(b) => SizeHint::with_exact(b.len() as u64),
            Source::Stream(s) => s.size_hint(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: IdleRule = IdleRule {
        idle: Duration::from_secs(3),
        min_bytes: 100,
    };

    #[test]
    fn a_period_with_enough_bytes_resets_the_clock() {
        let mut c = Checkpoint::new();
        assert_eq!(c.observe(RULE, Duration::from_secs(2), 0), None);
        assert_eq!(c.observe(RULE, Duration::from_secs(2), 150), None);
        assert_eq!(c.remaining(RULE), Duration::from_secs(3));
        assert_eq!(
            c.observe(RULE, Duration::from_secs(3), 0),
            Some(Duration::from_secs(3))
        );
    }

    #[test]
    fn a_trickle_below_the_minimum_is_idle() {
        let mut c = Checkpoint::new();
        for _ in 0..5 {
            assert_eq!(c.observe(RULE, Duration::from_millis(500), 10), None);
        }
        assert_eq!(
            c.observe(RULE, Duration::from_millis(500), 10),
            Some(Duration::from_secs(3))
        );
    }

    #[tokio::test]
    async fn the_watchdog_fires_only_when_bytes_stop() {
        let activity = Arc::new(Activity::default());
        let rule = IdleRule {
            idle: Duration::from_millis(200),
            min_bytes: 1,
        };
        let feeder = {
            let a = activity.clone();
            async move {
                for _ in 0..10 {
                    a.add(1);
                    tokio::time::sleep(Duration::from_millis(40)).await;
                }
            }
        };
        let started = Instant::now();
        let (idle, ()) = tokio::join!(watch(&activity, Some(rule)), feeder);
        assert!(idle >= Duration::from_millis(200), "{idle:?}");
        assert!(started.elapsed() >= Duration::from_millis(400));
    }

    #[test]
    fn bytes_bodies_go_out_in_counted_frames_of_known_length() {
        let activity = Arc::new(Activity::default());
        let mut body = Counted::bytes(Bytes::from(vec![7u8; FRAME * 2 + 5]), activity.clone());
        assert_eq!(body.size_hint().exact(), Some((FRAME * 2 + 5) as u64));
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut sizes = Vec::new();
        while let Poll::Ready(Some(Ok(f))) = Pin::new(&mut body).poll_frame(&mut cx) {
            sizes.push(f.into_data().map(|d| d.len()).unwrap_or(0));
        }
        assert_eq!(sizes, vec![FRAME, FRAME, 5]);
        assert_eq!(activity.bytes(), (FRAME * 2 + 5) as u64);
        assert!(body.is_end_stream());
    }
}
