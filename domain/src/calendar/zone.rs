//! An IANA time zone as a stored per-user value ("Europe/Berlin").
//!
//! Time-of-day triggers and all-day or floating appointments are wall-clock times; only a real zone
//! database gets them right across daylight-saving changes (a fixed UTC offset would be an hour off
//! for half the year).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::presence::Timestamp;

/// The name is not an IANA zone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone {0:?}")]
pub struct ZoneError(pub String);

/// An IANA time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Zone(Tz);

impl Zone {
    /// UTC.
    pub const UTC: Zone = Zone(Tz::UTC);

    /// The zone database entry.
    pub fn tz(self) -> Tz {
        self.0
    }

    /// The zone's IANA name.
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The UTC instant of a wall-clock time. In the autumn overlap the earlier instant counts; a time
    /// in the spring gap (which does not exist) moves forward by the gap, as calendar programs do.
    pub fn resolve(self, local: NaiveDateTime) -> Option<Timestamp> {
        let dt = match self.0.from_local_datetime(&local) {
            LocalResult::Single(t) => t,
            LocalResult::Ambiguous(a, _) => a,
            LocalResult::None => self
                .0
                .from_local_datetime(&(local + chrono::Duration::hours(1)))
                .earliest()?,
        };
        from_utc(dt.with_timezone(&Utc))
    }

    /// The wall-clock time of an instant in this zone.
    pub fn local(self, t: Timestamp) -> Option<NaiveDateTime> {
        to_utc(t).map(|u| u.with_timezone(&self.0).naive_local())
    }
}

/// A UTC `chrono` instant as a [`Timestamp`]; `None` before 1970.
pub(crate) fn from_utc(t: DateTime<Utc>) -> Option<Timestamp> {
    u64::try_from(t.timestamp_millis())
        .ok()
        .map(Timestamp::from_unix_ms)
}

/// A [`Timestamp`] as a UTC `chrono` instant; `None` beyond chrono's range.
pub(crate) fn to_utc(t: Timestamp) -> Option<DateTime<Utc>> {
    i64::try_from(t.unix_ms())
        .ok()
        .and_then(DateTime::from_timestamp_millis)
}

impl FromStr for Zone {
    type Err = ZoneError;
    fn from_str(s: &str) -> Result<Self, ZoneError> {
        s.parse::<Tz>()
            .map(Zone)
            .map_err(|_| ZoneError(s.chars().take(64).collect()))
    }
}

impl TryFrom<String> for Zone {
    type Error = ZoneError;
    fn try_from(s: String) -> Result<Self, ZoneError> {
        s.parse()
    }
}

impl From<Zone> for String {
    fn from(z: Zone) -> String {
        z.name().to_owned()
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Default for Zone {
    fn default() -> Self {
        Zone::UTC
    }
}
