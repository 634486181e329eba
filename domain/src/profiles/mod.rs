//! Presence profiles, triggers and the profile state machine (pure).
//!
//! A profile switches a whole situation with one click (XPhone Connect, ProCall, pascom): a
//! presence, a note, call forwarding, queue actions and action chains on entering and leaving.
//! Profiles are switched by hand, by time of day, by client start and exit, by inactivity, by the
//! calendar and by an external meeting source. Everything here is a function of its inputs: the
//! profile runtime (in the node) owns the stored [`ProfileBook`], [`ProfileSettings`] and [`ProfileState`] per user, calls
//! [`on_event`] with the time, carries out the returned [`Effect`]s in order, and arms one timer for
//! [`next_trigger_time`].
//!
//! Layout: `model` (profile, forwarding, actions, validation), `book` (a user's profiles and the
//! edit rules), `triggers` (trigger settings, time-of-day arithmetic in the user's zone), `state`
//! (stored state, events, effects), `record` (one user's stored profile data), `machine`
//! (candidates, stickiness, transitions and effects).

mod book;
mod machine;
mod model;
mod record;
mod state;
mod triggers;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod book_tests;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod machine_tests;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod test_support;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod trigger_tests;

pub use book::{Editor, ProfileBook, default_system_profiles};
pub use machine::{next_trigger_time, on_event, presence_calendar, profile_source};
pub use model::{
    Action, Chain, Colour, DeviceFamily, ForwardTarget, ForwardingChange, MAX_CHAIN_STEPS,
    MAX_QUEUE_ACTIONS, MAX_USER_PROFILES, Profile, ProfileError, ProfileSpec, QueueAction, QueueOp,
    QueueScope, Scope, Step, Symbol,
};
pub use record::ProfileRecord;
pub use state::{Active, Cause, Ctx, Effect, Event, Held, ProfileState};
pub use triggers::{
    CalendarTrigger, EventMode, InactivityTrigger, ProfileSettings, TimeTrigger, Weekdays,
};
