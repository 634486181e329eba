//! Appointments, overlap resolution, sharing and iCalendar import (pure).
//!
//! Appointments come from an `.ics` file (RFC 5545) handed in as bytes, or from the API; the profile
//! runtime stores them per user and hands them to the presence model ([`Appointment::to_presence`]) and to
//! the profile state machine's calendar trigger. Nothing here reads a clock or a file: "now", the import
//! window and the user's time zone are parameters, so every rule is tested with simulated time.
//!
//! Layout: `zone` (IANA time zone as a stored value), `appointment` (the record, show-as, private
//! subject, the innermost-wins rule of XPhone D3), `record` (one user's stored calendar),
//! `sharing` (what leaves the node, XPhone V1),
//! `ics` (bounded import with recurrence expansion), `ics_values` (RFC 5545 value parsing).

mod appointment;
mod ics;
mod ics_values;
mod record;
mod sharing;
mod zone;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod ics_tests;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

pub use appointment::{
    Appointment, AppointmentError, Origin, ShowAs, Subject, category_profile, innermost,
    next_boundary,
};
pub use ics::{IcsError, ImportLimits, ImportOptions, Imported, import_ics};
pub use record::CalendarRecord;
pub use sharing::{SharedAppointment, Sharing, share};
pub use zone::{Zone, ZoneError};
