//! Per-route counters: calls, statuses, bytes in and out, concurrency.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// Counters of one route.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteStats {
    /// Requests received.
    pub calls: u64,
    /// Responses by HTTP status (connections reset by a fault count under 0).
    pub statuses: BTreeMap<u16, u64>,
    /// Request body bytes read.
    pub bytes_in: u64,
    /// Response body bytes sent.
    pub bytes_out: u64,
    /// Requests currently being handled (until their response body is sent).
    pub in_flight: u64,
    /// The most requests handled at the same time.
    pub max_in_flight: u64,
}

/// Counters of all routes (read through [`EmulatorHandle::stats`](crate::EmulatorHandle::stats)
/// or `GET /__emulator/stats`).
#[derive(Debug, Default)]
pub struct Stats {
    routes: Mutex<BTreeMap<String, RouteStats>>,
}

impl Stats {
    fn with<T>(&self, route: &str, f: impl FnOnce(&mut RouteStats) -> T) -> T {
        let mut map = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        f(map.entry(route.to_string()).or_default())
    }

    fn read<T: Default>(&self, route: &str, f: impl FnOnce(&RouteStats) -> T) -> T {
        let map = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        map.get(route).map(f).unwrap_or_default()
    }

    /// Requests received by `route` (for example `files/upload_session/finish_batch_v2`).
    pub fn calls(&self, route: &str) -> u64 {
        self.read(route, |r| r.calls)
    }

    /// Responses of `route` with HTTP status `status`.
    pub fn status_count(&self, route: &str, status: u16) -> u64 {
        self.read(route, |r| r.statuses.get(&status).copied().unwrap_or(0))
    }

    /// Request body bytes read for `route`.
    pub fn bytes_in(&self, route: &str) -> u64 {
        self.read(route, |r| r.bytes_in)
    }

    /// Response body bytes sent for `route`.
    pub fn bytes_out(&self, route: &str) -> u64 {
        self.read(route, |r| r.bytes_out)
    }

    /// The highest number of concurrent requests to `route`.
    pub fn max_in_flight(&self, route: &str) -> u64 {
        self.read(route, |r| r.max_in_flight)
    }

    /// All counters of `route`.
    pub fn route(&self, route: &str) -> RouteStats {
        self.read(route, Clone::clone)
    }

    /// All counters.
    pub fn snapshot(&self) -> BTreeMap<String, RouteStats> {
        self.routes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Zeroes every counter (in-flight gauges are kept).
    pub fn reset(&self) {
        let mut map = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, r| r.in_flight > 0);
        for r in map.values_mut() {
            *r = RouteStats {
                in_flight: r.in_flight,
                max_in_flight: r.in_flight,
                ..RouteStats::default()
            };
        }
    }

    pub(crate) fn begin(&self, route: &str) {
        self.with(route, |r| {
            r.calls += 1;
            r.in_flight += 1;
            r.max_in_flight = r.max_in_flight.max(r.in_flight);
        });
    }

    pub(crate) fn add_in(&self, route: &str, n: u64) {
        self.with(route, |r| r.bytes_in += n);
    }

    pub(crate) fn finish(&self, route: &str, status: u16, bytes_out: u64) {
        self.with(route, |r| {
            r.in_flight = r.in_flight.saturating_sub(1);
            *r.statuses.entry(status).or_default() += 1;
            r.bytes_out += bytes_out;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        let s = Stats::default();
        s.begin("a");
        s.begin("a");
        s.add_in("a", 10);
        s.finish("a", 200, 5);
        s.begin("a");
        s.finish("a", 409, 7);
        s.finish("a", 200, 0);
        assert_eq!(s.calls("a"), 3);
        assert_eq!(s.max_in_flight("a"), 2);
        assert_eq!(s.status_count("a", 200), 2);
        assert_eq!(s.bytes_in("a"), 10);
        assert_eq!(s.bytes_out("a"), 12);
        assert_eq!(s.route("a").in_flight, 0);
        assert_eq!(s.calls("b"), 0);
        let j = serde_json::to_value(s.snapshot()).unwrap();
        assert_eq!(j["a"]["statuses"]["409"], 1);
        s.reset();
        assert_eq!(s.calls("a"), 0);
    }
}
