//! The inputs of one user's presence, one field per source (ProCall S13: "telephone status, calendar
//! status, logged on/off, manually entered status"; XPhone S17; RFC 4479 person/service/device).
//!
//! `Sources` is the state the engine owns and the store persists. Each source keeps its own facts
//! and never overwrites another's: a client's presence is one source among others, not the final
//! word (issue 4). Expiry is data (`until`, `expires`), never a timer, so the model stays pure.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::activity::Activity;
use super::availability::{ClientShow, ManualAvailability, Settable};
use super::device::DeviceKind;
use super::line::LineState;
use super::queue::AgentState;
use super::text::{LineId, Note, ProfileName, QueueId, SourceName};
use super::time::{Timestamp, UtcOffset};

/// Everything currently known about one user. `Default` is "nothing at all": offline.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Sources {
    /// Connected XMPP resources by resource name; a resource leaves the map when it goes unavailable.
    pub clients: BTreeMap<String, ClientPresence>,
    /// The user's own setting (API, ad-hoc command, client UI).
    pub manual: Option<Manual>,
    /// The active presence profile, as the profile state machine reports it.
    pub profile: Option<ProfileSource>,
    /// PBX line states by line or extension.
    pub lines: BTreeMap<LineId, LineState>,
    /// Bookings from the calendar module; only those around "now" matter.
    pub calendar: Vec<Booking>,
    /// "Idle since", reported by an integration or idle detection (screen lock), when the user is idle.
    pub idle: Option<Timestamp>,
    /// External presence sources (a meetings platform, a Teams-like sync), one per name.
    pub external: BTreeMap<SourceName, ExternalSource>,
    /// Queue-agent state per queue.
    pub queues: BTreeMap<QueueId, AgentState>,
}

/// The presence of one connected XMPP resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientPresence {
    /// What kind of device it is.
    pub device: DeviceKind,
    /// RFC 6121 priority (−128..127); picks whose `<status/>` text is the note when several have one.
    pub priority: i8,
    /// The `<show/>` it sent.
    pub show: ClientShow,
    /// The `<status/>` text it sent.
    pub status: Option<Note>,
    /// XEP-0319 idle since, or when it went inactive by XEP-0352 CSI; `None` means active.
    pub idle_since: Option<Timestamp>,
}

/// The user's own setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manual {
    /// The chosen availability (never "inactive": that is automatic only).
    pub availability: ManualAvailability,
    /// An optional activity ("Lunch").
    pub activity: Option<Activity>,
    /// An optional note.
    pub note: Option<Note>,
    /// The setting lapses at this instant (e.g. "do not disturb for one hour").
    pub until: Option<Timestamp>,
    /// When the user made the setting; the newer of manual and profile wins (rule 2).
    pub since: Timestamp,
}

/// The active presence profile (ProCall P1, XPhone P2, pascom P5), reduced to what presence needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileSource {
    /// Profile name; shown as the status text to colleagues (pascom S15).
    pub name: ProfileName,
    /// The availability the profile sets.
    pub availability: Settable,
    /// An optional activity ("Home office").
    pub activity: Option<Activity>,
    /// The profile's info text (XPhone S16).
    pub note: Option<Note>,
    /// End of the profile's time period, if any (ProCall P1 "Zeitraum/Dauer").
    pub until: Option<Timestamp>,
    /// When the profile became active.
    pub since: Timestamp,
}

/// A claim from an external system that lapses on its own (Graph `expirationDuration`, issue 4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalSource {
    /// The claimed availability.
    pub availability: Settable,
    /// An optional activity ("In a meeting").
    pub activity: Option<Activity>,
    /// An optional note.
    pub note: Option<Note>,
    /// The claim is ignored from this instant on; the presence then falls back to the other sources.
    pub expires: Timestamp,
}

/// How a booking shows the user: the blocking subset of the calendar's `ShowAs` (RFC 5545 busy
/// types; XPhone T3). Free and working-elsewhere appointments never reach the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingKind {
    /// Booked.
    Busy,
    /// Tentatively booked ("Mit Vorbehalt"); XPhone syncs it like busy, so do we.
    Tentative,
    /// Out of office.
    OutOfOffice,
}

/// A booking: a calendar appointment as the presence model sees it (the calendar's `Appointment`
/// made it, without what presence has no use for), valid for `start <= now < end`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    /// Start.
    pub start: Timestamp,
    /// End (exclusive).
    pub end: Timestamp,
    /// How it shows the user.
    pub show_as: BookingKind,
    /// Subject; becomes the note only if the appointment is not private (XPhone V1).
    pub subject: Option<Note>,
    /// Private appointments never reveal their subject.
    pub private: bool,
}

impl Booking {
    /// Valid at `now`.
    pub fn is_current(&self, now: Timestamp) -> bool {
        self.start <= now && now < self.end
    }
}

/// The node's default idle threshold (ProCall S10: "Das Standard-Intervall ... beträgt 5 Minuten").
pub const DEFAULT_IDLE_THRESHOLD: Duration = Duration::from_secs(5 * 60);

/// Per-user settings the aggregation needs, already resolved against the node's defaults by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// The node's idle threshold (default 5 minutes).
    pub node_idle_threshold: Duration,
    /// The user's own idle threshold; overrides the node's when set.
    pub user_idle_threshold: Option<Duration>,
    /// Offset used to render times in the status line.
    pub utc_offset: UtcOffset,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            node_idle_threshold: DEFAULT_IDLE_THRESHOLD,
            user_idle_threshold: None,
            utc_offset: UtcOffset::UTC,
        }
    }
}

impl Settings {
    /// The threshold that applies: the user's, else the node's.
    pub fn idle_threshold(&self) -> Duration {
        self.user_idle_threshold.unwrap_or(self.node_idle_threshold)
    }
}

impl Sources {
    /// The manual setting if it has not lapsed at `now`.
    pub(crate) fn live_manual(&self, now: Timestamp) -> Option<&Manual> {
        self.manual
            .as_ref()
            .filter(|m| m.until.is_none_or(|u| now < u))
    }

    /// The profile if its period has not ended at `now`.
    pub(crate) fn live_profile(&self, now: Timestamp) -> Option<&ProfileSource> {
        self.profile
            .as_ref()
            .filter(|p| p.until.is_none_or(|u| now < u))
    }

    /// External sources that have not expired at `now`.
    pub(crate) fn live_external(
        &self,
        now: Timestamp,
    ) -> impl Iterator<Item = (&SourceName, &ExternalSource)> {
        self.external.iter().filter(move |(_, e)| now < e.expires)
    }

    /// The innermost current appointment: the one that started last, and of those the one that ends
    /// first (XPhone D3: lunch inside an all-day training wins; the training resumes after it).
    pub(crate) fn current_booking(&self, now: Timestamp) -> Option<&Booking> {
        self.calendar
            .iter()
            .filter(|a| a.is_current(now))
            .max_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)))
    }

    /// Since when the user is idle, if known (rule 10): an integration's report is authoritative;
    /// otherwise the user is idle only if every connected client is, since the most recent of them
    /// (the most active device wins, as in Lync's machine state).
    pub(crate) fn idle_since(&self) -> Option<Timestamp> {
        if self.idle.is_some() {
            return self.idle;
        }
        if self.clients.is_empty() {
            return None;
        }
        self.clients
            .values()
            .map(|c| c.idle_since)
            .try_fold(Timestamp::EPOCH, |acc, s| s.map(|s| acc.max(s)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn at(min: u64) -> Timestamp {
        Timestamp::from_unix_ms(min * 60_000)
    }

    #[test]
    fn per_user_threshold_overrides_node_default() {
        let mut s = Settings::default();
        assert_eq!(s.idle_threshold(), Duration::from_secs(300));
        s.user_idle_threshold = Some(Duration::from_secs(60));
        assert_eq!(s.idle_threshold(), Duration::from_secs(60));
    }

    #[test]
    fn sources_round_trip_through_json() {
        let mut s = Sources::default();
        s.lines
            .insert(LineId::new("201").unwrap(), LineState::Ringing);
        s.calendar.push(Booking {
            start: at(1),
            end: at(2),
            show_as: BookingKind::Busy,
            subject: None,
            private: false,
        });
        let j = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<Sources>(&j).unwrap(), s);
        assert_eq!(
            serde_json::from_str::<Sources>("{}").unwrap(),
            Sources::default()
        );
    }
}
