//! Large rosters kept decoded in memory.
//!
//! Every presence change of a user is sent to each subscriber, so the router reads the user's
//! whole roster for each one. For a receptionist watched by a thousand colleagues whose phone
//! line changes state every few seconds, decoding a thousand records each time costs more than
//! the rest of the fan-out. Rosters of at least [`MIN_CACHED`] contacts are therefore kept here,
//! for at most [`MAX_USERS`] users.
//!
//! A roster here is as the user sees it, the directory's colleagues merged in (`directory.rs`).
//! Correctness rests on one rule: every write to a user's contacts goes through [`Store`]
//! (`put_contact`, `remove_contact`, account removal), which makes it inside
//! [`RosterCache::writing`], and every change of the directory forgets all rosters
//! ([`RosterCache::invalidate_all`]). A read that raced with a write could hold the roster as it was before; it
//! may only fill the cache if no write happened anywhere since the read began (the generation
//! counter), so a stale copy is never kept.
//!
//! [`Store`]: super::Store

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use jid::BareJid;

use super::records::Contact;

/// Rosters smaller than this are read from sled each time: decoding them is cheap.
pub(super) const MIN_CACHED: usize = 64;
/// Most users whose rosters are kept; when full, the cache starts over.
pub(super) const MAX_USERS: usize = 1024;

/// One user's stored contacts, in byte order of the contact's JID.
pub(super) type Roster = Arc<Vec<(BareJid, Contact)>>;

#[derive(Default)]
pub(super) struct RosterCache {
    rosters: Mutex<HashMap<BareJid, Roster>>,
    /// Incremented by every contact write.
    generation: AtomicU64,
}

impl RosterCache {
    fn rosters(&self) -> MutexGuard<'_, HashMap<BareJid, Roster>> {
        self.rosters.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached roster of `user`, if there is one.
    pub(super) fn get(&self, user: &BareJid) -> Option<Roster> {
        self.rosters().get(user).cloned()
    }

    /// Mark the start of a read from sled; pass the result to [`RosterCache::fill`].
    pub(super) fn reading(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Keep `roster`, read since `started`, unless a write happened meanwhile or it is small.
    pub(super) fn fill(&self, user: &BareJid, roster: &Roster, started: u64) {
        if roster.len() < MIN_CACHED {
            return;
        }
        let mut rosters = self.rosters();
        // Checked under the lock that `invalidate` takes too: a write that bumps the
        // generation after this check also removes what is inserted here.
        if self.generation.load(Ordering::SeqCst) != started {
            return;
        }
        if rosters.len() >= MAX_USERS && !rosters.contains_key(user) {
            rosters.clear();
        }
        rosters.insert(user.clone(), Arc::clone(roster));
    }

    /// Run `write`, a write to `user`'s contacts, so that no reader takes the cached roster
    /// while it is under way nor keeps a roster it read before the write completed.
    pub(super) fn writing<T>(&self, user: &BareJid, write: impl FnOnce() -> T) -> T {
        self.invalidate(user);
        let done = write();
        self.invalidate(user);
        done
    }

    /// Forget every roster, and refuse reads that began before: the directory changed, which
    /// shows in every roster.
    pub(super) fn invalidate_all(&self) {
        let mut rosters = self.rosters();
        self.generation.fetch_add(1, Ordering::SeqCst);
        rosters.clear();
    }

    /// Forget `user`'s roster, and refuse reads that began before.
    fn invalidate(&self, user: &BareJid) {
        let mut rosters = self.rosters();
        self.generation.fetch_add(1, Ordering::SeqCst);
        rosters.remove(user);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn roster(n: usize) -> Roster {
        Arc::new(
            (0..n)
                .map(|i| {
                    (
                        BareJid::new(&format!("c{i}@example.org")).unwrap(),
                        Contact::default(),
                    )
                })
                .collect(),
        )
    }

    #[test]
    fn keeps_large_rosters_and_forgets_them_on_write() {
        let cache = RosterCache::default();
        let alice = BareJid::new("alice@example.org").unwrap();
        let started = cache.reading();
        cache.fill(&alice, &roster(3), started);
        assert!(cache.get(&alice).is_none(), "small rosters are not kept");
        cache.fill(&alice, &roster(MIN_CACHED), started);
        assert_eq!(cache.get(&alice).unwrap().len(), MIN_CACHED);
        cache.writing(&alice, || ());
        assert!(cache.get(&alice).is_none());
    }

    #[test]
    fn a_read_that_raced_with_a_write_is_not_kept() {
        let cache = RosterCache::default();
        let alice = BareJid::new("alice@example.org").unwrap();
        let bob = BareJid::new("bob@example.org").unwrap();
        let started = cache.reading();
        // Another user's write between the read and the fill is enough to refuse it.
        cache.writing(&bob, || ());
        cache.fill(&alice, &roster(MIN_CACHED), started);
        assert!(cache.get(&alice).is_none());
    }
}
