//! Rules 1–12 of docs/PRESENCE.md (liveness and ranking), at least one test each, named
//! `rule_NN_...` after the rule.

use super::test_support::*;
use super::*;

use ClientShow as Show;

#[test]
fn rule_01_lapsed_sources_are_ignored() {
    let mut s = Sources::default();
    desktop(&mut s);
    manual(&mut s, ManualAvailability::DoNotDisturb, t(0));
    s.manual.as_mut().unwrap().until = Some(t(10));
    external(
        &mut s,
        "teams",
        Settable::Busy,
        Some(Activity::InAMeeting),
        t(20),
    );
    booking(&mut s, t(30), t(40), BookingKind::Busy);
    assert_eq!(agg(&s, t(9)).availability, Availability::DoNotDisturb);
    // Manual lapsed at 10: the still-live integration decides.
    assert_eq!(agg(&s, t(10)).activity, Some(Activity::InAMeeting));
    assert_eq!(agg(&s, t(10)).source, Some(SourceKind::External));
    // Integration expired at 20, appointment not yet started: plain client presence.
    assert_eq!(agg(&s, t(20)).availability, Availability::Available);
    assert_eq!(agg(&s, t(29)).source, Some(SourceKind::Client));
    // Booking ended at 40 (end is exclusive).
    assert_eq!(agg(&s, t(39)).source, Some(SourceKind::Calendar));
    assert_eq!(agg(&s, t(40)).source, Some(SourceKind::Client));
}

#[test]
fn rule_02_newest_user_statement_wins() {
    let mut s = Sources::default();
    desktop(&mut s);
    manual(&mut s, ManualAvailability::DoNotDisturb, t(0));
    profile(&mut s, "Lunch", Settable::Away, t(5));
    let p = agg(&s, t(6));
    assert_eq!(p.availability, Availability::Away);
    assert_eq!(p.source, Some(SourceKind::Profile));
    // The user sets something by hand after the profile: the manual setting counts again.
    manual(&mut s, ManualAvailability::Available, t(7));
    let p = agg(&s, t(8));
    assert_eq!(p.availability, Availability::Available);
    assert_eq!(p.profile, None);
    // Equal instants go to the manual setting.
    manual(&mut s, ManualAvailability::Busy, t(5));
    assert_eq!(agg(&s, t(8)).source, Some(SourceKind::Manual));
}

#[test]
fn rule_03_appear_offline_hides_everything() {
    let mut s = Sources::default();
    desktop(&mut s);
    set_line(&mut s, "201", call());
    s.queues
        .insert(QueueId::new("support").unwrap(), AgentState::Available);
    manual(&mut s, ManualAvailability::AppearOffline, t(0));
    assert_eq!(agg(&s, t(1)), EffectivePresence::unavailable());
    assert_eq!(agg(&s, t(1)).status_line, "Offline");
}

#[test]
fn rule_04_offline_without_a_live_source() {
    let mut s = Sources::default();
    manual(&mut s, ManualAvailability::DoNotDisturb, t(0));
    booking(&mut s, t(0), t(60), BookingKind::Busy);
    s.idle = Some(t(0));
    set_line(&mut s, "201", LineState::Idle);
    s.queues
        .insert(QueueId::new("support").unwrap(), AgentState::LoggedIn);
    let p = agg(&s, t(10));
    assert_eq!(p.availability, Availability::Offline);
    assert_eq!(
        (p.activity, p.note.clone(), p.source, p.idle_since),
        (None, None, None, None)
    );
    assert_eq!(p.status_line, "Offline");
    // PBX facts stay: the busy lamp works without the user's client (CLINQ S4/S5, B1).
    assert_eq!(p.lamp, Lamp::Free);
    assert_eq!(p.queues.len(), 1);
}

#[test]
fn rule_04_line_in_use_makes_the_user_live() {
    let mut s = Sources::default();
    set_line(&mut s, "201", call());
    let p = agg(&s, t(0));
    assert_eq!(p.availability, Availability::Busy);
    assert_eq!(p.status_line, "On the phone");
    set_line(&mut s, "201", LineState::Ringing);
    let p = agg(&s, t(0));
    assert_eq!(p.availability, Availability::Available);
    assert_eq!(p.status_line, "Ringing");
}

#[test]
fn rule_04_live_integration_makes_the_user_live() {
    let mut s = Sources::default();
    external(
        &mut s,
        "meetings",
        Settable::Busy,
        Some(Activity::InAMeeting),
        t(60),
    );
    assert_eq!(agg(&s, t(0)).availability, Availability::Busy);
    assert_eq!(agg(&s, t(60)).availability, Availability::Offline);
}

#[test]
fn rule_05_most_severe_claim_decides() {
    let mut s = Sources::default();
    desktop(&mut s);
    set_line(&mut s, "201", call());
    manual(&mut s, ManualAvailability::DoNotDisturb, t(0));
    assert_eq!(
        agg(&s, t(1)).availability,
        Availability::DoNotDisturb,
        "dnd beats a call"
    );
    manual(&mut s, ManualAvailability::Away, t(0));
    assert_eq!(
        agg(&s, t(1)).availability,
        Availability::Busy,
        "a call beats away"
    );
    s.lines.clear();
    assert_eq!(
        agg(&s, t(1)).availability,
        Availability::Away,
        "away beats available"
    );
    s.manual = None;
    booking(&mut s, t(0), t(60), BookingKind::Busy);
    s.idle = Some(t(0));
    assert_eq!(
        agg(&s, t(10)).availability,
        Availability::Busy,
        "a meeting beats inactive"
    );
    s.calendar.clear();
    assert_eq!(
        agg(&s, t(10)).availability,
        Availability::Inactive,
        "inactive beats available"
    );
}

#[test]
fn rule_06_clients_most_active_wins() {
    let mut s = Sources::default();
    connect(&mut s, "desktop", DeviceKind::Desktop, Show::Away);
    connect(&mut s, "phone", DeviceKind::Mobile, Show::Available);
    assert_eq!(agg(&s, t(0)).availability, Availability::Available);
    connect(&mut s, "phone", DeviceKind::Mobile, Show::ExtendedAway);
    assert_eq!(agg(&s, t(0)).availability, Availability::Away);
    connect(&mut s, "web", DeviceKind::Web, Show::DoNotDisturb);
    assert_eq!(agg(&s, t(0)).availability, Availability::DoNotDisturb);
}

#[test]
fn rule_06_client_auto_away_with_idle_is_inactive_not_away() {
    let mut s = Sources::default();
    connect(&mut s, "gajim", DeviceKind::Desktop, Show::Away);
    s.clients.get_mut("gajim").unwrap().idle_since = Some(t(0));
    let p = agg(&s, t(1));
    assert_eq!(
        (p.availability, p.source),
        (Availability::Inactive, Some(SourceKind::Client))
    );
    // Without idle, away is the person's statement.
    s.clients.get_mut("gajim").unwrap().idle_since = None;
    assert_eq!(agg(&s, t(1)).availability, Availability::Away);
}

#[test]
fn rule_07_a_call_is_busy_on_the_phone() {
    let mut s = Sources::default();
    desktop(&mut s);
    set_line(&mut s, "201", call());
    let p = agg(&s, t(0));
    assert_eq!(
        (p.availability, p.activity),
        (Availability::Busy, Some(Activity::OnThePhone))
    );
    assert_eq!(p.source, Some(SourceKind::Line));
    let conf = LineState::OnCall(Call {
        held: false,
        conference: true,
    });
    set_line(&mut s, "201", conf);
    assert_eq!(agg(&s, t(0)).activity, Some(Activity::InAConferenceCall));
    assert_eq!(agg(&s, t(0)).status_line, "In a conference call");
    set_line(
        &mut s,
        "201",
        LineState::OnCall(Call {
            held: true,
            conference: false,
        }),
    );
    assert_eq!(agg(&s, t(0)).status_line, "On the phone (on hold)");
}

#[test]
fn rule_08_calendar_busy_is_a_meeting_and_out_of_office_is_away() {
    let mut s = Sources::default();
    desktop(&mut s);
    booking(&mut s, t(0), t(60), BookingKind::Tentative);
    let p = agg(&s, t(1));
    assert_eq!(
        (p.availability, p.activity),
        (Availability::Busy, Some(Activity::InAMeeting))
    );
    s.calendar.clear();
    booking(&mut s, t(0), t(60), BookingKind::OutOfOffice);
    let p = agg(&s, t(1));
    assert_eq!(
        (p.availability, p.activity),
        (Availability::Away, Some(Activity::OutOfOffice))
    );
}

#[test]
fn rule_09_innermost_appointment_wins_and_the_outer_resumes() {
    // XPhone D3: an all-day training containing lunch 12:15–13:00.
    let mut s = Sources::default();
    desktop(&mut s);
    booking(&mut s, t(0), t(600), BookingKind::Busy);
    booking(&mut s, t(255), t(300), BookingKind::OutOfOffice);
    assert_eq!(agg(&s, t(254)).until, Some(t(600)));
    assert_eq!(agg(&s, t(255)).until, Some(t(300)));
    assert_eq!(agg(&s, t(255)).activity, Some(Activity::OutOfOffice));
    assert_eq!(agg(&s, t(300)).until, Some(t(600)));
    assert_eq!(agg(&s, t(300)).activity, Some(Activity::InAMeeting));
}

#[test]
fn rule_10_inactive_only_after_the_idle_threshold() {
    let mut s = Sources::default();
    connect(&mut s, "desktop", DeviceKind::Desktop, Show::Available);
    s.clients.get_mut("desktop").unwrap().idle_since = Some(t(0));
    assert_eq!(agg(&s, t(4)).availability, Availability::Available);
    assert_eq!(agg(&s, t(4)).idle_since, Some(t(0)));
    assert_eq!(agg(&s, t(5)).availability, Availability::Inactive);
    // The per-user threshold overrides the node default.
    let mut fast = settings();
    fast.user_idle_threshold = Some(std::time::Duration::from_secs(120));
    assert_eq!(
        aggregate(&s, t(2), &fast).availability,
        Availability::Inactive
    );
    // An active second client keeps the user active (the most active device wins) ...
    connect(&mut s, "phone", DeviceKind::Mobile, Show::Available);
    assert_eq!(agg(&s, t(10)).availability, Availability::Available);
    // ... unless an integration reports idle (screen lock): that report is authoritative.
    s.idle = Some(t(3));
    assert_eq!(agg(&s, t(7)).availability, Availability::Available);
    assert_eq!(agg(&s, t(8)).availability, Availability::Inactive);
    assert_eq!(agg(&s, t(8)).idle_since, Some(t(3)));
}

#[test]
fn rule_10_all_clients_idle_counts_from_the_latest() {
    let mut s = Sources::default();
    connect(&mut s, "a", DeviceKind::Desktop, Show::Available);
    connect(&mut s, "b", DeviceKind::Web, Show::Available);
    s.clients.get_mut("a").unwrap().idle_since = Some(t(0));
    s.clients.get_mut("b").unwrap().idle_since = Some(t(3));
    assert_eq!(agg(&s, t(7)).availability, Availability::Available);
    assert_eq!(agg(&s, t(8)).availability, Availability::Inactive);
}

#[test]
fn rule_11_explicit_away_beats_automatic_inactive() {
    let mut s = Sources::default();
    desktop(&mut s);
    s.idle = Some(t(0));
    manual(&mut s, ManualAvailability::Away, t(0));
    let p = agg(&s, t(30));
    assert_eq!(
        (p.availability, p.source),
        (Availability::Away, Some(SourceKind::Manual))
    );
    assert_eq!(p.idle_since, Some(t(0)), "idle since is still carried");
}

#[test]
fn rule_12_the_more_specific_claim_headlines_a_tie() {
    let mut s = Sources::default();
    desktop(&mut s);
    manual(&mut s, ManualAvailability::Busy, t(0));
    booking(&mut s, t(0), t(360), BookingKind::Busy);
    let p = agg(&s, t(1));
    assert_eq!(p.source, Some(SourceKind::Calendar));
    assert_eq!(p.status_line, "In a meeting until 14:00");
    // Both specific: the phone beats a meeting from an integration or the calendar.
    external(
        &mut s,
        "teams",
        Settable::Busy,
        Some(Activity::InAMeeting),
        t(30),
    );
    assert_eq!(agg(&s, t(1)).source, Some(SourceKind::External));
    set_line(&mut s, "201", call());
    assert_eq!(agg(&s, t(1)).source, Some(SourceKind::Line));
    // The user's own specific word beats the schedule at the same availability.
    let mut s = Sources::default();
    desktop(&mut s);
    manual(&mut s, ManualAvailability::Away, t(0));
    s.manual.as_mut().unwrap().activity = Some(Activity::Lunch);
    booking(&mut s, t(0), t(60), BookingKind::OutOfOffice);
    assert_eq!(agg(&s, t(1)).activity, Some(Activity::Lunch));
}
