//! What a running node holds per token, by its hash: its request budget, and a cancellation that
//! ends every change stream it opened. The API takes from the budget and opens streams under the
//! cancellation; the admin service revokes a token it removes, which ends its streams at once.
//! Entries exist only for tokens that made a request and leave when the token is revoked, so the
//! map is bounded by the tokens the operator made.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota};
use tokio_util::sync::CancellationToken;

use super::KnownToken;
use super::scope::BURST_PER_RATE;

/// The per-token state of one running node; clones share it.
#[derive(Debug, Clone, Default)]
pub struct LiveTokens {
    entries: Arc<Mutex<HashMap<[u8; 32], Entry>>>,
}

#[derive(Debug)]
struct Entry {
    /// The rate the budget was made for, and the budget (a GCRA token bucket).
    budget: Option<(u32, DefaultDirectRateLimiter)>,
    /// Parent of every open stream's cancellation.
    streams: CancellationToken,
}

impl LiveTokens {
    fn entries(&self) -> MutexGuard<'_, HashMap<[u8; 32], Entry>> {
        // A panic while holding the lock leaves the map consistent (each step is one insert or
        // remove), so a poisoned lock is still usable.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Take one request from `token`'s budget (`token.rate` a second, bursts of
    /// [`BURST_PER_RATE`] times that). `Err` carries how long until the next request fits.
    pub fn admit(&self, token: &KnownToken) -> Result<(), Duration> {
        let mut entries = self.entries();
        let entry = entries.entry(token.sha256).or_insert_with(Entry::new);
        let rate = NonZeroU32::new(token.rate).unwrap_or(NonZeroU32::MIN);
        let current = entry.budget.as_ref().is_some_and(|(r, _)| *r == rate.get());
        if !current {
            let burst =
                rate.saturating_mul(NonZeroU32::new(BURST_PER_RATE).unwrap_or(NonZeroU32::MIN));
            let quota = Quota::per_second(rate).allow_burst(burst);
            entry.budget = Some((rate.get(), DefaultDirectRateLimiter::direct(quota)));
        }
        match &entry.budget {
            Some((_, budget)) => budget
                .check()
                .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now())),
            None => Ok(()),
        }
    }

    /// A cancellation for one change stream of the token with hash `sha256`: cancelled when the
    /// token is revoked. Check that the token is still known after taking it: a revocation that
    /// came just before found nothing to cancel.
    pub fn stream(&self, sha256: &[u8; 32]) -> CancellationToken {
        self.entries()
            .entry(*sha256)
            .or_insert_with(Entry::new)
            .streams
            .child_token()
    }

    /// The token with hash `sha256` is gone: end its streams, forget its budget.
    pub fn revoke(&self, sha256: &[u8; 32]) {
        let entry = self.entries().remove(sha256);
        if let Some(entry) = entry {
            entry.streams.cancel();
        }
    }
}

impl Entry {
    fn new() -> Self {
        Entry {
            budget: None,
            streams: CancellationToken::new(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::tokens::TokenScope;
    use lampfield_domain::access::Level;

    fn token(byte: u8, rate: u32) -> KnownToken {
        KnownToken {
            name: format!("t{byte}"),
            sha256: [byte; 32],
            level: Level::Team,
            scope: TokenScope::default(),
            rate,
        }
    }

    #[test]
    fn a_burst_of_twice_the_rate_then_refusals_each_token_on_its_own() {
        let live = LiveTokens::default();
        let slow = token(1, 3);
        let admitted = (0..20).filter(|_| live.admit(&slow).is_ok()).count();
        assert_eq!(admitted, 6, "a burst of twice the rate");
        let wait = live.admit(&slow).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        // Another token has its own budget.
        assert!(live.admit(&token(2, 3)).is_ok());
        // Revoking forgets the budget along with the streams.
        live.revoke(&slow.sha256);
        assert!(live.admit(&slow).is_ok());
    }

    #[test]
    fn revoking_ends_the_tokens_streams_only() {
        let live = LiveTokens::default();
        let a = live.stream(&[1; 32]);
        let a2 = live.stream(&[1; 32]);
        let b = live.stream(&[2; 32]);
        live.revoke(&[1; 32]);
        assert!(a.is_cancelled() && a2.is_cancelled());
        assert!(!b.is_cancelled());
        // Revoking a token with no entry is harmless.
        live.revoke(&[3; 32]);
    }
}
