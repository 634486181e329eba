//! The JSON bodies the API accepts and the source changes they become (pure: time passed in).
//!
//! serde refuses unknown fields, wrong types and bad enum names (422 naming the field); the checks
//! here refuse values serde cannot judge: expiries in the past or too far ahead, an idle time in
//! the future, call details on a line that has no call.

use std::time::Duration;

use serde::Deserialize;

use lampfield_domain::presence::{
    Activity, AgentState, Call, ExternalSource, LineState, Manual, ManualAvailability, Note,
    Settable, Timestamp, UtcOffset,
};
use lampfield_domain::record::UserSettings;

/// Longest an external claim may hold: a claim that outlives its source's next report by days is
/// almost certainly a forgotten one.
pub(super) const MAX_EXTERNAL_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);
/// Furthest ahead a manual setting's `until` may be.
pub(super) const MAX_MANUAL_UNTIL: Duration = Duration::from_secs(366 * 24 * 3600);
/// How far in the future an idle time may be (clock skew between the reporter and the node).
pub(super) const IDLE_CLOCK_SKEW: Duration = Duration::from_secs(60);

/// A value serde accepted but the model does not; the field it concerns and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BodyError {
    /// The JSON field.
    pub(super) field: &'static str,
    /// Why.
    pub(super) reason: String,
}

fn refuse<T>(field: &'static str, reason: impl Into<String>) -> Result<T, BodyError> {
    Err(BodyError {
        field,
        reason: reason.into(),
    })
}

/// The state name of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum LineStateName {
    /// Registered and free.
    Idle,
    /// A call is offered.
    Ringing,
    /// A call is up.
    OnCall,
    /// Not registered or faulty.
    OutOfOrder,
}

/// `PUT .../lines/{line}` and `PUT /v1/extensions/{ext}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LineBody {
    state: LineStateName,
    #[serde(default)]
    held: bool,
    #[serde(default)]
    conference: bool,
}

impl LineBody {
    /// The line state.
    pub(super) fn into_state(self) -> Result<LineState, BodyError> {
        match self.state {
            LineStateName::OnCall => Ok(LineState::OnCall(Call {
                held: self.held,
                conference: self.conference,
            })),
            _ if self.held || self.conference => refuse(
                if self.held { "held" } else { "conference" },
                "applies only to state on_call",
            ),
            LineStateName::Idle => Ok(LineState::Idle),
            LineStateName::Ringing => Ok(LineState::Ringing),
            LineStateName::OutOfOrder => Ok(LineState::OutOfOrder),
        }
    }
}

/// `PUT .../queues/{queue}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct QueueBody {
    /// The agent state.
    pub(super) state: AgentState,
}

/// `PUT .../external/{source}`: a claim with either `expires_in_s` or `expires` (Unix ms).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ExternalBody {
    availability: Settable,
    #[serde(default)]
    activity: Option<Activity>,
    #[serde(default)]
    note: Option<Note>,
    #[serde(default)]
    expires_in_s: Option<u64>,
    #[serde(default)]
    expires: Option<u64>,
}

impl ExternalBody {
    /// The claim, expiring within [`MAX_EXTERNAL_EXPIRY`] of `now`.
    pub(super) fn into_claim(self, now: Timestamp) -> Result<ExternalSource, BodyError> {
        let latest = now.saturating_add(MAX_EXTERNAL_EXPIRY);
        let expires = match (self.expires_in_s, self.expires) {
            (Some(_), Some(_)) => {
                return refuse("expires", "give expires_in_s or expires, not both");
            }
            (None, None) => return refuse("expires_in_s", "required (or expires, in Unix ms)"),
            (Some(0), None) => return refuse("expires_in_s", "must be at least 1"),
            (Some(s), None) => now.saturating_add(Duration::from_secs(s)),
            (None, Some(ms)) => Timestamp::from_unix_ms(ms),
        };
        let field = if self.expires.is_some() {
            "expires"
        } else {
            "expires_in_s"
        };
        if expires <= now {
            return refuse(field, "is in the past");
        }
        if expires > latest {
            return refuse(field, "may be at most 7 days (604800 s) ahead");
        }
        Ok(ExternalSource {
            availability: self.availability,
            activity: self.activity,
            note: self.note,
            expires,
        })
    }
}

/// `PUT .../manual`: the user's own setting.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ManualBody {
    availability: ManualAvailability,
    #[serde(default)]
    activity: Option<Activity>,
    #[serde(default)]
    note: Option<Note>,
    #[serde(default)]
    until: Option<u64>,
}

impl ManualBody {
    /// The setting, made at `now`.
    pub(super) fn into_manual(self, now: Timestamp) -> Result<Manual, BodyError> {
        let until = self.until.map(Timestamp::from_unix_ms);
        if let Some(u) = until {
            if u <= now {
                return refuse("until", "is in the past");
            }
            if u > now.saturating_add(MAX_MANUAL_UNTIL) {
                return refuse("until", "may be at most 366 days ahead");
            }
        }
        Ok(Manual {
            availability: self.availability,
            activity: self.activity,
            note: self.note,
            until,
            since: now,
        })
    }
}

/// `PUT .../idle`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct IdleBody {
    since: u64,
}

impl IdleBody {
    /// Idle since, not after `now` (give or take [`IDLE_CLOCK_SKEW`]).
    pub(super) fn into_since(self, now: Timestamp) -> Result<Timestamp, BodyError> {
        let since = Timestamp::from_unix_ms(self.since);
        if since > now.saturating_add(IDLE_CLOCK_SKEW) {
            return refuse("since", "is in the future");
        }
        Ok(since.min(now))
    }
}

/// `PUT .../settings`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SettingsBody {
    #[serde(default)]
    idle_threshold_s: Option<u64>,
    #[serde(default)]
    utc_offset_minutes: i32,
}

impl SettingsBody {
    /// The settings (the engine checks the idle threshold's range).
    pub(super) fn into_settings(self) -> Result<UserSettings, BodyError> {
        let Some(utc_offset) = UtcOffset::from_minutes(self.utc_offset_minutes) else {
            return refuse("utc_offset_minutes", "must be within ±1080 (18 hours)");
        };
        Ok(UserSettings {
            idle_threshold_s: self.idle_threshold_s,
            utc_offset,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp::from_unix_ms(1_800_000_000_000);

    fn parse<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn line_bodies_become_line_states() {
        let on: LineBody = parse(r#"{"state":"on_call","held":true}"#).unwrap();
        assert_eq!(
            on.into_state().unwrap(),
            LineState::OnCall(Call {
                held: true,
                conference: false
            })
        );
        let ring: LineBody = parse(r#"{"state":"ringing"}"#).unwrap();
        assert_eq!(ring.into_state().unwrap(), LineState::Ringing);
        let bad: LineBody = parse(r#"{"state":"idle","conference":true}"#).unwrap();
        assert_eq!(bad.into_state().unwrap_err().field, "conference");
        assert!(
            parse::<LineBody>(r#"{"state":"busy"}"#)
                .unwrap_err()
                .contains("unknown variant")
        );
        assert!(
            parse::<LineBody>(r#"{"state":"idle","x":1}"#)
                .unwrap_err()
                .contains("unknown field")
        );
    }

    #[test]
    fn external_claims_need_a_bounded_future_expiry() {
        let claim = |json: &str| parse::<ExternalBody>(json).unwrap().into_claim(NOW);
        let ok = claim(r#"{"availability":"busy","activity":"in_a_meeting","expires_in_s":60}"#);
        assert_eq!(
            ok.unwrap().expires,
            NOW.saturating_add(Duration::from_secs(60))
        );
        let at = NOW.unix_ms() + 1000;
        let ok = claim(&format!(r#"{{"availability":"away","expires":{at}}}"#)).unwrap();
        assert_eq!(ok.expires.unix_ms(), at);
        for (json, field) in [
            (r#"{"availability":"busy"}"#, "expires_in_s"),
            (
                r#"{"availability":"busy","expires_in_s":0}"#,
                "expires_in_s",
            ),
            (
                r#"{"availability":"busy","expires_in_s":604801}"#,
                "expires_in_s",
            ),
            (r#"{"availability":"busy","expires":5}"#, "expires"),
            (
                r#"{"availability":"busy","expires":5,"expires_in_s":5}"#,
                "expires",
            ),
        ] {
            assert_eq!(claim(json).unwrap_err().field, field, "{json}");
        }
        assert!(claim(r#"{"availability":"busy","expires_in_s":604800}"#).is_ok());
        let long_note = format!(r#"{{"availability":"busy","note":"{}"}}"#, "x".repeat(600));
        assert!(
            parse::<ExternalBody>(&long_note)
                .unwrap_err()
                .contains("bytes")
        );
    }

    #[test]
    fn manual_idle_and_settings_bodies_are_checked() {
        let m: ManualBody =
            parse(r#"{"availability":"appear_offline","note":"Back at 3"}"#).unwrap();
        let m = m.into_manual(NOW).unwrap();
        assert_eq!(m.since, NOW);
        let past: ManualBody = parse(r#"{"availability":"busy","until":1}"#).unwrap();
        assert_eq!(past.into_manual(NOW).unwrap_err().field, "until");
        let idle: IdleBody = parse(&format!(r#"{{"since":{}}}"#, NOW.unix_ms() - 5)).unwrap();
        assert!(idle.into_since(NOW).is_ok());
        let future: IdleBody =
            parse(&format!(r#"{{"since":{}}}"#, NOW.unix_ms() + 3_600_000)).unwrap();
        assert_eq!(future.into_since(NOW).unwrap_err().field, "since");
        let s: SettingsBody = parse(r#"{"idle_threshold_s":120,"utc_offset_minutes":60}"#).unwrap();
        assert_eq!(s.into_settings().unwrap().utc_offset.minutes(), 60);
        let s: SettingsBody = parse(r#"{"utc_offset_minutes":5000}"#).unwrap();
        assert_eq!(s.into_settings().unwrap_err().field, "utc_offset_minutes");
    }
}
