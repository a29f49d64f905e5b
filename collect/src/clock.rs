//! One clock for the whole process: a monotonic `Instant` anchored once to the wall clock, so
//! request timestamps and sample timestamps are on the same timeline, never jump when NTP
//! adjusts the system time, and still read as milliseconds since the Unix epoch.

use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The process clock: `epoch_ms(t) = anchor_epoch_ms + (t − anchor)`.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    anchor: Instant,
    anchor_epoch_ms: f64,
}

impl Clock {
    fn new() -> Self {
        let anchor = Instant::now();
        let anchor_epoch_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        Self {
            anchor,
            anchor_epoch_ms,
        }
    }

    /// The instant as fractional ms since the Unix epoch.
    pub fn epoch_ms_f64(&self, t: Instant) -> f64 {
        let since = if t >= self.anchor {
            t.duration_since(self.anchor).as_secs_f64() * 1000.0
        } else {
            -(self.anchor.duration_since(t).as_secs_f64() * 1000.0)
        };
        self.anchor_epoch_ms + since
    }

    /// The instant as whole ms since the Unix epoch (floored, as the contract's timestamps are).
    pub fn epoch_ms(&self, t: Instant) -> i64 {
        self.epoch_ms_f64(t).floor() as i64
    }

    /// Now, in whole ms since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        self.epoch_ms(Instant::now())
    }
}

/// The process-wide clock.
pub fn clock() -> &'static Clock {
    static CLOCK: OnceLock<Clock> = OnceLock::new();
    CLOCK.get_or_init(Clock::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_is_monotonic_and_near_the_wall_clock() {
        let c = clock();
        let a = c.now_ms();
        let b = c.now_ms();
        assert!(b >= a);
        assert!((a - dataset::store::now_ms()).abs() < 1000);
    }
}
