//! Aggregation: all sources of one user -> one effective presence, by the numbered rules in
//! docs/PRESENCE.md; plus change detection and the next self-triggered change for the engine's timer.

use super::availability::Availability;
use super::claims::{self, SourceKind};
use super::device::{DeviceKind, Devices};
use super::effective::EffectivePresence;
use super::line::{Lamp, LineState};
use super::sources::{Settings, Sources};
use super::status_text;
use super::time::Timestamp;

/// Combines all sources of one user at `now` (docs/PRESENCE.md, rules 1–19).
pub fn aggregate(sources: &Sources, now: Timestamp, settings: &Settings) -> EffectivePresence {
    // Rules 1–3: lapsed sources are dropped inside `user_claim`/`source_claims`; the newest
    // user-level statement counts; appearing offline hides everything.
    let Ok(user) = claims::user_claim(sources, now) else {
        return EffectivePresence::unavailable();
    };

    let mut out = EffectivePresence::unavailable();
    out.lines = sources.lines.clone();
    out.lamp = Lamp::of(&sources.lines);
    out.queues = sources.queues.clone();
    out.devices = devices(sources);

    // Rule 4: without a connected client, a line in use or a live integration the user is offline,
    // whatever the manual setting, profile or calendar say.
    let live = !sources.clients.is_empty()
        || sources.lines.values().any(|l| l.in_use())
        || sources.live_external(now).next().is_some();
    if !live {
        out.status_line = status_text::render(&out, now, settings.utc_offset);
        return out;
    }

    let mut all = Vec::new();
    all.extend(user.clone());
    all.extend(claims::source_claims(
        sources,
        now,
        settings.idle_threshold(),
    ));
    // Clients and integrations always claim; a line that only rings does not (rule 13), so a user
    // whose only live source is a ringing line is available, decided by the line.
    let fallback = claims::Claim {
        availability: Availability::Available,
        activity: None,
        until: None,
        kind: SourceKind::Line,
        note: None,
        profile: None,
    };
    let win = claims::winner(&all).unwrap_or(&fallback);

    out.availability = win.availability;
    out.activity = win.activity;
    out.until = win.until;
    out.source = Some(win.kind);
    // Rule 16: the profile is named whenever it is the user-level statement that counts, even
    // while an event (a call, an appointment) decides the availability.
    out.profile = user.as_ref().and_then(|u| u.profile.cloned());
    if let Some((note, kind)) = claims::note(sources, user.as_ref(), &all) {
        out.note = Some(note.clone());
        out.note_source = Some(kind);
    }
    out.idle_since = sources.idle_since();
    out.status_line = status_text::render(&out, now, settings.utc_offset);
    out
}

/// Devices online: connected clients by kind, plus a phone for every working PBX line.
fn devices(sources: &Sources) -> Devices {
    let mut d = Devices::default();
    for c in sources.clients.values() {
        d.add(c.device);
    }
    if sources.lines.values().any(|l| *l != LineState::OutOfOrder) {
        d.add(DeviceKind::Phone);
    }
    d
}

/// Whether watchers must hear about the change; the engine fans out only real changes.
pub fn changed(old: &EffectivePresence, new: &EffectivePresence) -> bool {
    old != new
}

/// The next instant after `now` at which `aggregate` may return something different with the same
/// sources: a setting, profile period or integration lapsing, an appointment starting or ending, the
/// idle threshold being crossed, or local midnight when the status line shows a date. The engine
/// keeps one timer for it. It may name an instant where nothing visible changes (a shadowed source
/// lapsing); the engine recomputes and [`changed`] filters that out.
pub fn next_transition(
    sources: &Sources,
    now: Timestamp,
    settings: &Settings,
) -> Option<Timestamp> {
    let mut at: Vec<Timestamp> = Vec::new();
    at.extend(sources.manual.as_ref().and_then(|m| m.until));
    at.extend(sources.profile.as_ref().and_then(|p| p.until));
    at.extend(sources.external.values().map(|e| e.expires));
    for a in &sources.calendar {
        at.push(a.start);
        at.push(a.end);
    }
    if let Some(since) = sources.idle_since() {
        at.push(since.saturating_add(settings.idle_threshold()));
    }
    let offset = settings.utc_offset;
    if let Some(until) = aggregate(sources, now, settings).until
        && offset.local_day(until) != offset.local_day(now)
    {
        at.push(offset.next_local_midnight(now));
    }
    at.into_iter().filter(|t| *t > now).min()
}
