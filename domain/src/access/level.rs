//! The five access levels (estos ProCall "Berechtigungsstufen", FEATURES.md §2.1 and §2.6).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How much of a user's presence one viewer may see, from nothing to everything.
///
/// The order is the declaration order, so `min` is "the more restrictive" and a ceiling is applied
/// with `level.min(ceiling)`. Each level reveals everything the one below it does, plus the fields
/// listed on it; `docs/ACCESS.md` has the full field table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// "Presence unavailable": the same value an unknown or logged-out account gives (ProCall V2,
    /// RFC 5025 polite-block, XEP-0191).
    Blocked,
    /// The availability alone; automatic inactivity shows as away.
    Public,
    /// Plus the user's own note, "until", appointment free/busy times, whether a line is busy, and
    /// "mobile only".
    Business,
    /// Plus appointment subjects (never of private appointments), activity, inactivity, ringing,
    /// call details, devices, queue states, the active profile and the forwarding target.
    Team,
    /// Everything the node holds: plus the idle time and which appointments are private.
    Personal,
}

impl Level {
    /// All levels, most restrictive first.
    pub const ALL: [Level; 5] = [
        Level::Blocked,
        Level::Public,
        Level::Business,
        Level::Team,
        Level::Personal,
    ];

    /// The lowercase name used in the API, the CLI and the store.
    pub fn name(self) -> &'static str {
        match self {
            Level::Blocked => "blocked",
            Level::Public => "public",
            Level::Business => "business",
            Level::Team => "team",
            Level::Personal => "personal",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A level name that is not one of the five.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown access level {0:?}: expected blocked, public, business, team or personal")]
pub struct UnknownLevel(pub String);

impl FromStr for Level {
    type Err = UnknownLevel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::ALL
            .into_iter()
            .find(|l| l.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownLevel(s.chars().take(32).collect()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_from_blocked_to_personal() {
        for pair in Level::ALL.windows(2) {
            assert!(pair[0] < pair[1], "{pair:?}");
        }
    }

    #[test]
    fn names_round_trip_through_parse_and_json() {
        for l in Level::ALL {
            assert_eq!(l.name().parse::<Level>().unwrap(), l);
            let j = serde_json::to_string(&l).unwrap();
            assert_eq!(j, format!("\"{}\"", l.name()));
        }
        assert_eq!(" Team ".parse::<Level>().unwrap(), Level::Team);
        assert!("admin".parse::<Level>().is_err());
    }
}
