//! The retry policy of both HTTP clients: which failures are worth another attempt, how many
//! attempts there are, and how long to wait before each (bounded exponential backoff, and the
//! server's `Retry-After` where a client honours it). The clients keep their own settings,
//! defaults and flags and build a [`RetryPolicy`] from them.

use std::time::Duration;

/// What went wrong with one attempt, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No answer: the connection failed, timed out or was dropped.
    Transport,
    /// The server answered with this HTTP status.
    Status(u16),
    /// The server answered, but not with a usable completion (an unreadable body, a stream
    /// that ends before the answer does).
    Malformed,
}

impl Failure {
    /// True when another attempt may succeed: transport failures, malformed answers, and HTTP
    /// 408, 429 and 5xx. Any other status (400, 401, 404: a wrong model name) would come back
    /// the same.
    pub fn is_retryable(self) -> bool {
        match self {
            Failure::Transport | Failure::Malformed => true,
            Failure::Status(status) => status == 408 || status == 429 || status >= 500,
        }
    }
}

/// How often and after how long a failed request is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// Pause before the first retry; doubled for each further one.
    pub backoff: Duration,
    /// Longest pause between two attempts.
    pub backoff_max: Duration,
    /// Longest server `Retry-After` honoured in place of the backoff; `None` ignores it.
    pub retry_after_max: Option<Duration>,
}

impl RetryPolicy {
    /// The backoff before retry number `retry` (1 for the first retry).
    pub fn backoff_before(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        self.backoff.saturating_mul(factor).min(self.backoff_max)
    }

    /// The pause after attempt number `attempt` (1 for the first) failed with `failure`, or
    /// `None` when there is no next attempt: the failure is not retryable or the retries are
    /// spent. `retry_after` is the server's `Retry-After`, if it sent one.
    pub fn pause_after(
        &self,
        attempt: u32,
        failure: Failure,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        if !failure.is_retryable() || attempt > self.retries {
            return None;
        }
        Some(match (retry_after, self.retry_after_max) {
            (Some(asked), Some(max)) => asked.min(max),
            _ => self.backoff_before(attempt),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(retries: u32) -> RetryPolicy {
        RetryPolicy {
            retries,
            backoff: Duration::from_millis(250),
            backoff_max: Duration::from_secs(8),
            retry_after_max: None,
        }
    }

    #[test]
    fn the_backoff_doubles_up_to_its_bound() {
        let p = policy(10);
        let pauses: Vec<u128> = (1..=7).map(|r| p.backoff_before(r).as_millis()).collect();
        assert_eq!(pauses, [250, 500, 1000, 2000, 4000, 8000, 8000]);
        assert_eq!(p.backoff_before(u32::MAX), Duration::from_secs(8));
    }

    #[test]
    fn transient_failures_are_retried_until_the_retries_are_spent() {
        let p = policy(2);
        assert_eq!(
            p.pause_after(1, Failure::Transport, None),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            p.pause_after(2, Failure::Status(503), None),
            Some(Duration::from_millis(500))
        );
        assert_eq!(p.pause_after(3, Failure::Malformed, None), None);
        assert_eq!(policy(0).pause_after(1, Failure::Status(429), None), None);
    }

    #[test]
    fn only_408_429_and_5xx_statuses_are_retryable() {
        for status in [408, 429, 500, 502, 503] {
            assert!(Failure::Status(status).is_retryable(), "{status}");
        }
        for status in [400, 401, 404, 422] {
            assert!(!Failure::Status(status).is_retryable(), "{status}");
            assert_eq!(policy(4).pause_after(1, Failure::Status(status), None), None);
        }
    }

    #[test]
    fn retry_after_is_honoured_up_to_its_bound_only_where_asked() {
        let asked = Some(Duration::from_secs(300));
        assert_eq!(
            policy(1).pause_after(1, Failure::Status(429), asked),
            Some(Duration::from_millis(250))
        );
        let honouring = RetryPolicy {
            retry_after_max: Some(Duration::from_secs(120)),
            ..policy(1)
        };
        assert_eq!(
            honouring.pause_after(1, Failure::Status(429), asked),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            honouring.pause_after(1, Failure::Status(429), Some(Duration::ZERO)),
            Some(Duration::ZERO)
        );
    }
}
