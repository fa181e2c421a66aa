//! The retry policy: how many attempts, how long to wait between them (exponential backoff
//! with full jitter, never shorter than what the server asked for), and whether a request
//! whose answer was lost may be sent again.

use std::time::Duration;

/// What to do when a request may already have taken effect but its answer never arrived: the
/// connection was reset after the request was sent, a timeout fired while the answer was
/// awaited or read, or the server answered 500, 502 or 504.
///
/// Sending such a request again is harmless for a route that only reads; for a route that
/// writes it may do the work twice (a second `create_folder` then fails with a conflict, a
/// second `files/upload` with `autorename` stores a second copy). Code that can tell whether
/// the first request took effect (the upload toolkit compares offsets and content hashes)
/// sets [`LostAnswer::Retry`] for the calls it checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LostAnswer {
    /// Send again only requests to routes that only read
    /// ([`RouteSpec::idempotent`](crate::route::RouteSpec::idempotent)); others fail with a
    /// transient error that the caller may retry with its own knowledge.
    #[default]
    RetryIdempotent,
    /// Send again whatever the route (the caller checks for a repeated effect).
    Retry,
    /// Never send again; the error is returned.
    Fail,
}

/// How often and how long to retry transient failures.
///
/// Transient failures are: connection errors and resets, timeouts (connect, idle and
/// per-attempt), 429 (`too_many_requests`, `too_many_write_operations`), 500, 502, 503, 504,
/// and route errors that mean "try again later" (a `too_many_write_operations` member or a
/// `RateLimitError` inside the route's error, as the generator marks them). A wait the server
/// asks for (`Retry-After` header or `retry_after` in the body) always wins over the computed
/// delay.
///
/// ```
/// use std::time::Duration;
/// use dropbox_api_runtime::RetryPolicy;
/// let p = RetryPolicy::default().max_attempts(3).deadline(Duration::from_secs(30));
/// assert_eq!(p.max_attempts, 3);
/// assert_eq!(RetryPolicy::none().max_attempts, 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// Delay scale for the first retry.
    pub base_delay: Duration,
    /// Longest computed delay between attempts (a longer `Retry-After` still wins).
    pub max_delay: Duration,
    /// No new attempt starts once this much time has passed since the first one (nor one
    /// whose wait would end past it).
    pub deadline: Option<Duration>,
    /// Whether a request whose answer was lost is sent again.
    pub lost_answer: LostAnswer,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
            deadline: Some(Duration::from_secs(600)),
            lost_answer: LostAnswer::RetryIdempotent,
        }
    }
}

impl RetryPolicy {
    /// No retries at all: exactly one attempt (a refresh of an expired token still sends the
    /// request once more).
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets the number of attempts in all (1: no retries).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Sets the number of retries after the first attempt.
    pub fn retries(self, n: u32) -> Self {
        self.max_attempts(n.saturating_add(1))
    }

    /// Sets the delay scale of the first retry and the longest computed delay.
    pub fn delays(mut self, base: Duration, max: Duration) -> Self {
        self.base_delay = base;
        self.max_delay = max;
        self
    }

    /// Sets the overall deadline.
    pub fn deadline(mut self, d: Duration) -> Self {
        self.deadline = Some(d);
        self
    }

    /// Removes the overall deadline.
    pub fn no_deadline(mut self) -> Self {
        self.deadline = None;
        self
    }

    /// Sets what happens when an answer was lost.
    pub fn lost_answer(mut self, rule: LostAnswer) -> Self {
        self.lost_answer = rule;
        self
    }

    /// The delay before retry number `retry` (1 for the first retry): a random duration up to
    /// `base_delay * 2^(retry-1)` capped at `max_delay`, but never below `hint` (the server's
    /// `Retry-After`).
    pub fn backoff(&self, retry: u32, hint: Option<Duration>) -> Duration {
        let exp = self.base_delay.saturating_mul(
            1u32.checked_shl(retry.saturating_sub(1).min(20))
                .unwrap_or(u32::MAX),
        );
        let cap = exp.min(self.max_delay);
        let jittered = cap.mul_f64(rand::random::<f64>());
        match hint {
            Some(h) => jittered.max(h),
            None => jittered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_caps_and_honours_hints() {
        let p = RetryPolicy::default()
            .max_attempts(10)
            .delays(Duration::from_millis(100), Duration::from_secs(1));
        for retry in 1..10 {
            let d = p.backoff(retry, None);
            assert!(d <= Duration::from_secs(1));
            assert!(d <= Duration::from_millis(100) * 2u32.pow(retry - 1));
        }
        assert!(p.backoff(1, Some(Duration::from_secs(5))) >= Duration::from_secs(5));
        assert!(p.backoff(30, Some(Duration::from_secs(45))) >= Duration::from_secs(45));
    }

    #[test]
    fn retries_count_after_the_first_attempt() {
        assert_eq!(RetryPolicy::default().retries(0).max_attempts, 1);
        assert_eq!(RetryPolicy::default().retries(3).max_attempts, 4);
        assert_eq!(RetryPolicy::default().max_attempts(0).max_attempts, 1);
    }
}
