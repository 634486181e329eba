//! One pending instant per user, kept in order, and the wake-up for a task that sleeps until the
//! earliest. The engine uses it for the instant a user's presence changes by itself (a setting
//! lapses, an appointment starts, the idle threshold passes: `presence::next_transition`); the
//! profile runtime for its triggers (`profile_runtime/timer.rs`).

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use jid::BareJid;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use lampfield_domain::presence::Timestamp;

/// Longest sleep without looking at the clock again, so that a clock jump is noticed.
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// Pending instants, by time and by user.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    state: Mutex<Wheel>,
    /// Woken when an earlier instant than the one being slept on may have arrived.
    changed: Notify,
}

#[derive(Debug, Default)]
struct Wheel {
    by_time: BTreeSet<(Timestamp, BareJid)>,
    by_user: HashMap<BareJid, Timestamp>,
}

impl Timers {
    /// Set (or clear, with `None`) the one pending instant of `user`.
    pub(crate) fn set(&self, user: &BareJid, at: Option<Timestamp>) {
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
    pub(crate) fn next(&self) -> Option<Timestamp> {
        self.lock().by_time.first().map(|(t, _)| *t)
    }

    /// Sleep until the earliest instant (never longer than a minute) or until an earlier one
    /// is set; `false` when `cancel` fired instead.
    pub(crate) async fn sleep(&self, cancel: &CancellationToken) -> bool {
        let wait = self
            .next()
            .map(|t| t.since(super::now()))
            .unwrap_or(MAX_SLEEP)
            .min(MAX_SLEEP);
        tokio::select! {
            () = cancel.cancelled() => false,
            () = self.changed.notified() => true,
            () = tokio::time::sleep(wait) => true,
        }
    }

    /// Remove and return every user whose instant is at or before `now`.
    pub(crate) fn due(&self, now: Timestamp) -> Vec<BareJid> {
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
