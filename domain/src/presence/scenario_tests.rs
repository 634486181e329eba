//! Whole scenarios with simulated time, as a watcher would see them, plus change detection and the
//! next self-triggered transition.

use std::time::Duration;

use super::test_support::*;
use super::*;

#[test]
fn pbx_call_shows_busy_on_the_phone_and_ends_back() {
    let mut s = Sources::default();
    desktop(&mut s);
    let before = agg(&s, t(0));
    assert_eq!(
        (before.availability, before.status_line.as_str()),
        (Availability::Available, "Available")
    );
    set_line(&mut s, "201", call());
    let during = agg(&s, t(1));
    assert_eq!(during.availability, Availability::Busy);
    assert_eq!(during.availability.xmpp_show(), Some("dnd"));
    assert_eq!(during.status_line, "On the phone");
    let act = during.user_activity().unwrap();
    assert_eq!(
        (act.general, act.specific),
        ("talking", Some("on_the_phone"))
    );
    assert!(changed(&before, &during));
    set_line(&mut s, "201", LineState::Idle);
    let after = agg(&s, t(5));
    assert_eq!(after.availability, Availability::Available);
    assert_eq!(after.status_line, "Available");
    assert_eq!(after.user_activity(), None);
}

#[test]
fn ringing_shows_while_ringing() {
    let mut s = Sources::default();
    desktop(&mut s);
    set_line(&mut s, "201", LineState::Ringing);
    let ringing = agg(&s, t(0));
    assert_eq!(ringing.status_line, "Ringing");
    assert_eq!(ringing.lamp, Lamp::Ringing);
    set_line(&mut s, "201", call());
    assert_eq!(agg(&s, t(0)).status_line, "On the phone");
    set_line(&mut s, "201", LineState::Idle);
    assert_eq!(agg(&s, t(0)).status_line, "Available");
}

#[test]
fn desktop_disconnects_while_mobile_stays_shows_mobile_only() {
    let mut s = Sources::default();
    desktop(&mut s);
    connect(
        &mut s,
        "conversations",
        DeviceKind::Mobile,
        ClientShow::Available,
    );
    let both = agg(&s, t(0));
    assert!(!both.mobile_only());
    s.clients.remove("desktop");
    let mobile = agg(&s, t(1));
    assert!(mobile.mobile_only());
    assert_eq!(mobile.availability, Availability::Available);
    assert_eq!(mobile.status_line, "Mobile only");
    assert!(changed(&both, &mobile));
}

#[test]
fn idle_past_threshold_becomes_inactive_with_user_override() {
    let mut s = Sources::default();
    desktop(&mut s);
    s.idle = Some(t(0));
    let node = settings();
    assert_eq!(
        aggregate(&s, t(4), &node).availability,
        Availability::Available
    );
    let p = aggregate(&s, t(5), &node);
    assert_eq!(
        (p.availability, p.status_line.as_str()),
        (Availability::Inactive, "Inactive")
    );
    assert_eq!(p.availability.xmpp_show(), Some("away"));
    let mut user = node;
    user.user_idle_threshold = Some(Duration::from_secs(15 * 60));
    assert_eq!(
        aggregate(&s, t(10), &user).availability,
        Availability::Available
    );
    assert_eq!(
        aggregate(&s, t(15), &user).availability,
        Availability::Inactive
    );
    // Activity again: the integration clears the idle report.
    s.idle = None;
    assert_eq!(
        aggregate(&s, t(16), &user).availability,
        Availability::Available
    );
}

#[test]
fn external_source_expires_and_presence_falls_back() {
    let mut s = Sources::default();
    desktop(&mut s);
    manual(&mut s, ManualAvailability::Away, t(0));
    external(
        &mut s,
        "meetings",
        Settable::Busy,
        Some(Activity::InAMeeting),
        t(360),
    );
    let p = agg(&s, t(1));
    assert_eq!(p.status_line, "In a meeting until 14:00");
    let cet = Settings {
        utc_offset: UtcOffset::from_minutes(60).unwrap(),
        ..settings()
    };
    assert_eq!(
        aggregate(&s, t(1), &cet).status_line,
        "In a meeting until 15:00"
    );
    assert_eq!(next_transition(&s, t(1), &settings()), Some(t(360)));
    let after = agg(&s, t(360));
    assert_eq!(
        (after.availability, after.source),
        (Availability::Away, Some(SourceKind::Manual))
    );
    assert_eq!(after.status_line, "Away");
}

#[test]
fn nothing_connected_and_no_line_in_use_is_offline() {
    let mut s = Sources::default();
    assert_eq!(agg(&s, t(0)).availability, Availability::Offline);
    set_line(&mut s, "201", LineState::Idle);
    external(&mut s, "old", Settable::Busy, None, t(0));
    let p = agg(&s, t(0));
    assert_eq!(
        (p.availability, p.status_line.as_str()),
        (Availability::Offline, "Offline")
    );
    assert_eq!(p.user_activity(), None);
}

#[test]
fn presence_unavailable_is_indistinguishable_from_offline() {
    let offline = agg(&Sources::default(), t(0));
    assert_eq!(offline, EffectivePresence::unavailable());
    assert_eq!(
        serde_json::to_string(&offline).unwrap(),
        serde_json::to_string(&EffectivePresence::unavailable()).unwrap()
    );
    // A client that just disconnected leaves nothing behind either.
    let mut s = Sources::default();
    desktop(&mut s);
    manual(&mut s, ManualAvailability::DoNotDisturb, t(0));
    s.clients.clear();
    assert_eq!(agg(&s, t(1)), EffectivePresence::unavailable());
}

#[test]
fn changed_ignores_recomputation_without_a_difference() {
    let mut s = Sources::default();
    desktop(&mut s);
    let a = agg(&s, t(0));
    let b = agg(&s, t(3));
    assert!(!changed(&a, &b));
    // A shadowed source changing is no visible change either.
    booking(&mut s, t(0), t(60), BookingKind::Busy);
    manual(&mut s, ManualAvailability::DoNotDisturb, t(0));
    let c = agg(&s, t(1));
    s.calendar.clear();
    assert!(!changed(&c, &agg(&s, t(1))));
}

#[test]
fn next_transition_finds_the_earliest_self_change() {
    let mut s = Sources::default();
    desktop(&mut s);
    assert_eq!(next_transition(&s, t(0), &settings()), None);
    booking(&mut s, t(30), t(90), BookingKind::Busy);
    external(&mut s, "teams", Settable::DoNotDisturb, None, t(45));
    manual(&mut s, ManualAvailability::Away, t(0));
    s.manual.as_mut().unwrap().until = Some(t(20));
    s.idle = Some(t(0));
    assert_eq!(
        next_transition(&s, t(0), &settings()),
        Some(t(5)),
        "idle threshold first"
    );
    assert_eq!(
        next_transition(&s, t(5), &settings()),
        Some(t(20)),
        "manual lapses"
    );
    assert_eq!(
        next_transition(&s, t(20), &settings()),
        Some(t(30)),
        "meeting starts"
    );
    assert_eq!(
        next_transition(&s, t(30), &settings()),
        Some(t(45)),
        "integration expires"
    );
    assert_eq!(
        next_transition(&s, t(45), &settings()),
        Some(t(90)),
        "meeting ends"
    );
    assert_eq!(next_transition(&s, t(90), &settings()), None);
}

#[test]
fn next_transition_includes_local_midnight_when_the_until_shows_a_date() {
    let mut s = Sources::default();
    desktop(&mut s);
    // Vacation until Wednesday 09:00 UTC.
    external(
        &mut s,
        "hr",
        Settable::Away,
        Some(Activity::Vacation),
        t(49 * 60),
    );
    let p = agg(&s, t(0));
    assert_eq!(p.status_line, "On vacation until 2025-11-26 09:00");
    // 16:00 after 08:00 is Tuesday 00:00 UTC: the status line changes its date form then.
    assert_eq!(next_transition(&s, t(0), &settings()), Some(t(16 * 60)));
    let wed = t(48 * 60);
    assert_eq!(agg(&s, wed).status_line, "On vacation until 09:00");
    assert_eq!(next_transition(&s, wed, &settings()), Some(t(49 * 60)));
}

#[test]
fn at_every_transition_the_aggregate_is_stable_in_between() {
    // Property-style check over a busy day: between two transitions nothing changes.
    let mut s = Sources::default();
    desktop(&mut s);
    booking(&mut s, t(60), t(120), BookingKind::Busy);
    booking(&mut s, t(90), t(100), BookingKind::OutOfOffice);
    external(&mut s, "focus", Settable::DoNotDisturb, None, t(75));
    s.idle = Some(t(10));
    let mut now = t(0);
    let mut steps = 0;
    while let Some(next) = next_transition(&s, now, &settings()) {
        let here = agg(&s, now);
        let just_before = Timestamp::from_unix_ms(next.unix_ms() - 1);
        assert!(
            !changed(&here, &agg(&s, just_before)),
            "changed before {next:?}"
        );
        now = next;
        steps += 1;
        assert!(steps < 20, "transitions must terminate");
    }
    assert_eq!(steps, 6, "idle, 60, 75, 90, 100, 120");
}
