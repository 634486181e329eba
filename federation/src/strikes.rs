//! Counting a peer's offences (rejected envelopes, failed hellos, floods) and deciding
//! when it is banned.
//!
//! Gossipsub's own scoring already lowers a rejecting peer's score; this counter is
//! the hard stop: a peer that keeps sending what we must refuse is disconnected and
//! blocked for a while, so it stops costing us signature checks. Time is passed in.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Strikes per key within a sliding window (approximated by a window that restarts
/// at the first strike after it expired).
#[derive(Debug)]
pub(crate) struct Strikes<K> {
    to_ban: u32,
    window: Duration,
    counts: HashMap<K, (Instant, u32)>,
}

impl<K: Hash + Eq + Clone> Strikes<K> {
    pub(crate) fn new(to_ban: u32, window: Duration) -> Self {
        Self {
            to_ban: to_ban.max(1),
            window,
            counts: HashMap::new(),
        }
    }

    /// Record `weight` strikes against `key`; true when it has now earned a ban (the
    /// count restarts, so the next ban needs as many strikes again).
    pub(crate) fn strike(&mut self, key: &K, weight: u32, now: Instant) -> bool {
        let entry = self.counts.entry(key.clone()).or_insert((now, 0));
        if now.saturating_duration_since(entry.0) > self.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(weight);
        if entry.1 >= self.to_ban {
            self.counts.remove(key);
            return true;
        }
        false
    }

    /// Forget `key` (it was banned).
    pub(crate) fn forget(&mut self, key: &K) {
        self.counts.remove(key);
    }

    /// Drop counts whose window has passed, so the map only holds recent offenders
    /// (kept across reconnects: disconnecting does not wipe a record).
    pub(crate) fn purge(&mut self, now: Instant) {
        let window = self.window;
        self.counts
            .retain(|_, (since, _)| now.saturating_duration_since(*since) <= window);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enough_strikes_within_the_window_ban() {
        let t0 = Instant::now();
        let mut s = Strikes::new(3, Duration::from_secs(10));
        assert!(!s.strike(&"p", 1, t0));
        assert!(!s.strike(&"p", 1, t0));
        assert!(s.strike(&"p", 1, t0));
        // The count restarted.
        assert!(!s.strike(&"p", 1, t0));
    }

    #[test]
    fn strikes_spread_beyond_the_window_do_not_ban() {
        let t0 = Instant::now();
        let mut s = Strikes::new(3, Duration::from_secs(10));
        for i in 0..10u64 {
            assert!(!s.strike(&"p", 1, t0 + Duration::from_secs(6 * i)));
        }
    }

    #[test]
    fn purging_forgets_only_expired_windows() {
        let t0 = Instant::now();
        let mut s = Strikes::new(2, Duration::from_secs(10));
        s.strike(&"old", 1, t0);
        s.strike(&"new", 1, t0 + Duration::from_secs(8));
        s.purge(t0 + Duration::from_secs(12));
        assert!(!s.strike(&"old", 1, t0 + Duration::from_secs(12)));
        assert!(s.strike(&"new", 1, t0 + Duration::from_secs(12)));
    }

    #[test]
    fn a_heavy_offence_bans_at_once() {
        let mut s = Strikes::new(20, Duration::from_secs(10));
        assert!(s.strike(&"p", 20, Instant::now()));
    }
}
