//! Shared fixtures: Berlin wall-clock times and a small book of profiles.

use chrono::{NaiveDate, NaiveTime};

use super::*;
use crate::calendar::{Appointment, ShowAs, Zone};
use crate::presence::{LineId, ProfileName, QueueId, Settable, Timestamp};

pub(crate) fn berlin() -> Zone {
    "Europe/Berlin".parse().unwrap()
}

/// A wall-clock time in Berlin.
pub(crate) fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Timestamp {
    berlin()
        .resolve(
            NaiveDate::from_ymd_opt(y, mo, d)
                .unwrap()
                .and_hms_opt(h, mi, 0)
                .unwrap(),
        )
        .unwrap()
}

/// Monday 2026-11-23 in Berlin.
pub(crate) fn mon(h: u32, mi: u32) -> Timestamp {
    at(2026, 11, 23, h, mi)
}

pub(crate) fn name(s: &str) -> ProfileName {
    ProfileName::new(s).unwrap()
}

pub(crate) fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

pub(crate) fn number(n: &str) -> ForwardTarget {
    ForwardTarget::Number(LineId::new(n).unwrap())
}

pub(crate) fn follow_me(enabled: bool) -> Action {
    Action::FollowMe {
        family: DeviceFamily::Mobile,
        enabled,
    }
}

/// System "Available"/"Do not disturb" plus: Training (fwd 201), Lunch (voicemail), Sick (sticky),
/// Meeting (sticky, DND), Office (forwarding off, queue log-in), Home office (actions), Away.
pub(crate) fn book() -> ProfileBook {
    let mut b = ProfileBook::new(default_system_profiles(), Vec::new());
    let mut add = |n: &str, spec: ProfileSpec| {
        b.create(Editor::User, name(n), Scope::User, spec).unwrap();
    };
    add(
        "Training",
        ProfileSpec {
            availability: Settable::Busy,
            forwarding: ForwardingChange::To(number("201")),
            ..ProfileSpec::default()
        },
    );
    add(
        "Lunch",
        ProfileSpec {
            availability: Settable::Away,
            forwarding: ForwardingChange::To(ForwardTarget::Voicemail),
            on_enter: vec![Step::new(Action::Queue {
                action: QueueAction {
                    op: QueueOp::Pause,
                    scope: QueueScope::All,
                },
            })],
            on_leave: vec![Step::new(Action::Queue {
                action: QueueAction {
                    op: QueueOp::Unpause,
                    scope: QueueScope::All,
                },
            })],
            ..ProfileSpec::default()
        },
    );
    add(
        "Sick",
        ProfileSpec {
            availability: Settable::Away,
            sticky: true,
            forwarding: ForwardingChange::To(ForwardTarget::Voicemail),
            ..ProfileSpec::default()
        },
    );
    add(
        "Meeting",
        ProfileSpec {
            availability: Settable::DoNotDisturb,
            sticky: true,
            ..ProfileSpec::default()
        },
    );
    add(
        "Office",
        ProfileSpec {
            forwarding: ForwardingChange::Off,
            queue: vec![QueueAction {
                op: QueueOp::LogIn,
                scope: QueueScope::One(QueueId::new("support").unwrap()),
            }],
            ..ProfileSpec::default()
        },
    );
    add(
        "Home office",
        ProfileSpec {
            on_enter: vec![
                Step::new(Action::Workplace { workplace: None }),
                Step {
                    action: Action::GsmMode { enabled: true },
                    enabled: false,
                },
                Step::new(follow_me(true)),
            ],
            on_leave: vec![Step::new(follow_me(false))],
            ..ProfileSpec::default()
        },
    );
    add(
        "Away",
        ProfileSpec {
            availability: Settable::Away,
            ..ProfileSpec::default()
        },
    );
    b
}

/// Runs an event and returns the effects, updating the state.
pub(crate) fn step(
    state: &mut ProfileState,
    event: Event,
    now: Timestamp,
    ctx: &Ctx<'_>,
) -> Vec<Effect> {
    let (s, e) = on_event(state.clone(), event, now, ctx);
    *state = s;
    e
}

pub(crate) fn active(state: &ProfileState) -> Option<&str> {
    state.active.as_ref().map(|a| a.profile.as_str())
}

pub(crate) fn forwarding(effects: &[Effect]) -> Option<Option<ForwardTarget>> {
    effects.iter().find_map(|e| match e {
        Effect::SetForwarding { target } => Some(target.clone()),
        _ => None,
    })
}

/// Full-profile mode, calendar trigger on with "Do not disturb" as the default profile.
pub(crate) fn full_calendar() -> ProfileSettings {
    ProfileSettings {
        zone: berlin(),
        event_mode: EventMode::FullProfile,
        calendar: CalendarTrigger {
            enabled: true,
            all_busy: true,
            default_profile: Some(name("Do not disturb")),
            invitations: false,
        },
        ..ProfileSettings::default()
    }
}

/// A busy appointment on Monday, optionally naming a profile.
pub(crate) fn appt(from: (u32, u32), to: (u32, u32), profile: Option<&str>) -> Appointment {
    let a = Appointment::new(mon(from.0, from.1), mon(to.0, to.1), ShowAs::Busy).unwrap();
    match profile {
        Some(p) => a.with_profile(name(p)),
        None => a,
    }
}
