//! Rules 13–19 of docs/PRESENCE.md (what is shown and carried), at least one test each, named
//! `rule_NN_...` after the rule.

use super::test_support::*;
use super::*;

use ClientShow as Show;

#[test]
fn rule_13_ringing_shows_without_changing_availability() {
    let mut s = Sources::default();
    desktop(&mut s);
    set_line(&mut s, "201", LineState::Ringing);
    let p = agg(&s, t(0));
    assert_eq!(
        (p.availability, p.status_line.as_str()),
        (Availability::Available, "Ringing")
    );
    booking(&mut s, t(0), t(60), BookingKind::Busy);
    let p = agg(&s, t(0));
    assert_eq!(p.availability, Availability::Busy);
    assert_eq!(p.status_line, "In a meeting until 09:00 · Ringing");
    s.calendar.clear();
    set_line(&mut s, "202", call());
    assert_eq!(agg(&s, t(0)).status_line, "On the phone · Ringing");
    assert_eq!(agg(&s, t(0)).lamp, Lamp::BusyRinging);
    manual(&mut s, ManualAvailability::DoNotDisturb, t(0));
    assert_eq!(
        agg(&s, t(0)).status_line,
        "Do not disturb · On the phone · Ringing"
    );
}

#[test]
fn rule_14_until_comes_from_the_winner() {
    let mut s = Sources::default();
    desktop(&mut s);
    booking(&mut s, t(0), t(120), BookingKind::Busy);
    external(&mut s, "focus", Settable::DoNotDisturb, None, t(30));
    let p = agg(&s, t(1));
    assert_eq!(
        (p.availability, p.until),
        (Availability::DoNotDisturb, Some(t(30)))
    );
    assert_eq!(agg(&s, t(30)).until, Some(t(120)));
    set_line(&mut s, "201", call());
    assert_eq!(agg(&s, t(31)).until, None, "a call has no end time");
}

#[test]
fn rule_15_note_from_the_highest_ranking_source_that_has_one() {
    let mut s = Sources::default();
    desktop(&mut s);
    connect(&mut s, "laptop", DeviceKind::Desktop, Show::Available);
    s.clients.get_mut("desktop").unwrap().status = Some(note("from desktop"));
    s.clients.get_mut("laptop").unwrap().status = Some(note("from laptop"));
    s.clients.get_mut("laptop").unwrap().priority = 5;
    booking(&mut s, t(0), t(60), BookingKind::Busy);
    s.calendar[0].subject = Some(note("Quarterly review"));
    external(&mut s, "teams", Settable::Busy, None, t(60));
    s.external.values_mut().next().unwrap().note = Some(note("from teams"));
    manual(&mut s, ManualAvailability::Available, t(0));
    s.manual.as_mut().unwrap().note = Some(note("Back at 3"));
    let n = |s: &Sources| agg(s, t(1)).note.map(|n| n.as_str().to_owned());
    assert_eq!(n(&s).as_deref(), Some("Back at 3"));
    assert_eq!(agg(&s, t(1)).note_source, Some(SourceKind::Manual));
    s.manual = None;
    assert_eq!(
        n(&s).as_deref(),
        Some("from laptop"),
        "highest-priority client"
    );
    s.clients.clear();
    desktop(&mut s);
    assert_eq!(n(&s).as_deref(), Some("from teams"));
    s.external.clear();
    assert_eq!(n(&s).as_deref(), Some("Quarterly review"));
    s.calendar[0].private = true;
    assert_eq!(
        n(&s),
        None,
        "private appointments never reveal their subject"
    );
}

#[test]
fn rule_16_profile_name_carried_headline_only_when_it_decides() {
    let mut s = Sources::default();
    desktop(&mut s);
    profile(&mut s, "Home Office", Settable::Available, t(0));
    let p = agg(&s, t(1));
    assert_eq!(p.status_line, "Home Office");
    assert_eq!(p.profile.as_ref().map(|n| n.as_str()), Some("Home Office"));
    // An event (a call) forms a simple presence (ProCall D1); the profile stays named.
    set_line(&mut s, "201", call());
    let p = agg(&s, t(1));
    assert_eq!(p.status_line, "On the phone");
    assert_eq!(p.profile.as_ref().map(|n| n.as_str()), Some("Home Office"));
}

#[test]
fn rule_17_mobile_only_when_no_desktop_or_web_client() {
    let mut s = Sources::default();
    connect(&mut s, "phone", DeviceKind::Mobile, Show::Available);
    assert!(agg(&s, t(0)).mobile_only());
    assert_eq!(agg(&s, t(0)).status_line, "Mobile only");
    connect(&mut s, "web", DeviceKind::Web, Show::Available);
    assert!(!agg(&s, t(0)).mobile_only());
}

#[test]
fn rule_18_queue_states_are_carried_through() {
    let mut s = Sources::default();
    desktop(&mut s);
    let support = QueueId::new("support").unwrap();
    let sales = QueueId::new("sales").unwrap();
    s.queues.insert(support.clone(), AgentState::WrapUp);
    s.queues.insert(sales.clone(), AgentState::Available);
    let p = agg(&s, t(0));
    assert_eq!(p.queues.get(&support), Some(&AgentState::WrapUp));
    assert!(p.queues[&sales].receives_queue_calls());
    assert_eq!(
        p.availability,
        Availability::Available,
        "queues do not rank"
    );
}

#[test]
fn rule_19_lines_are_carried_and_the_lamp_summarises_them() {
    let mut s = Sources::default();
    desktop(&mut s);
    set_line(&mut s, "201", LineState::OutOfOrder);
    assert_eq!(agg(&s, t(0)).lamp, Lamp::OutOfOrder);
    assert!(!agg(&s, t(0)).devices.phone);
    set_line(&mut s, "202", LineState::Idle);
    let p = agg(&s, t(0));
    assert_eq!((p.lamp, p.lines.len()), (Lamp::Free, 2));
    assert!(p.devices.phone);
}
