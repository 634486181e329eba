//! Replay and staleness rejection.
//!
//! Each origin numbers its envelopes with a strictly increasing sequence number. A
//! receiver remembers the newest one it accepted per origin and refuses anything not
//! newer, so an envelope captured yesterday cannot be replayed to resurrect an old
//! presence. Timestamps outside a window around the receiver's clock are refused too,
//! which bounds how long a withheld envelope stays usable. Time is passed in.

use std::collections::HashMap;

use crate::envelope::Verified;
use crate::error::EnvelopeError;

/// Newest accepted sequence number per origin, and the accepted clock window.
#[derive(Debug, Clone)]
pub struct Freshness {
    /// Newest accepted (sequence number, timestamp) per origin.
    last: HashMap<String, (u64, u64)>,
    max_age_ms: u64,
    max_future_ms: u64,
}

impl Freshness {
    /// Accept timestamps up to `max_age_ms` old and `max_future_ms` ahead of `now`.
    pub fn new(max_age_ms: u64, max_future_ms: u64) -> Self {
        Self {
            last: HashMap::new(),
            max_age_ms,
            max_future_ms,
        }
    }

    /// Accept `v` if it is newer than anything seen from its origin and timely at `now_ms`.
    pub fn admit(&mut self, v: &Verified, now_ms: u64) -> Result<(), EnvelopeError> {
        self.check_time(v, now_ms)?;
        let last = self.last_seq(&v.origin);
        if v.seq <= last {
            return Err(EnvelopeError::Replayed {
                origin: v.origin.clone(),
                seq: v.seq,
                last,
            });
        }
        self.last.insert(v.origin.clone(), (v.seq, v.timestamp_ms));
        Ok(())
    }

    /// Only the clock window, for statements that carry no ordering (requests, answers):
    /// those are bound to an authenticated connection, so a third party cannot replay them.
    pub fn check_time(&self, v: &Verified, now_ms: u64) -> Result<(), EnvelopeError> {
        let too_old = v.timestamp_ms.saturating_add(self.max_age_ms) < now_ms;
        let too_new = v.timestamp_ms > now_ms.saturating_add(self.max_future_ms);
        if too_old || too_new {
            return Err(EnvelopeError::Stale {
                origin: v.origin.clone(),
                timestamp_ms: v.timestamp_ms,
                now_ms,
            });
        }
        Ok(())
    }

    /// The newest sequence number accepted from `origin` (0 if none).
    pub fn last_seq(&self, origin: &str) -> u64 {
        self.last.get(origin).map_or(0, |&(seq, _)| seq)
    }

    /// The timestamp of the newest envelope accepted from `origin`, if any.
    pub fn last_timestamp(&self, origin: &str) -> Option<u64> {
        self.last.get(origin).map(|&(_, ts)| ts)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn v(seq: u64, ts: u64) -> Verified {
        Verified {
            origin: "a.example".into(),
            seq,
            timestamp_ms: ts,
            payload: vec![],
        }
    }

    #[test]
    fn increasing_sequence_numbers_are_admitted() {
        let mut f = Freshness::new(60_000, 5_000);
        assert!(f.admit(&v(1, 1_000), 1_000).is_ok());
        assert!(f.admit(&v(5, 1_100), 1_200).is_ok());
        assert_eq!(f.last_seq("a.example"), 5);
        assert_eq!(f.last_timestamp("a.example"), Some(1_100));
        assert_eq!(f.last_timestamp("b.example"), None);
    }

    #[test]
    fn a_replayed_or_older_sequence_number_is_refused() {
        let mut f = Freshness::new(60_000, 5_000);
        f.admit(&v(5, 1_000), 1_000).unwrap();
        assert!(matches!(
            f.admit(&v(5, 1_000), 1_000),
            Err(EnvelopeError::Replayed {
                seq: 5,
                last: 5,
                ..
            })
        ));
        assert!(matches!(
            f.admit(&v(4, 1_000), 1_000),
            Err(EnvelopeError::Replayed { .. })
        ));
    }

    #[test]
    fn timestamps_outside_the_window_are_stale() {
        let mut f = Freshness::new(60_000, 5_000);
        assert!(matches!(
            f.admit(&v(1, 0), 60_001),
            Err(EnvelopeError::Stale { .. })
        ));
        assert!(matches!(
            f.admit(&v(2, 70_000), 60_000),
            Err(EnvelopeError::Stale { .. })
        ));
        assert!(f.admit(&v(3, 64_000), 60_000).is_ok());
    }
}
