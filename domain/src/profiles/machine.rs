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

use super::book::ProfileBook;
use super::model::{Action, Chain, ForwardingChange, Profile};
use super::state::{Active, Cause, Ctx, Effect, Event, Held, ProfileState};
use crate::calendar::{self, Appointment};
use crate::presence::{self, ProfileName, ProfileSource, Timestamp};

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
                automatic(
                    &mut s,
                    settings.on_client_start.as_ref(),
                    now,
                    Cause::ClientStart,
                    pinned,
                );
            }
        }
        Event::SessionDown => {
            if s.sessions > 0 {
                s.sessions -= 1;
                if s.sessions == 0 {
                    automatic(
                        &mut s,
                        settings.on_client_exit.as_ref(),
                        now,
                        Cause::ClientExit,
                        pinned,
                    );
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
                automatic(
                    &mut s,
                    settings.on_client_exit.as_ref(),
                    at,
                    Cause::ClientExit,
                    pinned,
                );
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

/// When the profile runtime must send the next [`Event::Tick`]: the next time trigger, calendar boundary
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
pub fn presence_calendar(ctx: &Ctx<'_>) -> Vec<presence::Booking> {
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
        let qualifying = ctx
            .calendar
            .iter()
            .filter(|a| calendar_profile(a, ctx).is_some());
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
        if let (Some(since), Some(p)) =
            (s.meeting_since, enabled(ctx, ctx.settings.meeting.as_ref()))
        {
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
        .find(|c| {
            c.cause == a.cause && c.since == a.since && c.profile.as_ref() == Some(&a.profile)
        })
        .cloned()
}

fn winner(s: &ProfileState, now: Timestamp, ctx: &Ctx<'_>) -> Option<Candidate> {
    let cands = candidates(s, now, ctx);
    let newest = cands
        .iter()
        .max_by(|a, b| {
            a.since
                .cmp(&b.since)
                .then(a.cause.rank().cmp(&b.cause.rank()))
        })
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
            .chain(
                new_profile
                    .into_iter()
                    .flat_map(|p| p.spec.actions(Chain::OnEnter)),
            )
            .cloned()
            .collect();
        if !actions.is_empty() {
            effects.push(Effect::RunActions { actions });
        }
        if let Some(p) = new_profile {
            match &p.spec.forwarding {
                ForwardingChange::Unchanged => {}
                ForwardingChange::Off => effects.push(Effect::SetForwarding { target: None }),
                ForwardingChange::To(t) => effects.push(Effect::SetForwarding {
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
        (Some(a), Some(c), Some(_)) => {
            same_profile && a.since == c.since && a.until == c.until && a.cause == c.cause
        }
        (None, _, None) => true,
        _ => false,
    };
    if !unchanged_source {
        effects.push(Effect::Presence {
            profile: new
                .zip(new_profile)
                .map(|(c, p)| source(p, c.since, c.until)),
        });
    }
    effects
}
