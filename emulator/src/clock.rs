//! Time as the emulator sees it: injectable so tests can expire sessions, links and tokens
//! without waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The machine's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to; starts at the instant given.
#[derive(Debug)]
pub struct ManualClock {
    /// Milliseconds since the Unix epoch.
    millis: AtomicI64,
}

impl ManualClock {
    /// A clock frozen at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock {
            millis: AtomicI64::new(start.timestamp_millis()),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.millis.fetch_add(duration_millis(by), Ordering::SeqCst);
    }

    /// Sets the clock to `to`.
    pub fn set(&self, to: DateTime<Utc>) {
        self.millis.store(to.timestamp_millis(), Ordering::SeqCst);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new(Utc::now())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        millis_to_time(self.millis.load(Ordering::SeqCst))
    }
}

/// The emulator's clock: a base clock plus an offset that can be moved forward at run time
/// (through [`EmulatorHandle::advance_clock`](crate::EmulatorHandle::advance_clock) or the
/// `/__emulator/clock` control endpoint).
#[derive(Clone)]
pub struct EmulatorClock {
    base: Arc<dyn Clock>,
    offset_millis: Arc<AtomicI64>,
}

impl std::fmt::Debug for EmulatorClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorClock")
            .field("now", &self.now())
            .field("offset_millis", &self.offset_millis.load(Ordering::SeqCst))
            .finish()
    }
}

impl EmulatorClock {
    /// Wraps a base clock with a zero offset.
    pub fn new(base: Arc<dyn Clock>) -> Self {
        EmulatorClock {
            base,
            offset_millis: Arc::new(AtomicI64::new(0)),
        }
    }

    /// The current instant (base clock plus offset).
    pub fn now(&self) -> DateTime<Utc> {
        let base = self.base.now();
        base + chrono::Duration::milliseconds(self.offset_millis.load(Ordering::SeqCst))
    }

    /// Moves the emulator's time forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.offset_millis
            .fetch_add(duration_millis(by), Ordering::SeqCst);
    }
}

fn duration_millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

fn millis_to_time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// Adds a std duration to an instant, saturating far in the future.
pub(crate) fn add(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start = Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap();
        let c = ManualClock::new(start);
        assert_eq!(c.now(), start);
        c.advance(Duration::from_secs(3600));
        assert_eq!(c.now(), start + chrono::Duration::hours(1));
        let e = EmulatorClock::new(Arc::new(c));
        e.advance(Duration::from_secs(60));
        assert_eq!(
            e.now(),
            start + chrono::Duration::hours(1) + chrono::Duration::minutes(1)
        );
    }

    #[test]
    fn add_saturates() {
        let t = Utc::now();
        assert_eq!(add(t, Duration::MAX), DateTime::<Utc>::MAX_UTC);
    }
}
