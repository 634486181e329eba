//! The runtime's one timer: per user the instant [`next_trigger_time`] names (a time trigger, a
//! calendar boundary, an inactivity threshold), or an hourly look at the calendar so the presence
//! model gets the next day's appointments. The instants are kept in the engine's wheel
//! ([`Timers`]).
//!
//! [`Timers`]: crate::engine::Timers
//!
//! [`next_trigger_time`]: lampfield_domain::profiles::next_trigger_time

use std::sync::Weak;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{Inner, ProfileRuntime};
use crate::engine::now;
use lampfield_domain::calendar::Appointment;
use lampfield_domain::presence::Timestamp;
use lampfield_domain::profiles::Event;

/// How often a user with appointments is looked at even without a trigger.
const CALENDAR_REFRESH: Duration = Duration::from_secs(3600);

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
        let Some(strong) = inner.upgrade() else {
            return;
        };
        if !strong.timers.sleep(&cancel).await {
            return;
        }
        let due = strong.timers.due(now());
        let profile_runtime = ProfileRuntime { inner: strong };
        for user in due {
            if let Err(e) = profile_runtime.apply(&user, Event::Tick, |_| Ok(())).await {
                tracing::warn!(%user, error = %e, "profile timer failed");
            }
        }
    }
}
