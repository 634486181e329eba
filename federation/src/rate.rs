//! Per-peer token buckets: how many gossip messages and requests one peer may push at
//! us per second before the rest is refused (flood protection).
//!
//! Time is passed in, so the logic is tested without sleeping.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::Instant;

/// A token bucket per key.
#[derive(Debug)]
pub(crate) struct RateLimiter<K> {
    rate_per_sec: f64,
    burst: f64,
    buckets: HashMap<K, Bucket>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    /// `rate_per_sec` sustained, up to `burst` at once.
    pub(crate) fn new(rate_per_sec: u32, burst: u32) -> Self {
        Self {
            rate_per_sec: f64::from(rate_per_sec),
            burst: f64::from(burst.max(1)),
            buckets: HashMap::new(),
        }
    }

    /// Take one token for `key`; false when its bucket is empty.
    pub(crate) fn allow(&mut self, key: &K, now: Instant) -> bool {
        let burst = self.burst;
        let bucket = self.buckets.entry(key.clone()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate_per_sec).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Forget `key` (its connection is gone), keeping the map bounded by live peers.
    pub(crate) fn forget(&mut self, key: &K) {
        self.buckets.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_burst_is_allowed_then_the_sustained_rate() {
        let t0 = Instant::now();
        let mut r = RateLimiter::new(10, 5);
        assert_eq!((0..8).filter(|_| r.allow(&1, t0)).count(), 5);
        // 10 per second: 100 ms buys one more.
        assert!(r.allow(&1, t0 + Duration::from_millis(100)));
        assert!(!r.allow(&1, t0 + Duration::from_millis(100)));
        // Another key has its own bucket.
        assert!(r.allow(&2, t0));
    }

    #[test]
    fn tokens_never_exceed_the_burst() {
        let t0 = Instant::now();
        let mut r = RateLimiter::new(1000, 3);
        assert!(r.allow(&1, t0));
        let later = t0 + Duration::from_secs(60);
        assert_eq!((0..10).filter(|_| r.allow(&1, later)).count(), 3);
    }
}
