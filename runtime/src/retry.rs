//! Retries with exponential backoff and full jitter, honouring the server's `Retry-After`.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorTypes};

/// How often and how long to retry transient failures.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// Delay scale for the first retry.
    pub base_delay: Duration,
    /// Longest delay between attempts (a longer `Retry-After` still wins).
    pub max_delay: Duration,
    /// Give up once this much time has passed since the first attempt.
    pub deadline: Option<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
            deadline: Some(Duration::from_secs(600)),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The delay before retry number `attempt` (1 for the first retry): a random duration up
    /// to `base_delay * 2^(attempt-1)` capped at `max_delay`, but never below `hint` (the
    /// server's `Retry-After`).
    pub fn backoff(&self, attempt: u32, hint: Option<Duration>) -> Duration {
        let exp = self.base_delay.saturating_mul(
            1u32.checked_shl(attempt.saturating_sub(1).min(20))
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

/// Runs `op` until it succeeds, fails with a non-transient error, or the policy gives up;
/// then returns the last result.
pub async fn retry<T, E, P, F, Fut>(policy: &RetryPolicy, mut op: F) -> Result<T, Error<E, P>>
where
    P: ErrorTypes,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Error<E, P>>>,
{
    let start = Instant::now();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = op().await;
        let err = match result {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        if !err.is_transient() || attempt >= policy.max_attempts.max(1) {
            return Err(err);
        }
        let delay = policy.backoff(attempt, err.retry_after());
        if let Some(deadline) = policy.deadline
            && start.elapsed() + delay > deadline
        {
            return Err(err);
        }
        tracing::debug!(target: "dropbox_api_runtime::retry", attempt, ?delay, "retrying after a transient error");
        tokio::time::sleep(delay).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_caps_and_honours_hints() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            deadline: None,
        };
        for attempt in 1..10 {
            let d = p.backoff(attempt, None);
            assert!(d <= Duration::from_secs(1));
            assert!(d <= Duration::from_millis(100) * 2u32.pow(attempt - 1));
        }
        assert!(p.backoff(1, Some(Duration::from_secs(5))) >= Duration::from_secs(5));
    }
}
