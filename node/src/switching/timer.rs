//! The runtime's one timer: per user the instant [`next_trigger_time`] names (a time trigger, a
//! calendar boundary, an inactivity threshold), or an hourly look at the calendar so the presence
//! model gets the next day's appointments.
//!
//! [`next_trigger_time`]: crate::profiles::next_trigger_time

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use jid::BareJid;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{Inner, Switching};
use crate::calendar::Appointment;
use crate::engine::now;
use crate::presence::Timestamp;
use crate::profiles::Event;

/// How often a user with appointments is looked at even without a trigger.
const CALENDAR_REFRESH: Duration = Duration::from_secs(3600);
/// Longest sleep without looking at the clock again (a clock jump is noticed).
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// Pending instants, by time and by user.
#[derive(Debug, Default)]
pub(super) struct Timers {
    wheel: Mutex<Wheel>,
    changed: Notify,
}

#[derive(Debug, Default)]
struct Wheel {
    by_time: BTreeSet<(Timestamp, BareJid)>,
    by_user: HashMap<BareJid, Timestamp>,
}

impl Timers {
    /// Set (or clear) the one pending instant of `user`.
    pub(super) fn set(&self, user: &BareJid, at: Option<Timestamp>) {
        let mut w = self.lock();
        if let Some(old) = w.by_user.remove(user) {
            w.by_time.remove(&(old, user.clone()));
        }
        if let Some(at) = at {
            w.by_time.insert((at, user.clone()));
            w.by_user.insert(user.clone(), at);
        }
        drop(w);
        self.changed.notify_one();
    }

    fn next(&self) -> Option<Timestamp> {
        self.lock().by_time.first().map(|(t, _)| *t)
    }

    /// Remove and return every user due at `now`.
    fn due(&self, now: Timestamp) -> Vec<BareJid> {
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

    fn lock(&self) -> MutexGuard<'_, Wheel> {
        self.wheel.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The instant to wake for: the trigger time, or the hourly calendar look if sooner.
pub(super) fn wake_at(
    trigger: Option<Timestamp>,
    calendar: &[Appointment],
    now: Timestamp,
) -> Option<Timestamp> {
    let refresh = (!calendar.is_empty()).then(|| now.saturating_add(CALENDAR_REFRESH));
    [trigger, refresh].into_iter().flatten().min()
}

/// Sleep until the earliest instant, send the users due a [`Event::Tick`], repeat.
pub(super) async fn run(inner: Weak<Inner>, cancel: CancellationToken) {
    loop {
        let (wait, strong) = {
            let Some(inner) = inner.upgrade() else { return };
            let wait = inner
                .timers
                .next()
                .map(|t| t.since(now()))
                .unwrap_or(MAX_SLEEP)
                .min(MAX_SLEEP);
            (wait, Arc::clone(&inner))
        };
        tokio::select! {
            () = cancel.cancelled() => return,
            () = strong.timers.changed.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
        let due = strong.timers.due(now());
        let switching = Switching { inner: strong };
        for user in due {
            if let Err(e) = switching.apply(&user, Event::Tick, |_| Ok(())).await {
                tracing::warn!(%user, error = %e, "profile timer failed");
            }
        }
    }
}
