//! Carrying out the profile state machine's effects, in order, and handing the calendar to the
//! presence model.

use jid::BareJid;

use super::{Inner, ProfileRuntimeError};
use crate::engine::{MAX_APPOINTMENTS, SourceChange};
use lampfield_domain::access::Forwarding;
use lampfield_domain::calendar::{Appointment, Sharing};
use lampfield_domain::presence::{self, AgentState, Note, ProfileName, QueueId, Timestamp};
use lampfield_domain::profiles::{
    Action, Ctx, Effect, ForwardTarget, QueueAction, QueueOp, QueueScope, presence_calendar,
};

/// How far ahead the presence model gets appointments (it shows today's; the timer refreshes).
const HAND_OVER_AHEAD: std::time::Duration = std::time::Duration::from_secs(36 * 3600);

/// Actions to the connector, queue actions to the engine, then the profile and its forwarding to
/// the engine as one change.
pub(super) async fn carry_out(
    inner: &Inner,
    user: &BareJid,
    effects: Vec<Effect>,
    active: Option<&ProfileName>,
    now: Timestamp,
) -> Result<(), ProfileRuntimeError> {
    if effects.is_empty() {
        return Ok(());
    }
    let record = inner.engine.record(user)?;
    let mut forwarding = record.forwarding.clone();
    let mut profile = record.sources.profile.clone();
    let mut touched = false;
    for effect in effects {
        match effect {
            Effect::RunActions { actions } => inner.connector.send(user, active, actions, now),
            Effect::SetForwarding { target } => {
                forwarding = target.as_ref().and_then(shown_forwarding);
                touched = true;
                let action = match target {
                    Some(target) => Action::SetForwarding { target },
                    None => Action::ClearForwarding,
                };
                inner.connector.send(user, active, [action], now);
            }
            Effect::Queue { actions } => {
                for action in &actions {
                    let queues: Vec<QueueId> = match &action.scope {
                        QueueScope::All => record.sources.queues.keys().cloned().collect(),
                        QueueScope::One(q) => vec![q.clone()],
                    };
                    for q in queues {
                        inner
                            .engine
                            .update(user, SourceChange::Queue(q, Some(agent_state(action))))
                            .await?;
                    }
                }
                let actions = actions.into_iter().map(|action| Action::Queue { action });
                inner.connector.send(user, active, actions, now);
            }
            Effect::Presence { profile: p } => {
                profile = p;
                touched = true;
            }
        }
    }
    if touched {
        inner
            .engine
            .update(user, SourceChange::Profile(profile, forwarding))
            .await?;
    }
    Ok(())
}

/// The forwarding as the presence detail shows it (team and above).
fn shown_forwarding(target: &ForwardTarget) -> Option<Forwarding> {
    let text = match target {
        ForwardTarget::Voicemail => "voicemail",
        ForwardTarget::Number(n) => n.as_str(),
    };
    Note::new(text).ok().map(|target| Forwarding { target })
}

/// The queue-agent state a queue action leaves.
fn agent_state(action: &QueueAction) -> AgentState {
    match action.op {
        QueueOp::LogIn | QueueOp::Unpause => AgentState::Available,
        QueueOp::Pause => AgentState::Unavailable,
        QueueOp::LogOut => AgentState::LoggedOut,
    }
}

/// The appointments the presence model should show, by the user's sharing choice: none at
/// `nothing`, public ones only at `public_only`, all (private ones without subject) otherwise.
pub(super) fn visible_appointments(
    ctx: &Ctx<'_>,
    sharing: Sharing,
    now: Timestamp,
) -> Vec<presence::Booking> {
    let horizon = now.saturating_add(HAND_OVER_AHEAD);
    let shared: Vec<Appointment> = ctx
        .calendar
        .iter()
        .filter(|a| now < a.end && a.start < horizon)
        .filter(|a| match sharing {
            Sharing::Nothing => false,
            Sharing::PublicOnly => !a.private,
            Sharing::PublicAndPrivateTimes | Sharing::Everything => true,
        })
        .cloned()
        .collect();
    let mut out = presence_calendar(&Ctx {
        calendar: &shared,
        ..*ctx
    });
    out.truncate(MAX_APPOINTMENTS);
    out
}

/// Give the engine the appointments it should show, if they differ from what it has.
pub(super) async fn hand_over_calendar(
    inner: &Inner,
    user: &BareJid,
    ctx: &Ctx<'_>,
    sharing: Sharing,
    now: Timestamp,
) -> Result<(), ProfileRuntimeError> {
    let wanted = visible_appointments(ctx, sharing, now);
    let record = inner.engine.record(user)?;
    let current: Vec<&presence::Booking> = record
        .sources
        .calendar
        .iter()
        .filter(|a| now < a.end)
        .collect();
    if current.len() == wanted.len() && current.iter().zip(&wanted).all(|(a, b)| *a == b) {
        return Ok(());
    }
    inner
        .engine
        .update(user, SourceChange::Calendar(wanted))
        .await?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use lampfield_domain::calendar::ShowAs;
    use lampfield_domain::presence::Note;
    use lampfield_domain::profiles::{ProfileBook, ProfileSettings};

    fn t(min: u64) -> Timestamp {
        Timestamp::from_unix_ms(1_800_000_000_000 + min * 60_000)
    }

    #[test]
    fn sharing_decides_what_the_presence_model_gets_and_private_subjects_never_go() {
        let public = Appointment::new(t(0), t(60), ShowAs::Busy)
            .unwrap()
            .with_subject(Note::new("Planning").unwrap());
        let private = Appointment::new(t(10), t(20), ShowAs::Busy)
            .unwrap()
            .with_subject(Note::new("Doctor").unwrap())
            .with_private(true);
        let free = Appointment::new(t(0), t(90), ShowAs::Free).unwrap();
        let far = Appointment::new(t(3000), t(3060), ShowAs::Busy).unwrap();
        let calendar = vec![public, private, free, far];
        let book = ProfileBook::default();
        let settings = ProfileSettings::default();
        let ctx = Ctx {
            book: &book,
            settings: &settings,
            calendar: &calendar,
        };
        assert!(visible_appointments(&ctx, Sharing::Nothing, t(5)).is_empty());
        let only = visible_appointments(&ctx, Sharing::PublicOnly, t(5));
        assert_eq!(only.len(), 1);
        assert_eq!(only[0].subject.as_ref().unwrap().as_str(), "Planning");
        for level in [Sharing::PublicAndPrivateTimes, Sharing::Everything] {
            let all = visible_appointments(&ctx, level, t(5));
            assert_eq!(all.len(), 2, "free and far-away ones stay home");
            assert!(all[1].private && all[1].subject.is_none());
        }
    }
}
