//! Time as plain values: the presence model never reads a clock.
//!
//! Every function that depends on "now" takes it as a [`Timestamp`], so the rules are tested with
//! simulated time and the engine decides when to recompute (see `next_transition`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// An instant as milliseconds since the Unix epoch (UTC).
///
/// Milliseconds are fine-grained enough for presence (the XMPP and HTTP inputs carry seconds at best)
/// and fit the JSON number range, so the HTTP API and the store can use the raw value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The epoch itself.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// From milliseconds since the Unix epoch.
    pub const fn from_unix_ms(ms: u64) -> Self {
        Timestamp(ms)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn unix_ms(self) -> u64 {
        self.0
    }

    /// Converts a wall-clock reading taken by the caller; instants before 1970 clamp to the epoch.
    pub fn from_system_time(t: SystemTime) -> Self {
        let ms = t
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        Timestamp(u64::try_from(ms).unwrap_or(u64::MAX))
    }

    /// `self + d`, saturating at the far future instead of wrapping.
    pub fn saturating_add(self, d: Duration) -> Self {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Timestamp(self.0.saturating_add(ms))
    }

    /// How long after `earlier` this instant is (zero if it is not later).
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

/// A fixed offset from UTC used to render times for people ("until 14:00").
///
/// The model has no time-zone database: the caller passes the offset that is valid for the reader
/// (the user's or the node's), which is all a status line needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "i32", into = "i32")]
pub struct UtcOffset {
    minutes: i32,
}

/// Offsets beyond ±18 h do not exist anywhere; rejecting them keeps formatting arithmetic simple.
const MAX_OFFSET_MINUTES: i32 = 18 * 60;

impl UtcOffset {
    /// UTC itself.
    pub const UTC: UtcOffset = UtcOffset { minutes: 0 };

    /// An offset in minutes east of UTC; `None` outside ±18 hours.
    pub const fn from_minutes(minutes: i32) -> Option<Self> {
        if minutes < -MAX_OFFSET_MINUTES || minutes > MAX_OFFSET_MINUTES {
            None
        } else {
            Some(UtcOffset { minutes })
        }
    }

    /// Minutes east of UTC.
    pub const fn minutes(self) -> i32 {
        self.minutes
    }

    /// Local seconds since the epoch for an instant (may be negative just after the epoch).
    fn local_secs(self, t: Timestamp) -> i64 {
        let secs = i64::try_from(t.unix_ms() / 1000).unwrap_or(i64::MAX);
        secs.saturating_add(i64::from(self.minutes) * 60)
    }

    /// The local calendar day number (days since 1970-01-01 local) of an instant.
    pub(crate) fn local_day(self, t: Timestamp) -> i64 {
        self.local_secs(t).div_euclid(86_400)
    }

    /// The first instant of the local day after the one containing `t`.
    pub(crate) fn next_local_midnight(self, t: Timestamp) -> Timestamp {
        let next_day_local = (self.local_day(t) + 1).saturating_mul(86_400);
        let utc_secs = next_day_local.saturating_sub(i64::from(self.minutes) * 60);
        Timestamp::from_unix_ms(u64::try_from(utc_secs).unwrap_or(0).saturating_mul(1000))
    }

    /// "14:00" if `t` falls on the same local day as `now`, else "2026-11-30 14:00" (ISO order, so
    /// nobody misreads day and month).
    pub(crate) fn format_until(self, t: Timestamp, now: Timestamp) -> String {
        let secs = self.local_secs(t);
        let day = secs.div_euclid(86_400);
        let in_day = secs.rem_euclid(86_400);
        let (h, m) = (in_day / 3600, (in_day % 3600) / 60);
        if day == self.local_day(now) {
            format!("{h:02}:{m:02}")
        } else {
            let (y, mo, d) = civil_from_days(day);
            format!("{y:04}-{mo:02}-{d:02} {h:02}:{m:02}")
        }
    }
}

impl TryFrom<i32> for UtcOffset {
    type Error = String;
    fn try_from(minutes: i32) -> Result<Self, Self::Error> {
        UtcOffset::from_minutes(minutes)
            .ok_or_else(|| format!("UTC offset {minutes} min is outside ±18 h"))
    }
}

impl From<UtcOffset> for i32 {
    fn from(o: UtcOffset) -> i32 {
        o.minutes
    }
}

/// Proleptic Gregorian date of a day number (days since 1970-01-01), after Howard Hinnant's
/// well-known `civil_from_days`; exact for every day the `Timestamp` range can express.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// 2025-11-23 08:00:00 UTC.
    const SUNDAY_8: u64 = 1_763_884_800_000;

    #[test]
    fn system_time_converts_and_clamps_before_the_epoch() {
        let t = UNIX_EPOCH + Duration::from_millis(1234);
        assert_eq!(Timestamp::from_system_time(t).unix_ms(), 1234);
        let before = UNIX_EPOCH - Duration::from_secs(1);
        assert_eq!(Timestamp::from_system_time(before), Timestamp::EPOCH);
    }

    #[test]
    fn civil_dates_round_trip_known_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_415), (2025, 11, 23));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn until_on_the_same_day_shows_only_the_time() {
        let now = Timestamp::from_unix_ms(SUNDAY_8);
        let t = now.saturating_add(Duration::from_secs(6 * 3600));
        assert_eq!(UtcOffset::UTC.format_until(t, now), "14:00");
        let cet = UtcOffset::from_minutes(60).unwrap();
        assert_eq!(cet.format_until(t, now), "15:00");
    }

    #[test]
    fn until_on_another_day_shows_the_date() {
        let now = Timestamp::from_unix_ms(SUNDAY_8);
        let t = now.saturating_add(Duration::from_secs(7 * 86_400 + 3600));
        assert_eq!(UtcOffset::UTC.format_until(t, now), "2025-11-30 09:00");
        // Near midnight the offset moves the day.
        let late = now.saturating_add(Duration::from_secs(15 * 3600 + 30 * 60)); // 23:30 UTC
        let plus2 = UtcOffset::from_minutes(120).unwrap();
        assert_eq!(plus2.format_until(late, now), "2025-11-24 01:30");
    }

    #[test]
    fn next_local_midnight_respects_the_offset() {
        let now = Timestamp::from_unix_ms(SUNDAY_8);
        let utc_midnight = UtcOffset::UTC.next_local_midnight(now);
        assert_eq!(utc_midnight.since(now), Duration::from_secs(16 * 3600));
        let cet = UtcOffset::from_minutes(60).unwrap();
        assert_eq!(
            cet.next_local_midnight(now).since(now),
            Duration::from_secs(15 * 3600)
        );
    }

    #[test]
    fn offsets_beyond_eighteen_hours_are_rejected() {
        assert!(UtcOffset::from_minutes(18 * 60 + 1).is_none());
        assert!(UtcOffset::from_minutes(-18 * 60).is_some());
        assert!(serde_json::from_str::<UtcOffset>("5000").is_err());
    }
}
