//! The engine's one timer: the earliest instant at which some user's presence changes by itself
//! (a setting lapses, an appointment starts, the idle threshold passes).
//!
//! Each user has at most one pending instant (`presence::next_transition`); the wheel keeps them
//! ordered and wakes the engine's timer task for the earliest.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use jid::BareJid;
use tokio::sync::Notify;

use crate::presence::Timestamp;

/// Pending instants, by time and by user.
#[derive(Debug, Default)]
pub(super) struct Timers {
    state: Mutex<Wheel>,
    /// Woken when an earlier instant than the one being slept on may have arrived.
    pub(super) changed: Notify,
}

#[derive(Debug, Default)]
struct Wheel {
    by_time: BTreeSet<(Timestamp, BareJid)>,
    by_user: HashMap<BareJid, Timestamp>,
}

impl Timers {
    /// Set (or clear, with `None`) the one pending instant of `user`.
    pub(super) fn set(&self, user: &BareJid, at: Option<Timestamp>) {
        let mut w = self.lock();
        let old = w.by_user.remove(user);
        if let Some(old) = old {
            w.by_time.remove(&(old, user.clone()));
        }
        if let Some(at) = at {
            w.by_time.insert((at, user.clone()));
            w.by_user.insert(user.clone(), at);
        }
        let earliest = w.by_time.first().map(|(t, _)| *t);
        drop(w);
        if at.is_some() && earliest == at && old != at {
            self.changed.notify_one();
        }
    }

    /// The earliest pending instant.
    pub(super) fn next(&self) -> Option<Timestamp> {
        self.lock().by_time.first().map(|(t, _)| *t)
    }

    /// Remove and return every user whose instant is at or before `now`.
    pub(super) fn due(&self, now: Timestamp) -> Vec<BareJid> {
        let mut w = self.lock();
        let mut out = Vec::new();
        while let Some((t, _)) = w.by_time.first() {
            if *t > now {
                break;
            }
            if let Some((_, user)) = w.by_time.pop_first() {
                w.by_user.remove(&user);
                out.push(user);
            }
        }
        out
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Wheel> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn each_user_has_one_instant_and_due_pops_in_order() {
        let t = Timers::default();
        let a = BareJid::new("a@x").unwrap();
        let b = BareJid::new("b@x").unwrap();
        t.set(&a, Some(Timestamp::from_unix_ms(50)));
        t.set(&a, Some(Timestamp::from_unix_ms(30)));
        t.set(&b, Some(Timestamp::from_unix_ms(40)));
        assert_eq!(t.next(), Some(Timestamp::from_unix_ms(30)));
        assert_eq!(t.due(Timestamp::from_unix_ms(35)), vec![a.clone()]);
        t.set(&b, None);
        assert_eq!(t.next(), None);
        assert!(t.due(Timestamp::from_unix_ms(100)).is_empty());
    }
}
