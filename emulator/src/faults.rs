//! Fault injection: rules that make chosen routes slow, fail or drop the connection,
//! every Nth call or with a seeded probability.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What an injected fault does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FaultAction {
    /// Delays the request by this many milliseconds before handling it (combines with
    /// another fault).
    Latency {
        /// Added latency in milliseconds.
        millis: u64,
    },
    /// Resets the connection once this many bytes of the request body were read.
    ResetAfterBytes {
        /// Body bytes read before the reset.
        bytes: u64,
    },
    /// Handles the request fully (its effects happen), then resets the connection
    /// instead of answering: the client never learns the outcome.
    ResetBeforeResponse,
    /// Answers 500 without handling the request.
    InternalError,
    /// Answers 503 without handling the request.
    ServiceUnavailable,
    /// Answers 429 (`RateLimitError` JSON plus `Retry-After`) without handling the request.
    RateLimited {
        /// Seconds in `Retry-After` and `retry_after`.
        retry_after: u64,
        /// The reason to report.
        #[serde(default)]
        reason: RateLimitKind,
    },
    /// Handles the request fully (its effects happen), then never answers: the connection
    /// stays open without a byte sent until the client closes it, the emulator stops, or
    /// [`STALL_CAP`] passes.
    StallBeforeResponse,
    /// Reads this many bytes of the request body, then stops reading and never answers
    /// (the connection stays open as with [`FaultAction::StallBeforeResponse`]). The
    /// request has the effect of an interrupted body: none (an upload session stays at its
    /// last acknowledged offset).
    StallRequestBody {
        /// Body bytes read before the stall.
        bytes: u64,
    },
    /// Handles the request, sends the status, the headers and this many bytes of the body,
    /// then nothing more (the connection stays open as with
    /// [`FaultAction::StallBeforeResponse`]).
    StallResponseBody {
        /// Body bytes sent before the stall.
        bytes: u64,
    },
    /// Handles the request, sends the status and the headers, then the body one byte per
    /// `interval_millis` (for at most [`STALL_CAP`]).
    Trickle {
        /// Milliseconds between two body bytes.
        interval_millis: u64,
    },
}

/// The longest an injected stall (or trickle) holds a connection: then it is reset.
pub const STALL_CAP: Duration = Duration::from_secs(600);

impl FaultAction {
    fn kind(&self) -> &'static str {
        match self {
            FaultAction::Latency { .. } => "latency",
            FaultAction::ResetAfterBytes { .. } => "reset_after_bytes",
            FaultAction::ResetBeforeResponse => "reset_before_response",
            FaultAction::InternalError => "internal_error",
            FaultAction::ServiceUnavailable => "service_unavailable",
            FaultAction::RateLimited { .. } => "rate_limited",
            FaultAction::StallBeforeResponse => "stall_before_response",
            FaultAction::StallRequestBody { .. } => "stall_request_body",
            FaultAction::StallResponseBody { .. } => "stall_response_body",
            FaultAction::Trickle { .. } => "trickle",
        }
    }
}

/// The reason of an injected 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RateLimitKind {
    /// `too_many_requests`.
    #[default]
    TooManyRequests,
    /// `too_many_write_operations`.
    TooManyWriteOperations,
}

/// A fault rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    /// Glob on the route (`*` any run of characters, `?` one), matched against names such
    /// as `files/upload_session/append_v2`, `apitul/1`, `1/chunked_upload`, `oauth2/token`.
    pub route: String,
    /// Fire on every Nth matching call (N, 2N, ...); `None` means every call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every_nth: Option<u64>,
    /// Fire with this probability (0..=1), drawn from the seeded generator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// Stop after firing this many times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_times: Option<u64>,
    /// What to do.
    pub action: FaultAction,
}

impl FaultRule {
    /// A rule firing on every call to routes matching `route`.
    pub fn new(route: impl Into<String>, action: FaultAction) -> Self {
        FaultRule {
            route: route.into(),
            every_nth: None,
            probability: None,
            max_times: None,
            action,
        }
    }
    /// Fires on every Nth matching call only.
    pub fn every_nth(mut self, n: u64) -> Self {
        self.every_nth = Some(n.max(1));
        self
    }
    /// Fires with probability `p`.
    pub fn with_probability(mut self, p: f64) -> Self {
        self.probability = Some(p);
        self
    }
    /// Fires at most `n` times.
    pub fn times(mut self, n: u64) -> Self {
        self.max_times = Some(n);
        self
    }
}

/// A rule with its counters, as reported by [`Faults::rules`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRuleStatus {
    /// Rule id (for [`Faults::remove`]).
    pub id: u64,
    /// The rule.
    pub rule: FaultRule,
    /// Calls that matched the route glob.
    pub matched: u64,
    /// Times the fault was injected.
    pub fired: u64,
}

/// The faults chosen for one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Decision {
    /// Total added latency.
    pub(crate) latency: Duration,
    /// The first non-latency fault that fired.
    pub(crate) action: Option<FaultAction>,
}

#[derive(Debug)]
struct Active {
    id: u64,
    rule: FaultRule,
    matched: u64,
    fired: u64,
    rng: SplitMix64,
}

#[derive(Debug, Default)]
struct Inner {
    seed: u64,
    next_id: u64,
    rules: Vec<Active>,
    injected: u64,
    by_kind: BTreeMap<String, u64>,
}

/// The fault injector of an emulator (also driven by `/__emulator/faults`).
#[derive(Debug, Default)]
pub struct Faults {
    inner: Mutex<Inner>,
}

impl Faults {
    pub(crate) fn new(seed: u64, rules: Vec<FaultRule>) -> Faults {
        let f = Faults {
            inner: Mutex::new(Inner {
                seed,
                ..Inner::default()
            }),
        };
        for r in rules {
            f.add(r);
        }
        f
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a rule; returns its id.
    pub fn add(&self, rule: FaultRule) -> u64 {
        let mut inner = self.lock();
        inner.next_id += 1;
        let id = inner.next_id;
        let rng = SplitMix64::for_rule(inner.seed, id);
        inner.rules.push(Active {
            id,
            rule,
            matched: 0,
            fired: 0,
            rng,
        });
        id
    }

    /// Removes one rule; false if there was none with that id.
    pub fn remove(&self, id: u64) -> bool {
        let mut inner = self.lock();
        let before = inner.rules.len();
        inner.rules.retain(|r| r.id != id);
        inner.rules.len() != before
    }

    /// Removes every rule (counters of injected faults are kept).
    pub fn clear(&self) {
        self.lock().rules.clear();
    }

    /// Re-seeds the generator of every rule.
    pub fn set_seed(&self, seed: u64) {
        let mut inner = self.lock();
        inner.seed = seed;
        for r in &mut inner.rules {
            r.rng = SplitMix64::for_rule(seed, r.id);
        }
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.lock().seed
    }

    /// The active rules with their counters.
    pub fn rules(&self) -> Vec<FaultRuleStatus> {
        self.lock()
            .rules
            .iter()
            .map(|r| FaultRuleStatus {
                id: r.id,
                rule: r.rule.clone(),
                matched: r.matched,
                fired: r.fired,
            })
            .collect()
    }

    /// Total faults injected since start.
    pub fn injected(&self) -> u64 {
        self.lock().injected
    }

    /// Faults injected since start by kind (`latency`, `reset_after_bytes`,
    /// `reset_before_response`, `internal_error`, `service_unavailable`, `rate_limited`,
    /// `stall_before_response`, `stall_request_body`, `stall_response_body`, `trickle`).
    pub fn injected_by_kind(&self) -> BTreeMap<String, u64> {
        self.lock().by_kind.clone()
    }

    /// Decides the faults of one call to `route`.
    pub(crate) fn decide(&self, route: &str) -> Decision {
        let mut inner = self.lock();
        let mut d = Decision::default();
        let mut fired_kinds = Vec::new();
        for r in &mut inner.rules {
            if !glob_match(&r.rule.route, route) {
                continue;
            }
            r.matched += 1;
            if r.rule.max_times.is_some_and(|m| r.fired >= m) {
                continue;
            }
            if let Some(n) = r.rule.every_nth
                && r.matched % n.max(1) != 0
            {
                continue;
            }
            if let Some(p) = r.rule.probability
                && r.rng.next_f64() >= p
            {
                continue;
            }
            match &r.rule.action {
                FaultAction::Latency { millis } => {
                    d.latency += Duration::from_millis(*millis);
                }
                other => {
                    if d.action.is_some() {
                        continue;
                    }
                    d.action = Some(other.clone());
                }
            }
            r.fired += 1;
            fired_kinds.push(r.rule.action.kind());
        }
        for k in fired_kinds {
            inner.injected += 1;
            *inner.by_kind.entry(k.to_string()).or_default() += 1;
        }
        d
    }
}

/// `*` matches any run of characters (including `/`), `?` exactly one.
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// A tiny reproducible generator (SplitMix64).
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn for_rule(seed: u64, id: u64) -> Self {
        SplitMix64(seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("files/*", "files/upload_session/append_v2"));
        assert!(glob_match("*append*", "files/upload_session/append_v2"));
        assert!(glob_match("files/upload", "files/upload"));
        assert!(!glob_match("files/upload", "files/upload_session/start"));
        assert!(glob_match(
            "files/upload?session/*",
            "files/upload_session/start"
        ));
        assert!(glob_match("*", ""));
        assert!(!glob_match("a*b", "ac"));
    }

    #[test]
    fn every_nth_and_max_times() {
        let f = Faults::new(1, vec![]);
        f.add(
            FaultRule::new("x", FaultAction::InternalError)
                .every_nth(3)
                .times(2),
        );
        let fired: Vec<bool> = (0..12).map(|_| f.decide("x").action.is_some()).collect();
        let idx: Vec<usize> = fired
            .iter()
            .enumerate()
            .filter(|(_, b)| **b)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(idx, [2, 5]);
        assert_eq!(f.injected(), 2);
        assert_eq!(f.rules()[0].matched, 12);
        assert!(f.decide("y").action.is_none());
    }

    #[test]
    fn seeded_probability_is_reproducible() {
        let run = |seed| {
            let f = Faults::new(
                seed,
                vec![FaultRule::new("*", FaultAction::ServiceUnavailable).with_probability(0.3)],
            );
            (0..200)
                .map(|_| f.decide("r").action.is_some())
                .collect::<Vec<_>>()
        };
        let a = run(42);
        assert_eq!(a, run(42));
        assert_ne!(a, run(43));
        let n = a.iter().filter(|b| **b).count();
        assert!((30..90).contains(&n), "{n} of 200 fired");
    }

    #[test]
    fn latency_combines() {
        let f = Faults::new(0, vec![]);
        f.add(FaultRule::new("*", FaultAction::Latency { millis: 5 }));
        f.add(FaultRule::new("*", FaultAction::Latency { millis: 7 }));
        f.add(FaultRule::new("*", FaultAction::ResetBeforeResponse));
        let d = f.decide("files/upload");
        assert_eq!(d.latency, Duration::from_millis(12));
        assert_eq!(d.action, Some(FaultAction::ResetBeforeResponse));
        assert_eq!(f.injected_by_kind()["latency"], 2);
    }

    #[test]
    fn rules_round_trip_json() {
        let r = FaultRule::new(
            "files/*",
            FaultAction::RateLimited {
                retry_after: 3,
                reason: RateLimitKind::TooManyWriteOperations,
            },
        )
        .every_nth(2);
        let j = serde_json::to_value(&r).unwrap();
        assert_eq!(
            j,
            serde_json::json!({"route": "files/*", "every_nth": 2,
                "action": {"type": "rate_limited", "retry_after": 3, "reason": "too_many_write_operations"}})
        );
        let back: FaultRule = serde_json::from_value(j).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn stall_kinds_round_trip_json() {
        let cases = [
            (
                FaultAction::StallBeforeResponse,
                serde_json::json!({"type": "stall_before_response"}),
            ),
            (
                FaultAction::StallRequestBody { bytes: 10 },
                serde_json::json!({"type": "stall_request_body", "bytes": 10}),
            ),
            (
                FaultAction::StallResponseBody { bytes: 3 },
                serde_json::json!({"type": "stall_response_body", "bytes": 3}),
            ),
            (
                FaultAction::Trickle {
                    interval_millis: 20,
                },
                serde_json::json!({"type": "trickle", "interval_millis": 20}),
            ),
        ];
        for (action, json) in cases {
            assert_eq!(serde_json::to_value(&action).unwrap(), json);
            let back: FaultAction = serde_json::from_value(json).unwrap();
            assert_eq!(back, action);
        }
        let f = Faults::new(0, vec![]);
        f.add(FaultRule::new("x", FaultAction::Trickle { interval_millis: 1 }).times(1));
        assert!(f.decide("x").action.is_some());
        assert!(f.decide("x").action.is_none());
        assert_eq!(f.injected_by_kind()["trickle"], 1);
    }
}
