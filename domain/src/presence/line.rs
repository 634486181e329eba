//! Telephony per line and the busy lamp field (Cloud PBX B1–B3, CLINQ S2/S5, ProCall S13).
//!
//! A user may have several lines (desk phone, softphone, a second extension). The PBX reports each
//! line; the user's lamp summarises them the way a BLF key does: a ringing call must be visible even
//! while the user talks on another line, because that is exactly when a colleague picks it up (B3).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::text::LineId;

/// The state of one line as the PBX reports it (RFC 4235 dialog states folded to what a lamp shows:
/// early → ringing, confirmed → on a call, terminated → idle).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum LineState {
    /// Registered and free.
    Idle,
    /// A call is offered and not yet answered.
    Ringing,
    /// A call is up.
    OnCall(Call),
    /// Not registered or faulty (ProCall "line faulty"); says nothing about the person.
    OutOfOrder,
}

/// Details of a call in progress; both optional, since many PBXs report neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Call {
    /// The call is on hold.
    #[serde(default)]
    pub held: bool,
    /// The call is a conference (three or more parties).
    #[serde(default)]
    pub conference: bool,
}

impl LineState {
    /// Whether the line shows that someone is using the phone right now; such a line keeps the user
    /// "live" even without a connected client (docs/PRESENCE.md rule 4).
    pub fn in_use(self) -> bool {
        matches!(self, LineState::Ringing | LineState::OnCall(_))
    }
}

/// The user's busy lamp: one summary of all lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lamp {
    /// The PBX reported no line for this user.
    #[default]
    NoLine,
    /// At least one line is free and none is in use.
    Free,
    /// A call rings and no call is up.
    Ringing,
    /// A call is up.
    Busy,
    /// A call is up and another one rings (Asterisk "InUse&Ringing").
    BusyRinging,
    /// Every reported line is out of order.
    OutOfOrder,
}

impl Lamp {
    /// Summarises the lines: ringing and busy combine, then free, then out of order (a faulty desk
    /// phone next to a working softphone does not make the user unreachable).
    pub fn of(lines: &BTreeMap<LineId, LineState>) -> Lamp {
        let ringing = lines.values().any(|s| matches!(s, LineState::Ringing));
        let on_call = lines.values().any(|s| matches!(s, LineState::OnCall(_)));
        let free = lines.values().any(|s| matches!(s, LineState::Idle));
        match (on_call, ringing) {
            (true, true) => Lamp::BusyRinging,
            (true, false) => Lamp::Busy,
            (false, true) => Lamp::Ringing,
            (false, false) if free => Lamp::Free,
            (false, false) if lines.is_empty() => Lamp::NoLine,
            (false, false) => Lamp::OutOfOrder,
        }
    }

    /// A call rings on some line.
    pub fn ringing(self) -> bool {
        matches!(self, Lamp::Ringing | Lamp::BusyRinging)
    }

    /// A call is up on some line.
    pub fn on_call(self) -> bool {
        matches!(self, Lamp::Busy | Lamp::BusyRinging)
    }
}

/// What the calls in progress look like together, for the activity and the status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallSummary {
    /// At least one call is up and not on hold.
    Talking,
    /// At least one conference is up.
    Conference,
    /// Every call that is up is on hold.
    AllHeld,
}

/// Summarises the calls that are up, `None` if there is none.
pub(crate) fn call_summary(lines: &BTreeMap<LineId, LineState>) -> Option<CallSummary> {
    let calls: Vec<Call> = lines
        .values()
        .filter_map(|s| match s {
            LineState::OnCall(c) => Some(*c),
            _ => None,
        })
        .collect();
    if calls.is_empty() {
        None
    } else if calls.iter().any(|c| c.conference && !c.held) {
        Some(CallSummary::Conference)
    } else if calls.iter().all(|c| c.held) {
        Some(CallSummary::AllHeld)
    } else {
        Some(CallSummary::Talking)
    }
}

impl CallSummary {
    /// English phrase for the status line.
    pub(crate) fn phrase(self) -> &'static str {
        match self {
            CallSummary::Talking => "On the phone",
            CallSummary::Conference => "In a conference call",
            CallSummary::AllHeld => "On the phone (on hold)",
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn lines(states: &[LineState]) -> BTreeMap<LineId, LineState> {
        states
            .iter()
            .enumerate()
            .map(|(i, s)| (LineId::new(format!("20{i}")).unwrap(), *s))
            .collect()
    }

    #[test]
    fn lamp_follows_the_blf_states_idle_ringing_busy() {
        assert_eq!(Lamp::of(&lines(&[])), Lamp::NoLine);
        assert_eq!(Lamp::of(&lines(&[LineState::Idle])), Lamp::Free);
        assert_eq!(Lamp::of(&lines(&[LineState::Ringing])), Lamp::Ringing);
        let call = LineState::OnCall(Call::default());
        assert_eq!(Lamp::of(&lines(&[call, LineState::Idle])), Lamp::Busy);
    }

    #[test]
    fn a_ringing_second_line_stays_visible_during_a_call() {
        let call = LineState::OnCall(Call::default());
        let lamp = Lamp::of(&lines(&[call, LineState::Ringing]));
        assert_eq!(lamp, Lamp::BusyRinging);
        assert!(lamp.ringing() && lamp.on_call());
    }

    #[test]
    fn out_of_order_only_when_no_line_works() {
        let l = lines(&[LineState::OutOfOrder, LineState::Idle]);
        assert_eq!(Lamp::of(&l), Lamp::Free);
        assert_eq!(Lamp::of(&lines(&[LineState::OutOfOrder])), Lamp::OutOfOrder);
    }

    #[test]
    fn call_summary_reports_hold_and_conference() {
        let held = LineState::OnCall(Call {
            held: true,
            conference: false,
        });
        let conf = LineState::OnCall(Call {
            held: false,
            conference: true,
        });
        assert_eq!(call_summary(&lines(&[held])), Some(CallSummary::AllHeld));
        assert_eq!(
            call_summary(&lines(&[held, conf])),
            Some(CallSummary::Conference)
        );
        assert_eq!(call_summary(&lines(&[LineState::Ringing])), None);
    }

    #[test]
    fn line_state_json_is_tagged() {
        let s = LineState::OnCall(Call {
            held: true,
            conference: false,
        });
        let j = serde_json::to_string(&s).unwrap();
        assert_eq!(j, r#"{"state":"on_call","held":true,"conference":false}"#);
        let back: LineState = serde_json::from_str(r#"{"state":"on_call"}"#).unwrap();
        assert_eq!(back, LineState::OnCall(Call::default()));
    }
}
