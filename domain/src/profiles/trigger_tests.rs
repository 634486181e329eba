//! Time, client, inactivity and restart triggers with simulated time (Europe/Berlin wall clock).

use chrono::Weekday;

use super::test_support::*;
use super::*;

#[test]
fn time_triggers_follow_weekdays_in_the_user_zone_across_dst() {
    let book = book();
    let settings = ProfileSettings {
        zone: berlin(),
        time: vec![TimeTrigger {
            at: hm(8, 0),
            days: Weekdays::of(&[Weekday::Mon]),
            profile: name("Office"),
            enabled: true,
        }],
        ..ProfileSettings::default()
    };
    let ctx = Ctx {
        book: &book,
        settings: &settings,
        calendar: &[],
    };
    let s = ProfileState::new(at(2026, 10, 20, 12, 0));
    // Monday 2026-10-19 08:00 CEST was UTC+2; the next Monday after DST ends is UTC+1.
    let next = next_trigger_time(&s, at(2026, 10, 20, 12, 0), &ctx).unwrap();
    assert_eq!(next, at(2026, 10, 26, 8, 0));
    assert_eq!(next.unix_ms() % 86_400_000, 7 * 3_600_000);
    assert_eq!(at(2026, 10, 19, 8, 0).unix_ms() % 86_400_000, 6 * 3_600_000);
    // Not on Saturday; a disabled trigger never fires.
    let mut s = ProfileState::new(at(2026, 10, 24, 7, 0));
    step(&mut s, Event::Tick, at(2026, 10, 24, 9, 0), &ctx);
    assert_eq!(active(&s), None);
    let mut off = settings.clone();
    off.time[0].enabled = false;
    let ctx_off = Ctx {
        book: &book,
        settings: &off,
        calendar: &[],
    };
    assert_eq!(
        next_trigger_time(&s, at(2026, 10, 24, 9, 0), &ctx_off),
        None
    );
}

#[test]
fn client_start_and_exit_follow_first_and_last_session() {
    let book = book();
    let settings = ProfileSettings {
        on_client_start: Some(name("Office")),
        on_client_exit: Some(name("Do not disturb")),
        ..ProfileSettings::default()
    };
    let ctx = Ctx {
        book: &book,
        settings: &settings,
        calendar: &[],
    };
    let mut s = ProfileState::new(mon(7, 0));
    let e = step(&mut s, Event::SessionUp, mon(8, 0), &ctx);
    assert_eq!(active(&s), Some("Office"));
    assert_eq!(forwarding(&e), Some(None));
    assert!(
        e.iter()
            .any(|e| matches!(e, Effect::Queue { actions } if actions.len() == 1))
    );
    assert!(step(&mut s, Event::SessionUp, mon(8, 5), &ctx).is_empty());
    assert!(step(&mut s, Event::SessionDown, mon(17, 0), &ctx).is_empty());
    let e = step(&mut s, Event::SessionDown, mon(17, 5), &ctx);
    assert_eq!(active(&s), Some("Do not disturb"));
    assert_eq!(forwarding(&e), Some(Some(ForwardTarget::Voicemail)));
    // A stray extra "down" changes nothing.
    assert!(step(&mut s, Event::SessionDown, mon(17, 6), &ctx).is_empty());
}

#[test]
fn inactivity_after_minutes_and_on_screen_lock_then_back() {
    let book = book();
    let settings = ProfileSettings {
        inactivity: Some(InactivityTrigger {
            after_minutes: Some(10),
            on_screen_lock: true,
            profile: name("Away"),
        }),
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
        mon(8, 0),
        &ctx,
    );
    step(&mut s, Event::Idle { since: mon(9, 0) }, mon(9, 2), &ctx);
    assert_eq!(active(&s), Some("Office"));
    assert_eq!(next_trigger_time(&s, mon(9, 2), &ctx), Some(mon(9, 10)));
    step(&mut s, Event::Tick, mon(9, 10), &ctx);
    assert_eq!(active(&s), Some("Away"));
    step(&mut s, Event::InputResumed, mon(9, 30), &ctx);
    assert_eq!(active(&s), Some("Office"));
    step(&mut s, Event::ScreenLocked, mon(10, 0), &ctx);
    assert_eq!(active(&s), Some("Away"));
    step(&mut s, Event::InputResumed, mon(10, 5), &ctx);
    assert_eq!(active(&s), Some("Office"));
}

#[test]
fn triggers_missed_while_the_node_was_down_apply_on_start() {
    let book = book();
    let settings = ProfileSettings {
        zone: berlin(),
        on_client_exit: Some(name("Do not disturb")),
        time: vec![
            TimeTrigger {
                at: hm(8, 0),
                days: Weekdays::WORKDAYS,
                profile: name("Office"),
                enabled: true,
            },
            TimeTrigger {
                at: hm(12, 0),
                days: Weekdays::WORKDAYS,
                profile: name("Lunch"),
                enabled: true,
            },
        ],
        ..ProfileSettings::default()
    };
    let ctx = Ctx {
        book: &book,
        settings: &settings,
        calendar: &[],
    };
    // Friday 17:00 with a session up, node down until Monday 10:00.
    let mut s = ProfileState::new(at(2026, 11, 20, 16, 0));
    step(&mut s, Event::SessionUp, at(2026, 11, 20, 16, 0), &ctx);
    step(&mut s, Event::Tick, at(2026, 11, 20, 17, 0), &ctx);
    let e = step(&mut s, Event::NodeStarted, mon(10, 0), &ctx);
    assert_eq!(s.sessions, 0);
    assert_eq!(active(&s), Some("Office"));
    assert_eq!(s.active.as_ref().unwrap().since, mon(8, 0));
    assert_eq!(forwarding(&e), Some(None));
    // Down over lunch: the latest missed trigger wins.
    let (s2, _) = on_event(s.clone(), Event::NodeStarted, mon(12, 30), &ctx);
    assert_eq!(active(&s2), Some("Lunch"));
    // A calendar appointment that began while down applies on start too.
    let mut cal_settings = full_calendar();
    cal_settings.time = settings.time.clone();
    let cal = vec![appt((9, 0), (11, 0), Some("Training"))];
    let ctx3 = Ctx {
        book: &book,
        settings: &cal_settings,
        calendar: &cal,
    };
    let (s3, _) = on_event(s, Event::NodeStarted, mon(10, 30), &ctx3);
    assert_eq!(active(&s3), Some("Training"));
}
