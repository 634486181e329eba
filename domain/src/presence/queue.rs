//! Queue-agent state per queue (Cloud PBX "Gruppenfunktion", B7–B9; pascom queue actions A4).
//!
//! The states are the PBX's, carried through unchanged: they describe the workplace, not the
//! person's availability, so they do not enter the availability ranking (docs/PRESENCE.md rule 18).

use serde::{Deserialize, Serialize};

/// An agent's state in one queue (B9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    /// "Abgemeldet": not at the workplace, no queue calls.
    LoggedOut,
    /// "Angemeldet": at the workplace but not taking queue calls now.
    LoggedIn,
    /// "Verfügbar": ready for queue calls.
    Available,
    /// "Nicht verfügbar": not available for queue calls at the moment.
    Unavailable,
    /// "Nachbearbeitung": finishing the last call, no new queue calls.
    WrapUp,
}

impl AgentState {
    /// Only "available" receives queue calls (B9: "Nur im Status Verfügbar erhalten Sie Anrufe aus
    /// Warteschleifen").
    pub fn receives_queue_calls(self) -> bool {
        matches!(self, AgentState::Available)
    }

    /// English label for dashboards.
    pub fn label(self) -> &'static str {
        match self {
            AgentState::LoggedOut => "Logged out",
            AgentState::LoggedIn => "Logged in",
            AgentState::Available => "Available",
            AgentState::Unavailable => "Unavailable",
            AgentState::WrapUp => "Wrap-up",
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn only_available_receives_queue_calls() {
        use AgentState::*;
        for s in [LoggedOut, LoggedIn, Unavailable, WrapUp] {
            assert!(!s.receives_queue_calls(), "{s:?}");
        }
        assert!(Available.receives_queue_calls());
    }

    #[test]
    fn wrap_up_serializes_snake_case() {
        assert_eq!(
            serde_json::to_string(&AgentState::WrapUp).unwrap(),
            "\"wrap_up\""
        );
    }
}
