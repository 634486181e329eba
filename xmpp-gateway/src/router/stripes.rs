//! Per-user exclusion without a lock per user: a fixed set of async mutexes, a user always
//! mapping to the same one. Two users may share a stripe and wait for each other briefly; no
//! user ever waits for more than the one stripe.

use jid::BareJid;
use tokio::sync::{Mutex, MutexGuard};

/// Stripes in every set.
const STRIPES: usize = 64;

/// A set of striped locks.
pub(super) struct Stripes(Vec<Mutex<()>>);

impl Default for Stripes {
    fn default() -> Self {
        Stripes((0..STRIPES).map(|_| Mutex::new(())).collect())
    }
}

impl Stripes {
    /// Exclusive right for `user` (and whoever shares its stripe) until the guard drops.
    pub(super) async fn lock(&self, user: &BareJid) -> MutexGuard<'_, ()> {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(user);
        self.0[(hash % self.0.len() as u64) as usize].lock().await
    }
}
