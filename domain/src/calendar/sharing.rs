//! What a user shares of their calendar (XPhone V1; FEATURES §2.6): nothing, public appointments
//! only, public ones plus the times and status of private ones, or everything. A private
//! appointment's subject is never part of a [`SharedAppointment`], whatever the level: the value is
//! built without reading it.

use serde::{Deserialize, Serialize};

use super::appointment::{Appointment, Origin, ShowAs};
use crate::presence::{Note, ProfileName, Timestamp};

/// The user's choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sharing {
    /// No appointment leaves the node (the presence still says "busy", without detail).
    Nothing,
    /// Public appointments with times, status and subject; private ones are left out.
    PublicOnly,
    /// As `PublicOnly`, plus the times and status of private appointments.
    #[default]
    PublicAndPrivateTimes,
    /// As above, plus organizer, invitation flag and profile category of public appointments.
    Everything,
}

/// An appointment as it may leave the node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedAppointment {
    /// Start.
    pub start: Timestamp,
    /// End (exclusive).
    pub end: Timestamp,
    /// How it shows the user.
    pub show_as: ShowAs,
    /// Whether it is private (then there is never a subject).
    pub private: bool,
    /// The subject of a public appointment.
    pub subject: Option<Note>,
    /// Organizer of an invitation (level `Everything`, public appointments).
    pub organizer: Option<Note>,
    /// An invitation (level `Everything`, public appointments).
    pub invitation: bool,
    /// The named profile (level `Everything`, public appointments).
    pub profile_category: Option<ProfileName>,
}

impl SharedAppointment {
    /// Times and status only.
    fn times(a: &Appointment) -> Self {
        SharedAppointment {
            start: a.start,
            end: a.end,
            show_as: a.show_as,
            private: a.private,
            subject: None,
            organizer: None,
            invitation: false,
            profile_category: None,
        }
    }
}

/// The appointments a viewer may see at `level`, in the given order.
pub fn share(appointments: &[Appointment], level: Sharing) -> Vec<SharedAppointment> {
    appointments
        .iter()
        .filter_map(|a| share_one(a, level))
        .collect()
}

fn share_one(a: &Appointment, level: Sharing) -> Option<SharedAppointment> {
    match (level, a.private) {
        (Sharing::Nothing, _) | (Sharing::PublicOnly, true) => None,
        (_, true) => Some(SharedAppointment::times(a)),
        (Sharing::Everything, false) => Some(SharedAppointment {
            subject: a.shareable_subject().cloned(),
            organizer: match &a.origin {
                Origin::Invitation { organizer } => organizer.clone(),
                Origin::Own => None,
            },
            invitation: a.is_invitation(),
            profile_category: a.profile_category.clone(),
            ..SharedAppointment::times(a)
        }),
        (_, false) => Some(SharedAppointment {
            subject: a.shareable_subject().cloned(),
            ..SharedAppointment::times(a)
        }),
    }
}
