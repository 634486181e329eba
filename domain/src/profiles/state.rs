//! The profile state machine's values: causes, the stored state, events in and effects out.

use serde::{Deserialize, Serialize};

use super::book::ProfileBook;
use super::model::{Action, ForwardTarget, QueueAction};
use super::triggers::ProfileSettings;
use crate::calendar::Appointment;
use crate::presence::{ProfileName, ProfileSource, Timestamp};

/// What made a profile a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The user switched (API, CLI, ad-hoc command).
    Manual,
    /// A time-of-day trigger.
    Time,
    /// The first session came up.
    ClientStart,
    /// The last session went down.
    ClientExit,
    /// Idle past the threshold, or screen locked.
    Inactivity,
    /// A calendar appointment.
    Calendar,
    /// An external meeting.
    Meeting,
}

impl Cause {
    /// Tie-break between candidates that began at the same instant.
    pub(super) fn rank(self) -> u8 {
        match self {
            Cause::Manual => 5,
            Cause::Meeting => 4,
            Cause::Calendar => 3,
            Cause::Inactivity => 2,
            Cause::Time | Cause::ClientStart | Cause::ClientExit => 1,
        }
    }
}

/// The base profile: the last manual switch or time/client trigger; `profile: None` is "no profile".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    /// The profile.
    pub profile: Option<ProfileName>,
    /// When it was set.
    pub since: Timestamp,
    /// By what.
    pub cause: Cause,
}

/// The active profile as last reported in effects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Active {
    /// The profile.
    pub profile: ProfileName,
    /// Its candidate's cause.
    pub cause: Cause,
    /// Its candidate's start.
    pub since: Timestamp,
    /// Its end, when known (a calendar appointment's end).
    pub until: Option<Timestamp>,
}

/// One user's profile state; the profile runtime persists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfileState {
    /// Base profile.
    pub base: Option<Held>,
    /// Connected sessions (client start = first up, client exit = last down).
    pub sessions: u32,
    /// Idle since (from idle reports).
    pub idle_since: Option<Timestamp>,
    /// Screen locked since.
    pub locked_since: Option<Timestamp>,
    /// An external meeting runs since.
    pub meeting_since: Option<Timestamp>,
    /// The active profile.
    pub active: Option<Active>,
    /// Time triggers up to here have been applied.
    pub last_evaluated: Timestamp,
}

impl Default for ProfileState {
    fn default() -> Self {
        ProfileState {
            base: None,
            sessions: 0,
            idle_since: None,
            locked_since: None,
            meeting_since: None,
            active: None,
            last_evaluated: Timestamp::EPOCH,
        }
    }
}

impl ProfileState {
    /// A fresh state: no profile, no trigger pending from before `now`.
    pub fn new(now: Timestamp) -> Self {
        ProfileState {
            last_evaluated: now,
            ..ProfileState::default()
        }
    }
}

/// Something that happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Event {
    /// Manual switch; `None` leaves every profile. Check it first with
    /// [`ProfileBook::activatable`]; an unknown or disabled name here means "no profile".
    Switch {
        /// The profile.
        profile: Option<ProfileName>,
    },
    /// A session of the user came up.
    SessionUp,
    /// A session of the user went down.
    SessionDown,
    /// Idle since (an idle report).
    Idle {
        /// Since when.
        since: Timestamp,
    },
    /// The screen was locked.
    ScreenLocked,
    /// Input again (idle and lock end).
    InputResumed,
    /// An external meeting started.
    MeetingStarted,
    /// The external meeting ended.
    MeetingEnded,
    /// The timer from [`next_trigger_time`] fired, or the calendar or settings changed.
    Tick,
    /// The node started: sessions that were up are gone (client exit at the last evaluation),
    /// the meeting and idle reports are stale, and time triggers missed while down are applied.
    NodeStarted,
}

/// What the profile runtime must do, in this order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Effect {
    /// Run these actions in order: the leave chain of the old profile, then the enter chain of the
    /// new one (enabled steps only).
    RunActions {
        /// The actions.
        actions: Vec<Action>,
    },
    /// Set (`Some`) or end (`None`) the call forwarding. Absent when the new profile leaves the
    /// forwarding unchanged.
    SetForwarding {
        /// The target.
        target: Option<ForwardTarget>,
    },
    /// The new profile's queue actions.
    Queue {
        /// The actions.
        actions: Vec<QueueAction>,
    },
    /// The new `Sources.profile` for the presence model.
    Presence {
        /// The profile source.
        profile: Option<ProfileSource>,
    },
}

/// What the state machine reads besides the state.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// The user's profiles.
    pub book: &'a ProfileBook,
    /// The user's trigger settings.
    pub settings: &'a ProfileSettings,
    /// The user's appointments.
    pub calendar: &'a [Appointment],
}
