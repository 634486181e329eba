//! Appointments, the innermost-wins rule and sharing.

use super::*;
use crate::presence::{Note, Timestamp};

fn at(h: u64, m: u64) -> Timestamp {
    Timestamp::from_unix_ms((h * 60 + m) * 60_000)
}

fn note(s: &str) -> Note {
    Note::new(s).unwrap()
}

#[test]
fn innermost_current_appointment_wins_and_the_outer_one_resumes() {
    // XPhone D3: all-day training with lunch 12:15-13:00 inside.
    let training = Appointment::new(at(0, 0), at(24, 0), ShowAs::Busy)
        .unwrap()
        .with_subject(note("Training"));
    let lunch = Appointment::new(at(12, 15), at(13, 0), ShowAs::OutOfOffice)
        .unwrap()
        .with_subject(note("Lunch"));
    let all = [training, lunch];
    let subject = |t| innermost(&all, t).and_then(|a| a.owner_subject());
    assert_eq!(subject(at(12, 14)), Some("Training"));
    assert_eq!(subject(at(12, 15)), Some("Lunch"));
    assert_eq!(subject(at(12, 59)), Some("Lunch"));
    assert_eq!(subject(at(13, 0)), Some("Training"));
    assert_eq!(subject(at(24, 0)), None);
    assert_eq!(next_boundary(&all, at(9, 0)), Some(at(12, 15)));
    assert_eq!(next_boundary(&all, at(12, 15)), Some(at(13, 0)));
    // Same start: the one that ends first is the inner one.
    let short = Appointment::new(at(0, 0), at(1, 0), ShowAs::Busy)
        .unwrap()
        .with_subject(note("Short"));
    let all = [all[0].clone(), short];
    assert_eq!(
        innermost(&all, at(0, 30)).and_then(|a| a.owner_subject()),
        Some("Short")
    );
}

#[test]
fn appointments_must_end_after_they_start() {
    assert_eq!(
        Appointment::new(at(2, 0), at(2, 0), ShowAs::Busy),
        Err(AppointmentError::EndsBeforeStart)
    );
}

#[test]
fn categories_name_profiles_with_an_at_sign() {
    assert_eq!(
        category_profile("@Do not disturb").unwrap().as_str(),
        "Do not disturb"
    );
    assert_eq!(category_profile(" @ Lunch ").unwrap().as_str(), "Lunch");
    assert!(category_profile("Work").is_none());
    assert!(category_profile("@").is_none());
}

#[test]
fn free_and_working_elsewhere_never_reach_the_presence_model() {
    for s in [ShowAs::Free, ShowAs::WorkingElsewhere] {
        assert!(
            Appointment::new(at(1, 0), at(2, 0), s)
                .unwrap()
                .to_presence()
                .is_none()
        );
    }
    let p = Appointment::new(at(1, 0), at(2, 0), ShowAs::OutOfOffice)
        .unwrap()
        .to_presence()
        .unwrap();
    assert_eq!(p.show_as, crate::presence::BookingKind::OutOfOffice);
}

fn private_and_public() -> Vec<Appointment> {
    vec![
        Appointment::new(at(9, 0), at(10, 0), ShowAs::Busy)
            .unwrap()
            .with_subject(note("Board meeting"))
            .with_origin(Origin::Invitation {
                organizer: Some(note("mailto:ceo@example.org")),
            }),
        Appointment::new(at(11, 0), at(12, 0), ShowAs::Busy)
            .unwrap()
            .with_subject(note("Therapy"))
            .with_private(true),
    ]
}

#[test]
fn a_private_subject_never_leaves_the_node() {
    let all = private_and_public();
    // Not into the presence model ...
    assert_eq!(all[1].to_presence().unwrap().subject, None);
    // ... not into anything shared, at any level ...
    for level in [
        Sharing::Nothing,
        Sharing::PublicOnly,
        Sharing::PublicAndPrivateTimes,
        Sharing::Everything,
    ] {
        let json = serde_json::to_string(&share(&all, level)).unwrap();
        assert!(!json.contains("Therapy"), "{level:?}: {json}");
    }
    // ... and not into logs.
    assert!(!format!("{:?}", all[1]).contains("Therapy"));
    // The owner still sees it.
    assert_eq!(all[1].owner_subject(), Some("Therapy"));
}

#[test]
fn sharing_levels() {
    let all = private_and_public();
    assert!(share(&all, Sharing::Nothing).is_empty());
    let public = share(&all, Sharing::PublicOnly);
    assert_eq!(public.len(), 1);
    assert_eq!(
        public[0].subject.as_ref().unwrap().as_str(),
        "Board meeting"
    );
    assert_eq!(public[0].organizer, None);
    let times = share(&all, Sharing::PublicAndPrivateTimes);
    assert_eq!(times.len(), 2);
    assert!(times[1].private && times[1].subject.is_none());
    assert_eq!(
        (times[1].start, times[1].show_as),
        (at(11, 0), ShowAs::Busy)
    );
    let everything = share(&all, Sharing::Everything);
    assert!(everything[0].invitation);
    assert_eq!(
        everything[0].organizer.as_ref().unwrap().as_str(),
        "mailto:ceo@example.org"
    );
    assert!(everything[1].subject.is_none() && everything[1].organizer.is_none());
}

#[test]
fn appointments_and_zones_round_trip_through_json() {
    let all = private_and_public();
    let j = serde_json::to_string(&all).unwrap();
    assert_eq!(serde_json::from_str::<Vec<Appointment>>(&j).unwrap(), all);
    let z: Zone = serde_json::from_str("\"Europe/Berlin\"").unwrap();
    assert_eq!(z.name(), "Europe/Berlin");
    assert!(serde_json::from_str::<Zone>("\"Mars/Olympus\"").is_err());
}
