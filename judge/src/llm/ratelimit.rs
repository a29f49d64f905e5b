//! The request rate limit (`--rps`): requests are spaced at least `1/R` apart, each taking the
//! next free slot, so a burst of retries cannot exceed the rate either.

use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Spaces requests evenly.
#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// A limiter of `rps` requests per second.
    pub fn new(rps: f64) -> Self {
        Self {
            interval: Duration::from_secs_f64(1.0 / rps),
            next: Mutex::new(None),
        }
    }

    /// Waits for the next slot.
    pub async fn wait(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + self.interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn requests_are_spaced_by_the_interval() {
        let limiter = RateLimiter::new(10.0);
        let start = Instant::now();
        for _ in 0..5 {
            limiter.wait().await;
        }
        // Five slots at 0, 100, 200, 300 and 400 ms.
        assert_eq!(start.elapsed(), Duration::from_millis(400));
    }
}
