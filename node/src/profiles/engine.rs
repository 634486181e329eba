//! The profile state machine: which profile is active, and what must happen when that changes.
//!
//! Each source of a profile is a *candidate* with the instant it began: the base (a manual switch,
//! a time trigger, client start or exit), the inactivity trigger, the innermost current calendar
//! appointment that names a profile, and a running external meeting. The newest candidate wins,
//! like the newest user-level statement in docs/PRESENCE.md rule 2. Two consequences come for
//! free: when lunch ends, the enclosing training (an older candidate) is active again (XPhone D3),
//! and when a meeting ends, the profile from before it is active again (pascom D5), because the
//! meeting never overwrote it.
//!
//! A sticky profile (pascom D4) holds while its own candidate lasts: newer automatic candidates
//! are ignored, automatic base changes (time, client start/exit) are dropped, and only a manual
//! switch replaces it.

use serde::{Deserialize, Serialize};

use super::book::ProfileBook;
use super::model::{Action, Chain, ForwardTarget, Forwarding, Profile, QueueAction};
use super::triggers::ProfileSettings;
use crate::calendar::{self, Appointment};
use crate::presence::{self, ProfileName, ProfileSource, Timestamp};

/// What made a profile a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The user switched (API, CLI, ad-hoc command).
    Manual,
    /// A time-of-day trigger.
    Time,
    /// The first session came up.
    ClientStart,
    /// The last session went down.
    ClientExit,
    /// Idle past the threshold, or screen locked.
    Inactivity,
    /// A calendar appointment.
    Calendar,
    /// An external meeting.
    Meeting,
}

impl Cause {
    /// Tie-break between candidates that began at the same instant.
    fn rank(self) -> u8 {
        match self {
            Cause::Manual => 5,
            Cause::Meeting => 4,
            Cause::Calendar => 3,
            Cause::Inactivity => 2,
            Cause::Time | Cause::ClientStart | Cause::ClientExit => 1,
        }
    }
}

/// The base profile: the last manual switch or time/client trigger; `profile: None` is "no profile".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    /// The profile.
    pub profile: Option<ProfileName>,
    /// When it was set.
    pub since: Timestamp,
    /// By what.
    pub cause: Cause,
}

/// The active profile as last reported in effects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Active {
    /// The profile.
    pub profile: ProfileName,
    /// Its candidate's cause.
    pub cause: Cause,
    /// Its candidate's start.
    pub since: Timestamp,
    /// Its end, when known (a calendar appointment's end).
    pub until: Option<Timestamp>,
}

/// One user's profile state; the engine persists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfileState {
    /// Base profile.
    pub base: Option<Held>,
    /// Connected sessions (client start = first up, client exit = last down).
    pub sessions: u32,
    /// Idle since (from idle reports).
    pub idle_since: Option<Timestamp>,
    /// Screen locked since.
    pub locked_since: Option<Timestamp>,
    /// An external meeting runs since.
    pub meeting_since: Option<Timestamp>,
    /// The active profile.
    pub active: Option<Active>,
    /// Time triggers up to here have been applied.
    pub last_evaluated: Timestamp,
}

impl Default for ProfileState {
    fn default() -> Self {
        ProfileState {
            base: None,
            sessions: 0,
            idle_since: None,
            locked_since: None,
            meeting_since: None,
            active: None,
            last_evaluated: Timestamp::EPOCH,
        }
    }
}

impl ProfileState {
    /// A fresh state: no profile, no trigger pending from before `now`.
    pub fn new(now: Timestamp) -> Self {
        ProfileState {
            last_evaluated: now,
            ..ProfileState::default()
        }
    }
}

/// Something that happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Event {
    /// Manual switch; `None` leaves every profile. Check it first with
    /// [`ProfileBook::activatable`]; an unknown or disabled name here means "no profile".
    Switch {
        /// The profile.
        profile: Option<ProfileName>,
    },
    /// A session of the user came up.
    SessionUp,
    /// A session of the user went down.
    SessionDown,
    /// Idle since (an idle report).
    Idle {
        /// Since when.
        since: Timestamp,
    },
    /// The screen was locked.
    ScreenLocked,
    /// Input again (idle and lock end).
    InputResumed,
    /// An external meeting started.
    MeetingStarted,
    /// The external meeting ended.
    MeetingEnded,
    /// The timer from [`next_trigger_time`] fired, or the calendar or settings changed.
    Tick,
    /// The node started: sessions that were up are gone (client exit at the last evaluation),
    /// the meeting and idle reports are stale, and time triggers missed while down are applied.
    NodeStarted,
}

/// What the engine must do, in this order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Effect {
    /// Run these actions in order: the leave chain of the old profile, then the enter chain of the
    /// new one (enabled steps only).
    RunActions {
        /// The actions.
        actions: Vec<Action>,
    },
    /// Set (`Some`) or end (`None`) the call forwarding. Absent when the new profile leaves the
    /// forwarding unchanged.
    SetForwarding {
        /// The target.
        target: Option<ForwardTarget>,
    },
    /// The new profile's queue actions.
    Queue {
        /// The actions.
        actions: Vec<QueueAction>,
    },
    /// The new `Sources.profile` for the presence model.
    Presence {
        /// The profile source.
        profile: Option<ProfileSource>,
    },
}

/// What the state machine reads besides the state.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// The user's profiles.
    pub book: &'a ProfileBook,
    /// The user's trigger settings.
    pub settings: &'a ProfileSettings,
    /// The user's appointments.
    pub calendar: &'a [Appointment],
}

#[derive(Debug, Clone)]
struct Candidate {
    profile: Option<ProfileName>,
    cause: Cause,
    since: Timestamp,
    until: Option<Timestamp>,
}

/// Applies an event at `now` and returns the new state with the effects to carry out.
pub fn on_event(
    state: ProfileState,
    event: Event,
    now: Timestamp,
    ctx: &Ctx<'_>,
) -> (ProfileState, Vec<Effect>) {
    let mut s = state;
    let pinned = pinned(&s, now, ctx);
    let settings = ctx.settings;
    match event {
        Event::Switch { profile } => {
            s.base = Some(Held {
                profile,
                since: now,
                cause: Cause::Manual,
            });
        }
        Event::SessionUp => {
            s.sessions = s.sessions.saturating_add(1);
            if s.sessions == 1 {
                automatic(&mut s, settings.on_client_start.as_ref(), now, Cause::ClientStart, pinned);
            }
        }
        Event::SessionDown => {
            if s.sessions > 0 {
                s.sessions -= 1;
                if s.sessions == 0 {
                    automatic(&mut s, settings.on_client_exit.as_ref(), now, Cause::ClientExit, pinned);
                }
            }
        }
        Event::Idle { since } => s.idle_since = Some(since.min(now)),
        Event::ScreenLocked => s.locked_since = Some(now),
        Event::InputResumed => {
            s.idle_since = None;
            s.locked_since = None;
        }
        Event::MeetingStarted => {
            s.meeting_since.get_or_insert(now);
        }
        Event::MeetingEnded => s.meeting_since = None,
        Event::Tick => {}
        Event::NodeStarted => {
            if s.sessions > 0 {
                s.sessions = 0;
                let at = s.last_evaluated.min(now);
                automatic(&mut s, settings.on_client_exit.as_ref(), at, Cause::ClientExit, pinned);
            }
            s.idle_since = None;
            s.locked_since = None;
            s.meeting_since = None;
        }
    }
    if let Some((at, profile)) = settings.last_time_trigger(s.last_evaluated, now) {
        automatic(&mut s, Some(profile), at, Cause::Time, pinned);
    }
    s.last_evaluated = s.last_evaluated.max(now);

    let winner = winner(&s, now, ctx);
    let effects = transition(s.active.as_ref(), winner.as_ref(), ctx.book);
    s.active = winner.and_then(|w| {
        Some(Active {
            profile: w.profile?,
            cause: w.cause,
            since: w.since,
            until: w.until,
        })
    });
    (s, effects)
}

/// When the engine must send the next [`Event::Tick`]: the next time trigger, calendar boundary
/// of a profile-activating appointment, or inactivity threshold after `now`.
pub fn next_trigger_time(state: &ProfileState, now: Timestamp, ctx: &Ctx<'_>) -> Option<Timestamp> {
    let settings = ctx.settings;
    let time = settings.next_time_trigger(now);
    let cal = if settings.full_profiles() {
        calendar::next_boundary(
            ctx.calendar
                .iter()
                .filter(|a| calendar_profile(a, ctx).is_some()),
            now,
        )
    } else {
        None
    };
    let idle = settings
        .inactivity
        .as_ref()
        .and_then(|i| Some(state.idle_since?.saturating_add(minutes(i.after_minutes?))))
        .filter(|t| *t > now);
    [time, cal, idle].into_iter().flatten().min()
}

/// The presence model's `Sources.profile` for a state (after a restart, before any event).
pub fn profile_source(state: &ProfileState, book: &ProfileBook) -> Option<ProfileSource> {
    let a = state.active.as_ref()?;
    Some(source(book.get(&a.profile)?, a.since, a.until))
}

/// The presence model's `Sources.calendar`: the blocking appointments that did not activate a
/// profile (all of them in simple-presence mode). Private subjects are not copied.
pub fn presence_calendar(ctx: &Ctx<'_>) -> Vec<presence::Appointment> {
    let full = ctx.settings.full_profiles();
    ctx.calendar
        .iter()
        .filter(|a| !full || calendar_profile(a, ctx).is_none())
        .filter_map(Appointment::to_presence)
        .collect()
}

fn minutes(m: u16) -> std::time::Duration {
    std::time::Duration::from_secs(u64::from(m) * 60)
}

/// The enabled profile an appointment activates, in full-profile mode.
fn calendar_profile<'a>(a: &'a Appointment, ctx: &Ctx<'a>) -> Option<&'a Profile> {
    let name = ctx.settings.calendar.profile_for(a)?;
    ctx.book.get(name).filter(|p| p.spec.enabled)
}

fn enabled<'a>(ctx: &Ctx<'a>, name: Option<&ProfileName>) -> Option<&'a Profile> {
    ctx.book.get(name?).filter(|p| p.spec.enabled)
}

/// Sets the base from a trigger unless a sticky profile holds or a newer base exists.
fn automatic(
    s: &mut ProfileState,
    profile: Option<&ProfileName>,
    at: Timestamp,
    cause: Cause,
    pinned: bool,
) {
    let Some(profile) = profile else { return };
    if pinned || s.base.as_ref().is_some_and(|b| b.since > at) {
        return;
    }
    s.base = Some(Held {
        profile: Some(profile.clone()),
        since: at,
        cause,
    });
}

fn candidates(s: &ProfileState, now: Timestamp, ctx: &Ctx<'_>) -> Vec<Candidate> {
    let mut out = Vec::with_capacity(4);
    if let Some(b) = &s.base {
        out.push(Candidate {
            profile: enabled(ctx, b.profile.as_ref()).map(|p| p.name().clone()),
            cause: b.cause,
            since: b.since,
            until: None,
        });
    }
    if let Some(i) = &ctx.settings.inactivity
        && enabled(ctx, Some(&i.profile)).is_some()
    {
        let locked = s.locked_since.filter(|_| i.on_screen_lock);
        let idle = i
            .after_minutes
            .and_then(|m| Some(s.idle_since?.saturating_add(minutes(m))))
            .filter(|t| *t <= now);
        if let Some(since) = [locked, idle].into_iter().flatten().min() {
            out.push(Candidate {
                profile: Some(i.profile.clone()),
                cause: Cause::Inactivity,
                since,
                until: None,
            });
        }
    }
    if ctx.settings.full_profiles() {
        let qualifying = ctx.calendar.iter().filter(|a| calendar_profile(a, ctx).is_some());
        if let Some(a) = calendar::innermost(qualifying, now)
            && let Some(p) = calendar_profile(a, ctx)
        {
            out.push(Candidate {
                profile: Some(p.name().clone()),
                cause: Cause::Calendar,
                since: a.start,
                until: Some(a.end),
            });
        }
        if let (Some(since), Some(p)) = (s.meeting_since, enabled(ctx, ctx.settings.meeting.as_ref())) {
            out.push(Candidate {
                profile: Some(p.name().clone()),
                cause: Cause::Meeting,
                since,
                until: None,
            });
        }
    }
    out
}

/// The active profile is sticky and its candidate still stands.
fn pinned(s: &ProfileState, now: Timestamp, ctx: &Ctx<'_>) -> bool {
    held_sticky(s, &candidates(s, now, ctx), ctx).is_some()
}

fn held_sticky(s: &ProfileState, cands: &[Candidate], ctx: &Ctx<'_>) -> Option<Candidate> {
    let a = s.active.as_ref()?;
    if !ctx.book.get(&a.profile)?.spec.sticky {
        return None;
    }
    cands
        .iter()
        .find(|c| c.cause == a.cause && c.since == a.since && c.profile.as_ref() == Some(&a.profile))
        .cloned()
}

fn winner(s: &ProfileState, now: Timestamp, ctx: &Ctx<'_>) -> Option<Candidate> {
    let cands = candidates(s, now, ctx);
    let newest = cands
        .iter()
        .max_by(|a, b| a.since.cmp(&b.since).then(a.cause.rank().cmp(&b.cause.rank())))
        .cloned();
    match (held_sticky(s, &cands, ctx), newest) {
        (Some(hold), Some(n)) if n.cause != Cause::Manual || n.since <= hold.since => Some(hold),
        (_, n) => n,
    }
}

fn source(p: &Profile, since: Timestamp, until: Option<Timestamp>) -> ProfileSource {
    ProfileSource {
        name: p.name().clone(),
        availability: p.spec.availability,
        activity: p.spec.activity,
        note: p.spec.note.clone(),
        until,
        since,
    }
}

fn transition(old: Option<&Active>, new: Option<&Candidate>, book: &ProfileBook) -> Vec<Effect> {
    let new_profile = new.and_then(|c| book.get(c.profile.as_ref()?));
    let old_profile = old.and_then(|a| book.get(&a.profile));
    let same_profile = match (old, new_profile) {
        (Some(a), Some(p)) => &a.profile == p.name(),
        (None, None) => true,
        _ => false,
    };
    let mut effects = Vec::new();
    if !same_profile {
        let actions: Vec<Action> = old_profile
            .into_iter()
            .flat_map(|p| p.spec.actions(Chain::OnLeave))
            .chain(new_profile.into_iter().flat_map(|p| p.spec.actions(Chain::OnEnter)))
            .cloned()
            .collect();
        if !actions.is_empty() {
            effects.push(Effect::RunActions { actions });
        }
        if let Some(p) = new_profile {
            match &p.spec.forwarding {
                Forwarding::Unchanged => {}
                Forwarding::Off => effects.push(Effect::SetForwarding { target: None }),
                Forwarding::To(t) => effects.push(Effect::SetForwarding {
                    target: Some(t.clone()),
                }),
            }
            if !p.spec.queue.is_empty() {
                effects.push(Effect::Queue {
                    actions: p.spec.queue.clone(),
                });
            }
        }
    }
    let unchanged_source = match (old, new, new_profile) {
        (Some(a), Some(c), Some(_)) => same_profile && a.since == c.since && a.until == c.until && a.cause == c.cause,
        (None, _, None) => true,
        _ => false,
    };
    if !unchanged_source {
        effects.push(Effect::Presence {
            profile: new.zip(new_profile).map(|(c, p)| source(p, c.since, c.until)),
        });
    }
    effects
}
