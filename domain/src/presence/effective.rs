//! The effective presence: one user's presence as aggregation produces it and as a viewer with
//! full permission sees it. A record only; [`super::aggregate`] computes it and
//! [`super::status_text`] renders its status line.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::activity::{Activity, UserActivity};
use super::availability::Availability;
use super::claims::SourceKind;
use super::device::Devices;
use super::line::{Lamp, LineState};
use super::queue::AgentState;
use super::text::{LineId, Note, ProfileName, QueueId};
use super::time::Timestamp;

/// One user's presence as the node shows it to a viewer with full permission.
///
/// Viewers with less permission get a filtered copy (the access module), re-rendered with
/// [`super::status_text::render`] so the status line never reveals a removed field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectivePresence {
    /// The availability (the lamp colour).
    pub availability: Availability,
    /// What the user is doing, from the winning claim.
    pub activity: Option<Activity>,
    /// Until when the winning claim holds (rule 14).
    pub until: Option<Timestamp>,
    /// Which source decided the availability; `None` when offline.
    pub source: Option<SourceKind>,
    /// The status note (rule 15).
    pub note: Option<Note>,
    /// Where the note came from (the access rules hide calendar subjects from some viewers).
    pub note_source: Option<SourceKind>,
    /// The active presence profile, when it is the user-level statement that counts (rule 16).
    pub profile: Option<ProfileName>,
    /// The busy lamp summary of all lines (rule 19).
    pub lamp: Lamp,
    /// Each line's state.
    pub lines: BTreeMap<LineId, LineState>,
    /// Which kinds of device are online (rule 17).
    pub devices: Devices,
    /// Queue-agent state per queue (rule 18).
    pub queues: BTreeMap<QueueId, AgentState>,
    /// Idle since (XEP-0319), also before the inactivity threshold is reached.
    pub idle_since: Option<Timestamp>,
    /// Human-readable English status line, e.g. "In a meeting until 14:00".
    pub status_line: String,
}

impl EffectivePresence {
    /// What a viewer without permission sees ("presence unavailable", ProCall V2). It is, by
    /// construction, the same value as the presence of a user with no sources at all, so the viewer
    /// cannot tell "not allowed" from "not logged in".
    pub fn unavailable() -> Self {
        EffectivePresence {
            availability: Availability::Offline,
            activity: None,
            until: None,
            source: None,
            note: None,
            note_source: None,
            profile: None,
            lamp: Lamp::NoLine,
            lines: BTreeMap::new(),
            devices: Devices::default(),
            queues: BTreeMap::new(),
            idle_since: None,
            status_line: Availability::Offline.label().to_owned(),
        }
    }

    /// CLINQ S3: only a mobile client is online.
    pub fn mobile_only(&self) -> bool {
        self.devices.mobile_only()
    }

    /// XEP-0108 activity to publish: the winning activity, else "on the phone" while a call is up
    /// under another headline (for example do-not-disturb).
    pub fn user_activity(&self) -> Option<UserActivity> {
        if self.availability == Availability::Offline {
            return None;
        }
        self.activity
            .or(self.lamp.on_call().then_some(Activity::OnThePhone))
            .map(Activity::xep0108)
    }
}
