//! Presence: states, sources, and their aggregation into one effective presence (pure).
//!
//! Everything here is a function of its inputs: no I/O, no clock, no XMPP or storage types. Time
//! comes in as a [`Timestamp`]; the engine owns the live [`Sources`] of each user, calls
//! [`aggregate`] after every source event, fans out only when [`changed`] says so, and arms one timer
//! for [`next_transition`]. The precedence rules are numbered in `docs/PRESENCE.md`; the unit tests
//! in `rules_tests.rs` and `rules_display_tests.rs` are named after them.
//!
//! Layout: `availability` (lamp colours), `activity` (what the user does, XEP-0108 mapping), `line`
//! (per-line telephony, busy lamp), `queue` (agent states), `device` (device kinds, "mobile only"),
//! `text` (bounded notes and names), `time` (timestamps, UTC offsets), `sources` (the inputs),
//! `claims` (ranking), `aggregate` (the result), `status_text` (the English status line).

mod activity;
mod aggregate;
mod availability;
mod claims;
mod device;
mod effective;
mod line;
mod queue;
mod sources;
mod status_text;
mod text;
mod time;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod rules_display_tests;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod rules_tests;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod scenario_tests;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod test_support;

pub use activity::{Activity, UserActivity};
pub use aggregate::{aggregate, changed, next_transition};
pub use availability::{Availability, ClientShow, ManualAvailability, Settable};
pub use claims::SourceKind;
pub use device::{DeviceKind, Devices};
pub use effective::EffectivePresence;
pub use line::{Call, Lamp, LineState};
pub use queue::AgentState;
pub use sources::{
    Booking, BookingKind, ClientPresence, DEFAULT_IDLE_THRESHOLD, ExternalSource, Manual,
    ProfileSource, Settings, Sources,
};
pub use status_text::render as render_status_line;
pub use text::{
    LineId, MAX_NAME_BYTES, MAX_NOTE_BYTES, Note, ProfileName, QueueId, SourceName, TextError,
};
pub use time::{Timestamp, UtcOffset};
