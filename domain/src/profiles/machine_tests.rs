//! The profile state machine with simulated time (Europe/Berlin wall clock).

use super::test_support::*;
use super::*;
use crate::calendar::{Appointment, Origin, ShowAs};
use crate::presence::{Note, Settable};

#[test]
fn seeds_all_day_training_with_lunch_inside_switches_forwarding_and_back() {
    // XPhone D3: all-day training forwards to a colleague, lunch 12:15-13:00 to voicemail.
    let book = book();
    let settings = full_calendar();
    let training = Appointment::new(mon(0, 0), at(2026, 11, 24, 0, 0), ShowAs::OutOfOffice)
        .unwrap()
        .with_profile(name("Training"));
    let cal = vec![training, appt((12, 15), (13, 0), Some("Lunch"))];
    let ctx = Ctx {
        book: &book,
        settings: &settings,
        calendar: &cal,
    };
    let mut s = ProfileState::new(at(2026, 11, 22, 23, 0));

    let e = step(&mut s, Event::Tick, mon(8, 0), &ctx);
    assert_eq!(active(&s), Some("Training"));
    assert_eq!(forwarding(&e), Some(Some(number("201"))));
    assert_eq!(next_trigger_time(&s, mon(8, 0), &ctx), Some(mon(12, 15)));

    let e = step(&mut s, Event::Tick, mon(12, 15), &ctx);
    assert_eq!(active(&s), Some("Lunch"));
    assert_eq!(forwarding(&e), Some(Some(ForwardTarget::Voicemail)));
    let src = e.iter().find_map(|e| match e {
        Effect::Presence { profile } => profile.clone(),
        _ => None,
    });
    let src = src.unwrap();
    assert_eq!(
        (src.availability, src.until),
        (Settable::Away, Some(mon(13, 0)))
    );

    let e = step(&mut s, Event::Tick, mon(13, 0), &ctx);
    assert_eq!(active(&s), Some("Training"));
    assert_eq!(forwarding(&e), Some(Some(number("201"))));
    // Lunch's leave chain ran on the way out.
    assert!(matches!(&e[0], Effect::RunActions { actions } if actions.len() == 1));

    let e = step(&mut s, Event::Tick, at(2026, 11, 24, 0, 0), &ctx);
    assert_eq!(active(&s), None);
    assert_eq!(e, vec![Effect::Presence { profile: None }]);
}

#[test]
fn sticky_profile_survives_a_time_trigger_until_a_manual_switch() {
    // pascom D4: "Sick" pinned, daily 12:00 "Lunch" trigger.
    let book = book();
    let settings = ProfileSettings {
        zone: berlin(),
        time: vec![TimeTrigger {
            at: hm(12, 0),
            days: Weekdays::ALL,
            profile: name("Lunch"),
            enabled: true,
        }],
        ..ProfileSettings::default()
    };
    let ctx = Ctx {
        book: &book,
        settings: &settings,
        calendar: &[],
    };
    let mut s = ProfileState::new(mon(8, 0));
    step(
        &mut s,
        Event::Switch {
            profile: Some(name("Sick")),
        },
        mon(9, 0),
        &ctx,
    );
    assert_eq!(next_trigger_time(&s, mon(9, 0), &ctx), Some(mon(12, 0)));
    let e = step(&mut s, Event::Tick, mon(12, 0), &ctx);
    assert_eq!((active(&s), e.len()), (Some("Sick"), 0));
    // Also the next day, and after the trigger (it was dropped, not deferred).
    step(&mut s, Event::Tick, at(2026, 11, 24, 12, 0), &ctx);
    assert_eq!(active(&s), Some("Sick"));
    step(
        &mut s,
        Event::Switch {
            profile: Some(name("Office")),
        },
        at(2026, 11, 24, 14, 0),
        &ctx,
    );
    assert_eq!(active(&s), Some("Office"));
    step(&mut s, Event::Tick, at(2026, 11, 25, 12, 0), &ctx);
    assert_eq!(active(&s), Some("Lunch"));
}

#[test]
fn sticky_profile_also_blocks_calendar_idle_and_client_triggers() {
    let book = book();
    let mut settings = full_calendar();
    settings.on_client_exit = Some(name("Away"));
    settings.inactivity = Some(InactivityTrigger {
        after_minutes: Some(5),
        on_screen_lock: true,
        profile: name("Away"),
    });
    let cal = vec![appt((10, 0), (11, 0), Some("Lunch"))];
    let ctx = Ctx {
        book: &book,
        settings: &settings,
        calendar: &cal,
    };
    let mut s = ProfileState::new(mon(8, 0));
    step(&mut s, Event::SessionUp, mon(8, 0), &ctx);
    step(
        &mut s,
        Event::Switch {
            profile: Some(name("Sick")),
        },
        mon(9, 0),
        &ctx,
    );
    step(&mut s, Event::ScreenLocked, mon(9, 30), &ctx);
    step(&mut s, Event::Tick, mon(10, 0), &ctx);
    step(&mut s, Event::SessionDown, mon(10, 30), &ctx);
    assert_eq!(active(&s), Some("Sick"));
}

#[test]
fn meeting_trigger_reverts_to_the_previous_profile() {
    // pascom D5/T7: meeting profile (sticky) during the meeting, then back.
    let book = book();
    let mut settings = full_calendar();
    settings.meeting = Some(name("Meeting"));
    settings.time = vec![TimeTrigger {
        at: hm(12, 0),
        days: Weekdays::WORKDAYS,
        profile: name("Lunch"),
        enabled: true,
    }];
    let ctx = Ctx {
        book: &book,
        settings: &settings,
        calendar: &[],
    };
    let mut s = ProfileState::new(mon(8, 0));
    step(
        &mut s,
        Event::Switch {
            profile: Some(name("Home office")),
        },
        mon(9, 0),
        &ctx,
    );
    let e = step(&mut s, Event::MeetingStarted, mon(11, 30), &ctx);
    assert_eq!(active(&s), Some("Meeting"));
    assert_eq!(
        e[0],
        Effect::RunActions {
            actions: vec![follow_me(false)]
        }
    );
    // The 12:00 lunch trigger cannot override the pinned meeting profile.
    step(&mut s, Event::Tick, mon(12, 0), &ctx);
    assert_eq!(active(&s), Some("Meeting"));
    let e = step(&mut s, Event::MeetingEnded, mon(12, 20), &ctx);
    assert_eq!(active(&s), Some("Home office"));
    assert!(matches!(&e[0], Effect::RunActions { actions } if actions.len() == 2));
    let Some(Effect::Presence { profile: Some(p) }) = e.last() else {
        panic!("{e:?}")
    };
    assert_eq!(p.name.as_str(), "Home office");
    assert_eq!(p.since, mon(9, 0));
}

#[test]
fn meeting_in_simple_presence_mode_activates_no_profile() {
    let book = book();
    let settings = ProfileSettings {
        meeting: Some(name("Meeting")),
        ..ProfileSettings::default()
    };
    let ctx = Ctx {
        book: &book,
        settings: &settings,
        calendar: &[],
    };
    let mut s = ProfileState::new(mon(8, 0));
    step(
        &mut s,
        Event::Switch {
            profile: Some(name("Office")),
        },
        mon(9, 0),
        &ctx,
    );
    let e = step(&mut s, Event::MeetingStarted, mon(10, 0), &ctx);
    assert!(e.is_empty());
    assert_eq!(active(&s), Some("Office"));
}

#[test]
fn calendar_rules_category_default_profile_free_and_invitations() {
    let book = book();
    let settings = full_calendar();
    let invite = Origin::Invitation {
        organizer: Some(Note::new("mailto:boss@example.org").unwrap()),
    };
    let cal = vec![
        Appointment::new(mon(8, 0), mon(9, 0), ShowAs::Free)
            .unwrap()
            .with_profile(name("Lunch")),
        Appointment::new(mon(9, 0), mon(10, 0), ShowAs::WorkingElsewhere).unwrap(),
        Appointment::new(mon(10, 0), mon(11, 0), ShowAs::Tentative).unwrap(),
        Appointment::new(mon(11, 0), mon(12, 0), ShowAs::Busy)
            .unwrap()
            .with_origin(invite.clone()),
        Appointment::new(mon(12, 0), mon(13, 0), ShowAs::Busy)
            .unwrap()
            .with_origin(invite)
            .with_profile(name("Lunch")),
    ];
    let ctx = Ctx {
        book: &book,
        settings: &settings,
        calendar: &cal,
    };
    let expect = [
        (8, None),
        (9, None),
        (10, Some("Do not disturb")),
        (11, None),
        (12, Some("Lunch")),
    ];
    let mut s = ProfileState::new(mon(7, 0));
    for (h, want) in expect {
        step(&mut s, Event::Tick, mon(h, 30), &ctx);
        assert_eq!(active(&s), want, "at {h}:30");
    }
    // Invitations count when configured; category-only mode ignores appointments without one.
    let mut with_inv = settings.clone();
    with_inv.calendar.invitations = true;
    let ctx2 = Ctx {
        book: &book,
        settings: &with_inv,
        calendar: &cal,
    };
    let (s2, _) = on_event(
        ProfileState::new(mon(7, 0)),
        Event::Tick,
        mon(11, 30),
        &ctx2,
    );
    assert_eq!(active(&s2), Some("Do not disturb"));
    let mut cat_only = settings.clone();
    cat_only.calendar.all_busy = false;
    let ctx3 = Ctx {
        book: &book,
        settings: &cat_only,
        calendar: &cal,
    };
    let (s3, _) = on_event(
        ProfileState::new(mon(7, 0)),
        Event::Tick,
        mon(10, 30),
        &ctx3,
    );
    assert_eq!(active(&s3), None);
    // What did not activate a profile still reaches the presence model as a simple presence.
    assert_eq!(presence_calendar(&ctx3).len(), 2);
}

#[test]
fn simple_presence_mode_sets_no_profile_and_no_forwarding() {
    // ProCall D1: an appointment only forms a simple presence.
    let book = book();
    let mut settings = full_calendar();
    settings.event_mode = EventMode::SimplePresence;
    let cal = vec![appt((12, 15), (13, 0), Some("Lunch"))];
    let ctx = Ctx {
        book: &book,
        settings: &settings,
        calendar: &cal,
    };
    let (s, e) = on_event(ProfileState::new(mon(7, 0)), Event::Tick, mon(12, 30), &ctx);
    assert_eq!((active(&s), e.len()), (None, 0));
    assert_eq!(next_trigger_time(&s, mon(12, 30), &ctx), None);
    let p = presence_calendar(&ctx);
    assert_eq!((p.len(), p[0].start), (1, mon(12, 15)));
}

#[test]
fn actions_run_leave_chain_then_enter_chain_skipping_disabled_steps() {
    let book = book();
    let settings = ProfileSettings::default();
    let ctx = Ctx {
        book: &book,
        settings: &settings,
        calendar: &[],
    };
    let mut s = ProfileState::new(mon(8, 0));
    let e = step(
        &mut s,
        Event::Switch {
            profile: Some(name("Home office")),
        },
        mon(8, 0),
        &ctx,
    );
    assert_eq!(
        e[0],
        Effect::RunActions {
            actions: vec![Action::Workplace { workplace: None }, follow_me(true)]
        }
    );
    assert_eq!(forwarding(&e), None, "unchanged forwarding emits nothing");
    let e = step(
        &mut s,
        Event::Switch {
            profile: Some(name("Lunch")),
        },
        mon(12, 0),
        &ctx,
    );
    let Effect::RunActions { actions } = &e[0] else {
        panic!("{e:?}")
    };
    assert_eq!(actions[0], follow_me(false));
    assert!(matches!(&actions[1], Action::Queue { action } if action.op == QueueOp::Pause));
    // Switching to the same profile again runs nothing but reports the newer statement.
    let e = step(
        &mut s,
        Event::Switch {
            profile: Some(name("Lunch")),
        },
        mon(12, 5),
        &ctx,
    );
    assert!(matches!(&e[..], [Effect::Presence { profile: Some(p) }] if p.since == mon(12, 5)));
    let e = step(&mut s, Event::Switch { profile: None }, mon(13, 0), &ctx);
    assert_eq!(active(&s), None);
    assert_eq!(e.last(), Some(&Effect::Presence { profile: None }));
}

#[test]
fn manual_switch_beats_an_older_appointment_and_a_newer_one_beats_it() {
    let book = book();
    let settings = full_calendar();
    let cal = vec![
        appt((8, 0), (17, 0), Some("Training")),
        appt((12, 15), (13, 0), Some("Lunch")),
    ];
    let ctx = Ctx {
        book: &book,
        settings: &settings,
        calendar: &cal,
    };
    let mut s = ProfileState::new(mon(7, 0));
    step(&mut s, Event::Tick, mon(8, 0), &ctx);
    step(
        &mut s,
        Event::Switch {
            profile: Some(name("Office")),
        },
        mon(10, 0),
        &ctx,
    );
    assert_eq!(active(&s), Some("Office"));
    step(&mut s, Event::Tick, mon(12, 15), &ctx);
    assert_eq!(active(&s), Some("Lunch"));
    step(&mut s, Event::Tick, mon(13, 0), &ctx);
    assert_eq!(active(&s), Some("Office"));
}

#[test]
fn deleted_or_disabled_profiles_are_not_activated_by_triggers() {
    let mut book = book();
    let mut spec = book.get(&name("Office")).unwrap().spec.clone();
    spec.enabled = false;
    book.update(Editor::User, &name("Office"), spec, false)
        .unwrap();
    let settings = ProfileSettings {
        on_client_start: Some(name("Office")),
        ..ProfileSettings::default()
    };
    let ctx = Ctx {
        book: &book,
        settings: &settings,
        calendar: &[],
    };
    let (s, e) = on_event(
        ProfileState::new(mon(7, 0)),
        Event::SessionUp,
        mon(8, 0),
        &ctx,
    );
    assert_eq!((active(&s), e.len()), (None, 0));
    assert!(book.activatable(&name("Office")).is_err());
}

#[test]
fn state_and_settings_round_trip_through_json() {
    let book = book();
    let settings = full_calendar();
    let cal = vec![appt((8, 0), (17, 0), Some("Training"))];
    let ctx = Ctx {
        book: &book,
        settings: &settings,
        calendar: &cal,
    };
    let (s, _) = on_event(ProfileState::new(mon(7, 0)), Event::Tick, mon(9, 0), &ctx);
    let j = serde_json::to_string(&s).unwrap();
    assert_eq!(serde_json::from_str::<ProfileState>(&j).unwrap(), s);
    let j = serde_json::to_string(&settings).unwrap();
    assert_eq!(
        serde_json::from_str::<ProfileSettings>(&j).unwrap(),
        settings
    );
    let j = serde_json::to_string(&book).unwrap();
    assert_eq!(serde_json::from_str::<ProfileBook>(&j).unwrap(), book);
    assert_eq!(profile_source(&s, &book).unwrap().name.as_str(), "Training");
}

#[test]
fn a_non_sticky_meeting_profile_yields_to_a_newer_trigger_and_is_not_restored() {
    let book = book();
    let mut settings = full_calendar();
    settings.meeting = Some(name("Away"));
    settings.time = vec![TimeTrigger {
        at: hm(12, 0),
        days: Weekdays::ALL,
        profile: name("Lunch"),
        enabled: true,
    }];
    let ctx = Ctx {
        book: &book,
        settings: &settings,
        calendar: &[],
    };
    let mut s = ProfileState::new(mon(8, 0));
    step(
        &mut s,
        Event::Switch {
            profile: Some(name("Office")),
        },
        mon(9, 0),
        &ctx,
    );
    step(&mut s, Event::MeetingStarted, mon(11, 30), &ctx);
    assert_eq!(active(&s), Some("Away"));
    step(&mut s, Event::Tick, mon(12, 0), &ctx);
    assert_eq!(active(&s), Some("Lunch"));
    assert!(step(&mut s, Event::MeetingEnded, mon(12, 20), &ctx).is_empty());
    assert_eq!(active(&s), Some("Lunch"));
}
