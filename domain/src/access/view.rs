//! The one filter between a user's presence and a viewer: [`view_for`] (docs/ACCESS.md).
//!
//! Every outgoing path (c2s delivery and probes, the integration API and its stream, federation,
//! s2s) hands the viewer's [`Level`] and the user's [`Detail`] to [`view_for`] and sends what comes
//! back, nothing else. The view is built up from "presence unavailable", field by field, so a field
//! is hidden unless a level explicitly reveals it, and the status line is re-rendered from the
//! reduced fields so the text never says more than the fields do.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::level::Level;
use crate::presence::{
    Availability, Booking, BookingKind, Call, Devices, EffectivePresence, Lamp, LineId, LineState,
    Note, SourceKind, Timestamp, UtcOffset, render_status_line,
};

/// Everything the node holds about one user's presence at one instant: the input of [`view_for`].
///
/// The effective presence carries the live state; the appointment list and the forwarding target
/// come from the calendar and profile modules and are not part of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detail {
    /// The aggregated presence (`presence::aggregate`).
    pub presence: EffectivePresence,
    /// Today's appointments, as the calendar module holds them (with subjects and private flags).
    #[serde(default)]
    pub appointments: Vec<Booking>,
    /// The active call forwarding, as the profile module reports it.
    #[serde(default)]
    pub forwarding: Option<Forwarding>,
}

impl Detail {
    /// A presence without appointments or forwarding.
    pub fn new(presence: EffectivePresence) -> Self {
        Detail {
            presence,
            appointments: Vec::new(),
            forwarding: None,
        }
    }

    /// What the node holds about an account that does not exist or has never logged in: nothing.
    pub fn unknown() -> Self {
        Detail::new(EffectivePresence::unavailable())
    }
}

impl From<EffectivePresence> for Detail {
    fn from(presence: EffectivePresence) -> Self {
        Detail::new(presence)
    }
}

/// An active call forwarding (ProCall "see the number of a set redirection": team and above).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forwarding {
    /// Where calls go: a number or an address, as the PBX or profile names it.
    pub target: Note,
}

/// One appointment as a viewer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// Start.
    pub start: Timestamp,
    /// End (exclusive).
    pub end: Timestamp,
    /// Busy, tentative or out of office: the free/busy type.
    pub show_as: BookingKind,
    /// The subject: team and above, and never of a private appointment.
    pub subject: Option<Note>,
    /// Marked private: personal only; below that a private appointment is a plain busy block.
    pub private: bool,
}

/// What one viewer may see of one user.
///
/// The fields are private and there is no `Deserialize`: [`view_for`] and [`View::unavailable`]
/// are the only ways to make one. An outgoing path that takes a `View` therefore cannot send
/// unfiltered presence; paths should accept `View`, never `EffectivePresence` or [`Detail`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct View {
    presence: EffectivePresence,
    appointments: Vec<Slot>,
    forwarding: Option<Forwarding>,
}

impl View {
    /// The reduced presence, with its status line re-rendered from the reduced fields.
    pub fn presence(&self) -> &EffectivePresence {
        &self.presence
    }

    /// Today's appointments, reduced to what the level allows (empty below business).
    pub fn appointments(&self) -> &[Slot] {
        &self.appointments
    }

    /// The forwarding target (team and above).
    pub fn forwarding(&self) -> Option<&Forwarding> {
        self.forwarding.as_ref()
    }

    /// "Presence unavailable": what a blocked viewer sees, and, by construction, what anyone sees of
    /// an account that does not exist or is logged out. There is one such value, so no observer
    /// can tell the three apart.
    pub fn unavailable() -> Self {
        View {
            presence: EffectivePresence::unavailable(),
            appointments: Vec::new(),
            forwarding: None,
        }
    }
}

/// The view of `detail` a viewer at `level` may see, with times in the status line rendered at
/// `now` in `offset` (the owner's offset, as the full status line is).
pub fn view_for(level: Level, detail: &Detail, now: Timestamp, offset: UtcOffset) -> View {
    if level == Level::Blocked {
        return View::unavailable();
    }
    let mut presence = reduce(level, &detail.presence);
    presence.status_line = render_status_line(&presence, now, offset);
    View {
        presence,
        appointments: if level >= Level::Business {
            detail.appointments.iter().map(|a| slot(level, a)).collect()
        } else {
            Vec::new()
        },
        forwarding: (level >= Level::Team)
            .then(|| detail.forwarding.clone())
            .flatten(),
    }
}

/// The presence fields for `level` (not blocked), status line left empty for the caller.
///
/// The destructuring names every field without `..`: a field added to `EffectivePresence` does
/// not compile here until someone decides which level reveals it.
fn reduce(level: Level, full: &EffectivePresence) -> EffectivePresence {
    let EffectivePresence {
        availability,
        activity,
        until,
        source,
        note,
        note_source,
        profile,
        lamp,
        lines,
        devices,
        queues,
        idle_since,
        status_line: _,
    } = full;
    let team = level >= Level::Team;
    let business = level >= Level::Business;

    let mut p = EffectivePresence::unavailable();
    p.availability = match availability {
        // Inactivity is keyboard detail (team); below team it reads as away, which is what it
        // means to someone trying to reach the user, and what XMPP's `away` says anyway.
        Availability::Inactive if !team => Availability::Away,
        a => *a,
    };
    if team {
        p.activity = *activity;
        p.source = *source;
        p.note = note.clone();
        p.note_source = *note_source;
        p.profile = profile.clone();
        p.lines = lines.clone();
        p.lamp = *lamp;
        p.devices = *devices;
        p.queues = queues.clone();
    } else if business {
        p.lines = busy_or_free(lines);
        p.lamp = Lamp::of(&p.lines);
        // The phone as headline is no more than the busy lamp says; any other provenance is.
        p.source = source.filter(|s| *s == SourceKind::Line && p.lamp.on_call());
        // The user's own words only: a calendar subject or an integration's text (often a
        // meeting title) waits for team. Where the note came from is team detail.
        if note_source.is_some_and(own_words) {
            p.note = note.clone();
        }
        if devices.mobile_only() {
            p.devices = Devices {
                mobile: true,
                ..Devices::default()
            };
        }
    }
    if business {
        p.until = *until;
    }
    if level >= Level::Personal {
        p.idle_since = *idle_since;
    }
    p
}

/// Whether a note from this source is the user's own statement.
fn own_words(kind: SourceKind) -> bool {
    matches!(
        kind,
        SourceKind::Manual | SourceKind::Profile | SourceKind::Client
    )
}

/// Business lines: busy or not. A call loses its hold and conference detail, ringing reads as
/// free (ringing is team detail: it invites a pickup).
fn busy_or_free(lines: &BTreeMap<LineId, LineState>) -> BTreeMap<LineId, LineState> {
    lines
        .iter()
        .map(|(id, state)| {
            let state = match state {
                LineState::OnCall(_) => LineState::OnCall(Call::default()),
                LineState::Ringing | LineState::Idle => LineState::Idle,
                LineState::OutOfOrder => LineState::OutOfOrder,
            };
            (id.clone(), state)
        })
        .collect()
}

/// One appointment at `level` (business or above): times always, the subject from team on unless
/// private, the private flag at personal only. A private subject never leaves, at any level.
fn slot(level: Level, a: &Booking) -> Slot {
    let subject = if level >= Level::Team && !a.private {
        a.subject.clone()
    } else {
        None
    };
    Slot {
        start: a.start,
        end: a.end,
        show_as: a.show_as,
        subject,
        private: level >= Level::Personal && a.private,
    }
}
