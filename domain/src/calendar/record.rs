//! One user's calendar as the node keeps it: the stored value of `userid_calendar`.

use serde::{Deserialize, Serialize};

use super::{Appointment, Sharing};

/// What the node keeps about one user's calendar.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CalendarRecord {
    /// Appointments, sorted by start (the subject of a private one never leaves the node).
    pub appointments: Vec<Appointment>,
    /// What the user shares; `None` until chosen (the default applies).
    pub sharing: Option<Sharing>,
}
