//! One appointment: times, show-as, subject, category, private flag, own or invitation; and the
//! overlap rule (XPhone D3): the innermost currently valid appointment wins.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::presence::{self, Note, ProfileName, Timestamp};

/// How an appointment shows the user (RFC 5545 TRANSP and Outlook's
/// `X-MICROSOFT-CDO-BUSYSTATUS`; XPhone T3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShowAs {
    /// Free: never changes presence or profile.
    Free,
    /// Working elsewhere ("An anderem Ort tätig"): never changes presence or profile.
    WorkingElsewhere,
    /// Tentative ("Mit Vorbehalt").
    Tentative,
    /// Busy ("Gebucht").
    Busy,
    /// Out of office ("Abwesend").
    OutOfOffice,
}

impl ShowAs {
    /// The presence model's view: `None` for free and working elsewhere, which never reach it.
    pub fn blocking(self) -> Option<presence::BookingKind> {
        match self {
            ShowAs::Free | ShowAs::WorkingElsewhere => None,
            ShowAs::Tentative => Some(presence::BookingKind::Tentative),
            ShowAs::Busy => Some(presence::BookingKind::Busy),
            ShowAs::OutOfOffice => Some(presence::BookingKind::OutOfOffice),
        }
    }
}

/// Who created the appointment (XPhone T4: invitations may be treated differently).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Origin {
    /// The user organized it, or nobody else is named as organizer.
    #[default]
    Own,
    /// A meeting invitation from someone else.
    Invitation {
        /// The organizer as the calendar names them (e.g. `mailto:boss@example.org`).
        organizer: Option<Note>,
    },
}

/// An appointment's subject. It is stored on the node for the owner only: `Debug` prints nothing,
/// and the only way to get a shareable [`Note`] out is [`Appointment::shareable_subject`], which
/// yields nothing for private appointments (XPhone V1: private appointments always appear without
/// subject).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Subject(Note);

impl fmt::Debug for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Subject(..)")
    }
}

/// Why an appointment was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppointmentError {
    /// The end is not after the start.
    #[error("the appointment ends before it starts")]
    EndsBeforeStart,
}

/// One appointment, valid for `start <= now < end`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    /// Start.
    pub start: Timestamp,
    /// End (exclusive).
    pub end: Timestamp,
    /// How it shows the user.
    pub show_as: ShowAs,
    /// Private appointments never reveal their subject to anyone but the owner.
    pub private: bool,
    /// The profile an "@Name" category names (XPhone T3, "@Nicht stören").
    pub profile_category: Option<ProfileName>,
    /// Own appointment or invitation.
    pub origin: Origin,
    /// The subject, kept for the owner (see [`Subject`]).
    subject: Option<Subject>,
}

impl Appointment {
    /// A public appointment without subject, category or organizer.
    pub fn new(
        start: Timestamp,
        end: Timestamp,
        show_as: ShowAs,
    ) -> Result<Self, AppointmentError> {
        if end <= start {
            return Err(AppointmentError::EndsBeforeStart);
        }
        Ok(Appointment {
            start,
            end,
            show_as,
            private: false,
            profile_category: None,
            origin: Origin::Own,
            subject: None,
        })
    }

    /// An appointment at the epoch whose times the importer overwrites.
    pub(super) fn template(show_as: ShowAs) -> Self {
        Appointment {
            start: Timestamp::EPOCH,
            end: Timestamp::EPOCH,
            show_as,
            private: false,
            profile_category: None,
            origin: Origin::Own,
            subject: None,
        }
    }

    /// Sets the subject.
    pub fn with_subject(mut self, subject: Note) -> Self {
        self.subject = Some(Subject(subject));
        self
    }

    /// Marks it private (or public).
    pub fn with_private(mut self, private: bool) -> Self {
        self.private = private;
        self
    }

    /// Sets the profile the appointment names.
    pub fn with_profile(mut self, profile: ProfileName) -> Self {
        self.profile_category = Some(profile);
        self
    }

    /// Sets who created it.
    pub fn with_origin(mut self, origin: Origin) -> Self {
        self.origin = origin;
        self
    }

    /// Valid at `now`.
    pub fn is_current(&self, now: Timestamp) -> bool {
        self.start <= now && now < self.end
    }

    /// An invitation from someone else.
    pub fn is_invitation(&self) -> bool {
        matches!(self.origin, Origin::Invitation { .. })
    }

    /// The subject for the owner's own views (their appointment list). Never for anything that
    /// leaves the node: use [`Appointment::shareable_subject`].
    pub fn owner_subject(&self) -> Option<&str> {
        self.subject.as_ref().map(|s| s.0.as_str())
    }

    /// The subject as it may be shown to others: nothing for a private appointment.
    pub fn shareable_subject(&self) -> Option<&Note> {
        if self.private {
            None
        } else {
            self.subject.as_ref().map(|s| &s.0)
        }
    }

    /// The presence model's appointment, or `None` for free and working-elsewhere ones. A private
    /// appointment's subject is not copied.
    pub fn to_presence(&self) -> Option<presence::Booking> {
        Some(presence::Booking {
            start: self.start,
            end: self.end,
            show_as: self.show_as.blocking()?,
            subject: self.shareable_subject().cloned(),
            private: self.private,
        })
    }
}

/// The profile an appointment category names: `"@Do not disturb"` names "Do not disturb".
pub fn category_profile(category: &str) -> Option<ProfileName> {
    let rest = category.trim().strip_prefix('@')?.trim();
    ProfileName::new(rest).ok()
}

/// The innermost current appointment (XPhone D3): of those valid at `now`, the one that started
/// last, and of those the one that ends first. When it ends, the enclosing one wins again by the
/// same rule.
pub fn innermost<'a>(
    appointments: impl IntoIterator<Item = &'a Appointment>,
    now: Timestamp,
) -> Option<&'a Appointment> {
    appointments
        .into_iter()
        .filter(|a| a.is_current(now))
        .max_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)))
}

/// The next instant after `now` at which some appointment starts or ends.
pub fn next_boundary<'a>(
    appointments: impl IntoIterator<Item = &'a Appointment>,
    now: Timestamp,
) -> Option<Timestamp> {
    appointments
        .into_iter()
        .flat_map(|a| [a.start, a.end])
        .filter(|t| *t > now)
        .min()
}
