//! Behaviour of `view_for` beyond the matrix: status lines per level, private subjects, inactivity,
//! ringing, notes from integrations, and blocked being indistinguishable from absent.

use super::matrix_tests::{NOW, appt, client, everything, line, note, t, views};
use super::*;
use crate::presence::*;

#[test]
fn private_subjects_never_leave_even_at_personal() {
    let mut s = Sources::default();
    client(&mut s, "desk", DeviceKind::Desktop, None);
    s.calendar = vec![appt(0, 120, "Divorce lawyer", true)];
    let d = Detail {
        presence: aggregate(&s, t(30), &Settings::default()),
        appointments: s.calendar.clone(),
        forwarding: None,
    };
    for (level, view) in views(&d, t(30)) {
        let json = serde_json::to_string(&view).unwrap();
        assert!(!json.contains("Divorce lawyer"), "{level}: {json}");
    }
    let personal = view_for(Level::Personal, &d, t(30), UtcOffset::UTC);
    assert!(personal.appointments()[0].private);
    let team = view_for(Level::Team, &d, t(30), UtcOffset::UTC);
    assert!(
        !team.appointments()[0].private,
        "a plain busy block below personal"
    );
}

#[test]
fn public_viewer_of_a_meeting_sees_just_busy() {
    let mut s = Sources::default();
    client(&mut s, "desk", DeviceKind::Desktop, None);
    s.calendar = vec![appt(0, 360, "Budget review", false)];
    let d = Detail::new(aggregate(&s, t(1), &Settings::default()));
    let line = |l| {
        view_for(l, &d, t(1), UtcOffset::UTC)
            .presence()
            .status_line
            .clone()
    };
    assert_eq!(
        line(Level::Personal),
        "In a meeting until 14:00 · Budget review"
    );
    assert_eq!(
        line(Level::Team),
        "In a meeting until 14:00 · Budget review"
    );
    assert_eq!(line(Level::Business), "Busy until 14:00");
    assert_eq!(line(Level::Public), "Busy");
    assert_eq!(line(Level::Blocked), "Offline");
}

#[test]
fn an_integrations_note_waits_for_team() {
    let mut s = Sources::default();
    client(&mut s, "desk", DeviceKind::Desktop, None);
    s.external.insert(
        SourceName::new("meetings").unwrap(),
        ExternalSource {
            availability: Settable::Busy,
            activity: Some(Activity::InAMeeting),
            note: Some(note("Q3 board meeting")),
            expires: t(60),
        },
    );
    let d = Detail::new(aggregate(&s, t(1), &Settings::default()));
    assert_eq!(d.presence.note_source, Some(SourceKind::External));
    assert_eq!(
        view_for(Level::Business, &d, t(1), UtcOffset::UTC)
            .presence()
            .note,
        None
    );
    assert!(
        view_for(Level::Team, &d, t(1), UtcOffset::UTC)
            .presence()
            .note
            .is_some()
    );
}

#[test]
fn inactive_reads_as_away_below_team() {
    let mut s = Sources::default();
    client(&mut s, "desk", DeviceKind::Desktop, Some(t(0)));
    let d = Detail::new(aggregate(&s, t(10), &Settings::default()));
    assert_eq!(d.presence.availability, Availability::Inactive);
    let v = |l| view_for(l, &d, t(10), UtcOffset::UTC).presence().clone();
    for l in [Level::Public, Level::Business] {
        assert_eq!(v(l).availability, Availability::Away, "{l}");
        assert_eq!(v(l).status_line, "Away", "{l}");
    }
    assert_eq!(v(Level::Team).availability, Availability::Inactive);
    assert_eq!(
        v(Level::Team).idle_since,
        None,
        "the idle minute is personal"
    );
    assert_eq!(v(Level::Personal).idle_since, Some(t(0)));
}

#[test]
fn business_sees_on_the_phone_but_not_ringing() {
    let mut s = Sources::default();
    client(&mut s, "desk", DeviceKind::Desktop, None);
    line(&mut s, "201", LineState::OnCall(Call::default()));
    let d = Detail::new(aggregate(&s, t(1), &Settings::default()));
    let b = view_for(Level::Business, &d, t(1), UtcOffset::UTC)
        .presence()
        .clone();
    assert_eq!(b.status_line, "On the phone");
    assert_eq!(b.source, Some(SourceKind::Line));
    let p = view_for(Level::Public, &d, t(1), UtcOffset::UTC)
        .presence()
        .clone();
    assert_eq!(p.status_line, "Busy");

    // Only a ringing line keeps the user live: business must not learn that the phone decided.
    let mut s = Sources::default();
    line(&mut s, "201", LineState::Ringing);
    let d = Detail::new(aggregate(&s, t(1), &Settings::default()));
    assert_eq!(d.presence.status_line, "Ringing");
    let b = view_for(Level::Business, &d, t(1), UtcOffset::UTC)
        .presence()
        .clone();
    assert_eq!((b.source, b.lamp), (None, Lamp::Free));
    assert_eq!(b.status_line, "Available");
    let t_ = view_for(Level::Team, &d, t(1), UtcOffset::UTC)
        .presence()
        .clone();
    assert_eq!(t_.lamp, Lamp::Ringing);
}

#[test]
fn blocked_equals_unknown_and_offline_accounts_byte_for_byte() {
    let blocked = view_for(Level::Blocked, &everything(), t(NOW), UtcOffset::UTC);
    assert_eq!(blocked, View::unavailable());

    // Logged out, with a stale manual setting and profile; and appearing offline while online.
    let logged_out = Sources {
        profile: everything_profile(),
        ..Sources::default()
    };
    let mut invisible = Sources::default();
    client(&mut invisible, "desk", DeviceKind::Desktop, None);
    invisible.manual = Some(Manual {
        availability: ManualAvailability::AppearOffline,
        activity: None,
        note: None,
        until: None,
        since: t(0),
    });
    let accounts = [
        Detail::unknown(),
        Detail::new(aggregate(&logged_out, t(NOW), &Settings::default())),
        Detail::new(aggregate(&invisible, t(NOW), &Settings::default())),
    ];
    let blocked_json = serde_json::to_vec(&blocked).unwrap();
    for d in &accounts {
        for (level, view) in views(d, t(NOW)) {
            assert_eq!(view, blocked, "{level}");
            assert_eq!(serde_json::to_vec(&view).unwrap(), blocked_json, "{level}");
        }
    }
}

fn everything_profile() -> Option<ProfileSource> {
    everything().presence.profile.map(|name| ProfileSource {
        name,
        availability: Settable::Busy,
        activity: None,
        note: Some(note("Back at 5")),
        until: None,
        since: t(0),
    })
}
