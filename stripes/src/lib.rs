//! Per-key exclusion without a lock per key: a fixed set of async mutexes, a key always mapping
//! to the same one.
//!
//! The node serializes the read-modify-write of one user's stored state (the engine's record, the
//! profile runtime's state, the router's contacts and publications) without keeping a lock per
//! user, which would grow with every account ever seen. Two keys may share a stripe and wait for
//! each other briefly; no key ever waits for more than its one stripe.

use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher, Hash};

use tokio::sync::{Mutex, MutexGuard};

/// Stripes in a set made by [`Stripes::default`]: enough that unrelated users rarely meet.
pub const DEFAULT_STRIPES: usize = 64;

/// A set of striped locks.
#[derive(Debug)]
pub struct Stripes(Vec<Mutex<()>>);

impl Default for Stripes {
    fn default() -> Self {
        Stripes::new(DEFAULT_STRIPES)
    }
}

impl Stripes {
    /// A set of `n` stripes (at least one).
    pub fn new(n: usize) -> Self {
        Stripes((0..n.max(1)).map(|_| Mutex::new(())).collect())
    }

    /// Exclusive right for `key` (and whoever shares its stripe) until the guard drops.
    pub async fn lock<K: Hash + ?Sized>(&self, key: &K) -> MutexGuard<'_, ()> {
        // A fixed hasher, so one key maps to the same stripe for the life of the set.
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(key);
        self.0[(hash % self.0.len() as u64) as usize].lock().await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn one_key_waits_for_its_holder() {
        let stripes = Stripes::default();
        let held = stripes.lock("alice").await;
        let waited = tokio::time::timeout(Duration::from_secs(1), stripes.lock("alice")).await;
        assert!(waited.is_err(), "a second holder of the same key must wait");
        drop(held);
        let again = tokio::time::timeout(Duration::from_secs(1), stripes.lock("alice")).await;
        assert!(again.is_ok(), "the key is free once the guard drops");
    }

    #[tokio::test(start_paused = true)]
    async fn keys_on_different_stripes_do_not_wait() {
        let stripes = Stripes::new(2);
        let _alice = stripes.lock(&0u8).await;
        // With two stripes, one of the next few keys lands on the other stripe.
        let mut free = 0;
        for k in 1u8..8 {
            if tokio::time::timeout(Duration::from_millis(10), stripes.lock(&k))
                .await
                .is_ok()
            {
                free += 1;
            }
        }
        assert!(free > 0, "some key must map to the free stripe");
    }
}
