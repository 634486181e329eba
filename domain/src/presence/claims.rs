//! Claims: each live source's say on availability and activity, and their ranking
//! (docs/PRESENCE.md rules 2, 5–12).
//!
//! Turning sources into uniform claims first keeps the ranking one comparison instead of a pile of
//! special cases, and makes the winner's provenance explicit (FEATURES.md §6: every state carries
//! its source).

use serde::{Deserialize, Serialize};

use super::activity::Activity;
use super::availability::{Availability, ClientShow, ManualAvailability};
use super::line::{CallSummary, call_summary};
use super::sources::Sources;
use super::text::{Note, ProfileName};
use super::time::Timestamp;

/// Which source decided something: the provenance carried in the effective presence, so the access
/// rules can, for example, hide a calendar subject from business-level viewers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// The user's manual setting.
    Manual,
    /// The active presence profile.
    Profile,
    /// The PBX line state.
    Line,
    /// The calendar.
    Calendar,
    /// An external system.
    External,
    /// A connected XMPP client.
    Client,
    /// Idle detection.
    Idle,
}

impl SourceKind {
    /// Tie-break among claims of equal availability and equal specificity (rule 12): the phone is
    /// the hardest fact; then the user's own word; then live integrations; then the schedule; then
    /// what clients say; idle detection last.
    fn rank(self) -> u8 {
        match self {
            SourceKind::Line => 6,
            SourceKind::Manual | SourceKind::Profile => 5,
            SourceKind::External => 4,
            SourceKind::Calendar => 3,
            SourceKind::Client => 2,
            SourceKind::Idle => 1,
        }
    }
}

/// One source's claim at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Claim<'a> {
    pub(crate) availability: Availability,
    pub(crate) activity: Option<Activity>,
    pub(crate) until: Option<Timestamp>,
    pub(crate) kind: SourceKind,
    pub(crate) note: Option<&'a Note>,
    pub(crate) profile: Option<&'a ProfileName>,
}

impl Claim<'_> {
    /// Ranking key, greater wins: availability severity (rule 5), then a claim that names an
    /// activity over one that does not (rule 12: "In a meeting" says more than "Busy"), then source.
    fn key(&self) -> (u8, bool, u8) {
        (
            self.availability.severity(),
            self.activity.is_some(),
            self.kind.rank(),
        )
    }
}

/// The user chose to appear offline, and that choice is the live user-level statement (rule 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AppearOffline;

/// The user-level statement at `now`: the newer of the live manual setting and the live profile
/// (rule 2; ties go to the manual setting).
pub(crate) fn user_claim(
    sources: &Sources,
    now: Timestamp,
) -> Result<Option<Claim<'_>>, AppearOffline> {
    let manual = sources.live_manual(now);
    let profile = sources.live_profile(now);
    let manual_wins = match (manual, profile) {
        (Some(m), Some(p)) => m.since >= p.since,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if manual_wins {
        let Some(m) = manual else { return Ok(None) };
        let Some(settable) = m.availability.settable() else {
            debug_assert_eq!(m.availability, ManualAvailability::AppearOffline);
            return Err(AppearOffline);
        };
        return Ok(Some(Claim {
            availability: settable.into(),
            activity: m.activity,
            until: m.until,
            kind: SourceKind::Manual,
            note: m.note.as_ref(),
            profile: None,
        }));
    }
    Ok(profile.map(|p| Claim {
        availability: p.availability.into(),
        activity: p.activity,
        until: p.until,
        kind: SourceKind::Profile,
        note: p.note.as_ref(),
        profile: Some(&p.name),
    }))
}

/// All live claims at `now` except the user-level one, in a fixed order.
pub(crate) fn source_claims<'a>(
    sources: &'a Sources,
    now: Timestamp,
    idle_threshold: std::time::Duration,
) -> Vec<Claim<'a>> {
    let mut claims = Vec::new();
    if let Some(call) = call_summary(&sources.lines) {
        let activity = match call {
            CallSummary::Conference => Activity::InAConferenceCall,
            CallSummary::Talking | CallSummary::AllHeld => Activity::OnThePhone,
        };
        claims.push(plain(Availability::Busy, Some(activity), SourceKind::Line));
    }
    for (_, e) in sources.live_external(now) {
        claims.push(Claim {
            availability: e.availability.into(),
            activity: e.activity,
            until: Some(e.expires),
            kind: SourceKind::External,
            note: e.note.as_ref(),
            profile: None,
        });
    }
    if let Some(a) = sources.current_booking(now) {
        let (availability, activity) = match a.show_as {
            super::sources::BookingKind::Busy | super::sources::BookingKind::Tentative => {
                (Availability::Busy, Activity::InAMeeting)
            }
            super::sources::BookingKind::OutOfOffice => (Availability::Away, Activity::OutOfOffice),
        };
        claims.push(Claim {
            availability,
            activity: Some(activity),
            until: Some(a.end),
            kind: SourceKind::Calendar,
            note: if a.private { None } else { a.subject.as_ref() },
            profile: None,
        });
    }
    if let Some(c) = clients_claim(sources) {
        claims.push(c);
    }
    if let Some(since) = sources.idle_since()
        && since.saturating_add(idle_threshold) <= now
    {
        claims.push(plain(Availability::Inactive, None, SourceKind::Idle));
    }
    claims
}

/// The connected clients, combined most-active-wins (rule 6): any do-not-disturb, else any
/// available, else inactive, else away. Teams ranks sessions DoNotDisturb > Busy > Available > Away
/// the same way, and Lync orders machine states Active < Inactive < Away.
///
/// A client that sends `away` together with an XEP-0319 idle time is reporting its own auto-away
/// (Gajim, Dino do this): that is automatic inactivity, not the person's statement, so it claims
/// inactive (ProCall S10), not away.
fn clients_claim(sources: &Sources) -> Option<Claim<'_>> {
    let shows = sources
        .clients
        .values()
        .map(|c| match (c.show, c.idle_since) {
            (ClientShow::Away, Some(_)) => Availability::Inactive,
            (show, _) => show.availability(),
        });
    let best = shows.max_by_key(|a| match a {
        Availability::DoNotDisturb => 4,
        Availability::Available => 3,
        Availability::Inactive => 2,
        _ => 1,
    })?;
    Some(plain(best, None, SourceKind::Client))
}

fn plain<'a>(
    availability: Availability,
    activity: Option<Activity>,
    kind: SourceKind,
) -> Claim<'a> {
    Claim {
        availability,
        activity,
        until: None,
        kind,
        note: None,
        profile: None,
    }
}

/// The winning claim (rules 5 and 12). Among exact ties the first in `claims` wins, which makes the
/// result independent of map iteration details.
pub(crate) fn winner<'c, 'a>(claims: &'c [Claim<'a>]) -> Option<&'c Claim<'a>> {
    claims.iter().rev().max_by_key(|c| c.key())
}

/// The note (rule 15): the user's own words first (manual or profile, then the highest-priority
/// client's `<status/>`), then an external system's, then a non-private appointment subject.
pub(crate) fn note<'a>(
    sources: &'a Sources,
    user: Option<&Claim<'a>>,
    claims: &[Claim<'a>],
) -> Option<(&'a Note, SourceKind)> {
    if let Some(n) = user.and_then(|u| u.note.map(|n| (n, u.kind))) {
        return Some(n);
    }
    let client = sources
        .clients
        .values()
        .filter_map(|c| c.status.as_ref().map(|s| (c.priority, s)))
        .rev()
        .max_by_key(|(p, _)| *p)
        .map(|(_, s)| (s, SourceKind::Client));
    if client.is_some() {
        return client;
    }
    let by_kind = |kind: SourceKind| {
        let mut of_kind: Vec<&Claim<'a>> = claims.iter().filter(|c| c.kind == kind).collect();
        of_kind.sort_by_key(|c| std::cmp::Reverse(c.key()));
        of_kind.into_iter().find_map(|c| c.note.map(|n| (n, kind)))
    };
    by_kind(SourceKind::External).or_else(|| by_kind(SourceKind::Calendar))
}
