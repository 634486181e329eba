//! One user's presence inputs as the engine keeps them, and the changes the outside world makes to
//! them (pure: the engine persists and publishes).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::access::Forwarding;
use crate::presence::{
    AgentState, Booking, ClientPresence, ExternalSource, LineId, LineState, Manual, ProfileSource,
    QueueId, Settings, SourceName, Sources, Timestamp, UtcOffset,
};

/// Most lines, queues or external sources one user may have; the API refuses more, so one user's
/// record stays small enough to aggregate on every event.
pub const MAX_ENTRIES_PER_KIND: usize = 64;
/// Most appointments kept per user (the current day's, as the calendar module hands them over).
pub const MAX_APPOINTMENTS: usize = 512;
/// Shortest and longest per-user idle threshold.
pub const IDLE_THRESHOLD_RANGE: (Duration, Duration) =
    (Duration::from_secs(30), Duration::from_secs(24 * 3600));

/// What the node keeps about one user's presence, apart from the live XMPP sessions.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct UserRecord {
    /// Every source; `clients` is empty in the stored copy.
    pub sources: Sources,
    /// The user's own presence settings.
    pub settings: UserSettings,
    /// The active call forwarding (the profile module reports it).
    pub forwarding: Option<Forwarding>,
}

/// A user's own settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct UserSettings {
    /// Idle threshold, replacing the node's.
    pub idle_threshold_s: Option<u64>,
    /// The offset the user's times are shown in ("until 14:00").
    pub utc_offset: UtcOffset,
}

/// One change to one user's sources, from an integration, the user, or another module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceChange {
    /// The user's own setting; `None` clears it.
    Manual(Option<Manual>),
    /// A line's state from the PBX; `None` forgets the line.
    Line(LineId, Option<LineState>),
    /// A queue-agent state; `None` forgets the queue.
    Queue(QueueId, Option<AgentState>),
    /// An external system's claim; `None` withdraws it.
    External(SourceName, Option<ExternalSource>),
    /// Idle since (screen lock, idle detection); `None`: active again.
    Idle(Option<Timestamp>),
    /// The active profile and its forwarding; `None` when no profile is active.
    Profile(Option<ProfileSource>, Option<Forwarding>),
    /// The appointments the calendar module considers relevant now.
    Calendar(Vec<Booking>),
    /// The user's settings.
    Settings(UserSettings),
}

/// Why a change was refused; nothing of it was applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    /// Too many entries of one kind.
    #[error("too many {kind} for one user: at most {max}")]
    TooMany {
        /// "lines", "queues", "external sources" or "appointments".
        kind: &'static str,
        /// The limit.
        max: usize,
    },
    /// An idle threshold outside 30 s .. 24 h.
    #[error("idle threshold must be between 30 and 86400 seconds")]
    IdleThreshold,
    /// An appointment that ends before it starts.
    #[error("an appointment ends before it starts")]
    AppointmentOrder,
}

impl UserRecord {
    /// The copy that is stored: everything but the connected clients.
    pub fn durable(&self) -> UserRecord {
        let mut copy = self.clone();
        copy.sources.clients = BTreeMap::new();
        copy
    }

    /// The aggregation settings under the node's idle threshold.
    pub fn settings(&self, node_idle_threshold: Duration) -> Settings {
        Settings {
            node_idle_threshold,
            user_idle_threshold: self.settings.idle_threshold_s.map(Duration::from_secs),
            utc_offset: self.settings.utc_offset,
        }
    }

    /// Apply `change`, or refuse it whole.
    pub fn apply(&mut self, change: SourceChange) -> Result<(), ChangeError> {
        let s = &mut self.sources;
        match change {
            SourceChange::Manual(m) => s.manual = m,
            SourceChange::Line(id, state) => set_entry(&mut s.lines, id, state, "lines")?,
            SourceChange::Queue(id, state) => set_entry(&mut s.queues, id, state, "queues")?,
            SourceChange::External(name, claim) => {
                set_entry(&mut s.external, name, claim, "external sources")?
            }
            SourceChange::Idle(since) => s.idle = since,
            SourceChange::Profile(profile, forwarding) => {
                s.profile = profile;
                self.forwarding = forwarding;
            }
            SourceChange::Calendar(appointments) => {
                if appointments.len() > MAX_APPOINTMENTS {
                    return Err(ChangeError::TooMany {
                        kind: "appointments",
                        max: MAX_APPOINTMENTS,
                    });
                }
                if appointments.iter().any(|a| a.end < a.start) {
                    return Err(ChangeError::AppointmentOrder);
                }
                s.calendar = appointments;
            }
            SourceChange::Settings(settings) => {
                if let Some(secs) = settings.idle_threshold_s {
                    let (min, max) = IDLE_THRESHOLD_RANGE;
                    if !(min.as_secs()..=max.as_secs()).contains(&secs) {
                        return Err(ChangeError::IdleThreshold);
                    }
                }
                self.settings = settings;
            }
        }
        Ok(())
    }

    /// Set or clear one connected client (never refused: the session table bounds them).
    pub fn set_client(&mut self, resource: &str, client: Option<ClientPresence>) {
        match client {
            Some(c) => {
                self.sources.clients.insert(resource.to_owned(), c);
            }
            None => {
                self.sources.clients.remove(resource);
            }
        }
    }

    /// Drop what has lapsed for good at `now` (expired external claims, past appointments, a
    /// lapsed manual setting), so a record does not grow with dead entries.
    pub fn prune(&mut self, now: Timestamp) {
        let s = &mut self.sources;
        s.external.retain(|_, e| now < e.expires);
        s.calendar.retain(|a| now < a.end);
        if s.manual
            .as_ref()
            .and_then(|m| m.until)
            .is_some_and(|u| u <= now)
        {
            s.manual = None;
        }
    }
}

/// Insert, replace or remove one keyed entry, refusing a new key beyond the limit.
fn set_entry<K: Ord, V>(
    map: &mut BTreeMap<K, V>,
    key: K,
    value: Option<V>,
    kind: &'static str,
) -> Result<(), ChangeError> {
    match value {
        Some(v) => {
            if !map.contains_key(&key) && map.len() >= MAX_ENTRIES_PER_KIND {
                return Err(ChangeError::TooMany {
                    kind,
                    max: MAX_ENTRIES_PER_KIND,
                });
            }
            map.insert(key, v);
        }
        None => {
            map.remove(&key);
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::presence::{Call, ClientShow, DeviceKind};

    fn line(n: usize) -> LineId {
        LineId::new(format!("{n}")).unwrap()
    }

    #[test]
    fn a_refused_change_leaves_the_record_as_it_was() {
        let mut r = UserRecord::default();
        for n in 0..MAX_ENTRIES_PER_KIND {
            r.apply(SourceChange::Line(line(n), Some(LineState::Idle)))
                .unwrap();
        }
        let before = r.clone();
        let err = r.apply(SourceChange::Line(line(999), Some(LineState::Ringing)));
        assert!(matches!(err, Err(ChangeError::TooMany { .. })));
        assert_eq!(r, before);
        // Updating an existing line is still fine at the limit.
        r.apply(SourceChange::Line(
            line(0),
            Some(LineState::OnCall(Call::default())),
        ))
        .unwrap();
    }

    #[test]
    fn the_stored_copy_has_no_clients() {
        let mut r = UserRecord::default();
        r.set_client(
            "desk",
            Some(ClientPresence {
                device: DeviceKind::Desktop,
                priority: 0,
                show: ClientShow::Available,
                status: None,
                idle_since: None,
            }),
        );
        assert_eq!(r.sources.clients.len(), 1);
        assert!(r.durable().sources.clients.is_empty());
    }

    #[test]
    fn idle_thresholds_outside_the_range_are_refused() {
        let mut r = UserRecord::default();
        let s = |secs| {
            SourceChange::Settings(UserSettings {
                idle_threshold_s: Some(secs),
                utc_offset: UtcOffset::UTC,
            })
        };
        assert_eq!(r.apply(s(5)), Err(ChangeError::IdleThreshold));
        r.apply(s(60)).unwrap();
        assert_eq!(
            r.settings(Duration::from_secs(300)).idle_threshold(),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn pruning_drops_lapsed_claims_and_past_appointments() {
        let mut r = UserRecord::default();
        let t = Timestamp::from_unix_ms;
        r.apply(SourceChange::External(
            SourceName::new("teams").unwrap(),
            Some(ExternalSource {
                availability: crate::presence::Settable::Busy,
                activity: None,
                note: None,
                expires: t(1000),
            }),
        ))
        .unwrap();
        r.prune(t(999));
        assert_eq!(r.sources.external.len(), 1);
        r.prune(t(1000));
        assert!(r.sources.external.is_empty());
    }
}
