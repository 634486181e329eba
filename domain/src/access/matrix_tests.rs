//! The field matrix (every level x every field of the view), the leak test over serialized views,
//! and the check that docs/ACCESS.md shows the same table. The fixture and helpers are shared with
//! `view_tests`.

use super::*;
use crate::presence::*;

/// 2025-11-24 08:00:00 UTC; test clocks count minutes from here.
const BASE_MS: u64 = 1_763_971_200_000;

pub(super) fn t(min: u64) -> Timestamp {
    Timestamp::from_unix_ms(BASE_MS + min * 60_000)
}

pub(super) fn note(s: &str) -> Note {
    Note::new(s).unwrap()
}

pub(super) fn client(s: &mut Sources, name: &str, device: DeviceKind, idle: Option<Timestamp>) {
    s.clients.insert(
        name.to_owned(),
        ClientPresence {
            device,
            priority: 0,
            show: ClientShow::Available,
            status: None,
            idle_since: idle,
        },
    );
}

pub(super) fn line(s: &mut Sources, id: &str, state: LineState) {
    s.lines.insert(LineId::new(id).unwrap(), state);
}

pub(super) fn appt(start: u64, end: u64, subject: &str, private: bool) -> Booking {
    Booking {
        start: t(start),
        end: t(end),
        show_as: BookingKind::Busy,
        subject: Some(note(subject)),
        private,
    }
}

pub(super) fn views(d: &Detail, now: Timestamp) -> Vec<(Level, View)> {
    Level::ALL
        .into_iter()
        .map(|l| (l, view_for(l, d, now, UtcOffset::UTC)))
        .collect()
}

pub(super) const NOW: u64 = 60; // 09:00

/// A user with every field set: a profile (do-not-disturb, home office, note, until 17:00), a
/// conference call on one line and a call ringing on another, two queues, a public and a private
/// appointment, only a mobile client online (idle for three minutes), and a forwarding.
pub(super) fn everything() -> Detail {
    let mut s = Sources::default();
    client(&mut s, "phone", DeviceKind::Mobile, Some(t(NOW - 3)));
    s.profile = Some(ProfileSource {
        name: ProfileName::new("Focus time").unwrap(),
        availability: Settable::DoNotDisturb,
        activity: Some(Activity::HomeOffice),
        note: Some(note("Back at 5")),
        until: Some(t(540)),
        since: t(0),
    });
    let conference = Call {
        held: false,
        conference: true,
    };
    line(&mut s, "201", LineState::OnCall(conference));
    line(&mut s, "202", LineState::Ringing);
    s.queues
        .insert(QueueId::new("support").unwrap(), AgentState::Available);
    s.queues
        .insert(QueueId::new("sales").unwrap(), AgentState::WrapUp);
    s.calendar = vec![
        appt(30, 120, "Budget review", false),
        appt(180, 240, "Dentist", true),
    ];
    let presence = aggregate(&s, t(NOW), &Settings::default());
    Detail {
        presence,
        appointments: s.calendar.clone(),
        forwarding: Some(Forwarding {
            target: note("+49 30 1234"),
        }),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    /// The value "presence unavailable" has.
    Hidden,
    /// Something between hidden and the full value.
    Reduced,
    /// The full value.
    Full,
}
use Shown::{Full as F, Hidden as H, Reduced as R};

fn shown<T: PartialEq>(got: &T, full: &T, hidden: &T) -> Shown {
    if got == full {
        F
    } else if got == hidden {
        H
    } else {
        R
    }
}

/// docs/ACCESS.md, "Field table": columns blocked, public, business, team, personal (checked by
/// `the_field_table_in_docs_matches_the_matrix_test`).
const MATRIX: &[(&str, [Shown; 5])] = &[
    ("availability", [H, F, F, F, F]),
    ("activity", [H, H, H, F, F]),
    ("until", [H, H, F, F, F]),
    ("source", [H, H, H, F, F]),
    ("note", [H, H, F, F, F]),
    ("note_source", [H, H, H, F, F]),
    ("profile", [H, H, H, F, F]),
    ("lamp", [H, H, R, F, F]),
    ("lines", [H, H, R, F, F]),
    ("devices", [H, H, R, F, F]),
    ("queues", [H, H, H, F, F]),
    ("idle_since", [H, H, H, H, F]),
    ("appointments.times", [H, H, F, F, F]),
    ("appointments.subject", [H, H, H, F, F]),
    ("appointments.private", [H, H, H, H, F]),
    ("forwarding", [H, H, H, F, F]),
];

fn observe(v: &View, d: &Detail) -> Vec<(&'static str, Shown)> {
    let (p, f, u) = (
        &v.presence(),
        &d.presence,
        &EffectivePresence::unavailable(),
    );
    let times = |a: &[(Timestamp, Timestamp, BookingKind)]| a.to_vec();
    let full_times: Vec<_> = d
        .appointments
        .iter()
        .map(|a| (a.start, a.end, a.show_as))
        .collect();
    let got_times: Vec<_> = v
        .appointments()
        .iter()
        .map(|a| (a.start, a.end, a.show_as))
        .collect();
    // Subjects as the calendar would show them to a viewer allowed to see subjects: never private.
    let full_subjects: Vec<_> = d
        .appointments
        .iter()
        .map(|a| a.subject.clone().filter(|_| !a.private))
        .collect();
    let got_subjects: Vec<_> = v.appointments().iter().map(|a| a.subject.clone()).collect();
    let hidden_subjects = |n: usize| vec![None; n];
    let full_private: Vec<bool> = d.appointments.iter().map(|a| a.private).collect();
    let got_private: Vec<bool> = v.appointments().iter().map(|a| a.private).collect();
    let private_shown = if got_private.is_empty() || !got_private.contains(&true) {
        H
    } else {
        shown(
            &got_private,
            &full_private,
            &vec![false; full_private.len()],
        )
    };
    vec![
        (
            "availability",
            shown(&p.availability, &f.availability, &u.availability),
        ),
        ("activity", shown(&p.activity, &f.activity, &u.activity)),
        ("until", shown(&p.until, &f.until, &u.until)),
        ("source", shown(&p.source, &f.source, &u.source)),
        ("note", shown(&p.note, &f.note, &u.note)),
        (
            "note_source",
            shown(&p.note_source, &f.note_source, &u.note_source),
        ),
        ("profile", shown(&p.profile, &f.profile, &u.profile)),
        ("lamp", shown(&p.lamp, &f.lamp, &u.lamp)),
        ("lines", shown(&p.lines, &f.lines, &u.lines)),
        ("devices", shown(&p.devices, &f.devices, &u.devices)),
        ("queues", shown(&p.queues, &f.queues, &u.queues)),
        (
            "idle_since",
            shown(&p.idle_since, &f.idle_since, &u.idle_since),
        ),
        (
            "appointments.times",
            shown(&times(&got_times), &full_times, &Vec::new()),
        ),
        (
            "appointments.subject",
            if got_subjects.iter().all(Option::is_none) {
                H
            } else {
                shown(
                    &got_subjects,
                    &full_subjects,
                    &hidden_subjects(got_subjects.len()),
                )
            },
        ),
        ("appointments.private", private_shown),
        (
            "forwarding",
            shown(&v.forwarding(), &d.forwarding.as_ref(), &None),
        ),
    ]
}

#[test]
fn matrix_every_level_reveals_exactly_its_fields() {
    let d = everything();
    // The fixture really sets every field, so "hidden" and "full" differ everywhere.
    let p = &d.presence;
    assert_eq!(p.availability, Availability::DoNotDisturb);
    assert!(p.activity.is_some() && p.until.is_some() && p.note.is_some());
    assert!(p.profile.is_some() && p.idle_since.is_some() && p.mobile_only());
    assert_eq!(p.lamp, Lamp::BusyRinging);
    assert_eq!(p.queues.len(), 2);

    let mut failures = Vec::new();
    for (level, view) in views(&d, t(NOW)) {
        let col = Level::ALL.iter().position(|l| *l == level).unwrap();
        let observed = observe(&view, &d);
        assert_eq!(observed.len(), MATRIX.len());
        for ((field, got), (name, row)) in observed.iter().zip(MATRIX) {
            assert_eq!(field, name);
            if *got != row[col] {
                failures.push(format!("{level}: {field} is {got:?}, want {:?}", row[col]));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn matrix_status_lines_say_no_more_than_the_fields() {
    let d = everything();
    let lines: Vec<(Level, String)> = views(&d, t(NOW))
        .into_iter()
        .map(|(l, v)| (l, v.presence().status_line.clone()))
        .collect();
    let full = "Focus time until 17:00 · In a conference call · Ringing · Mobile only · Back at 5";
    assert_eq!(d.presence.status_line, full);
    assert_eq!(
        lines,
        vec![
            (Level::Blocked, "Offline".to_owned()),
            (Level::Public, "Do not disturb".to_owned()),
            (
                Level::Business,
                "Do not disturb until 17:00 · On the phone · Mobile only · Back at 5".to_owned()
            ),
            (Level::Team, full.to_owned()),
            (Level::Personal, full.to_owned()),
        ]
    );
}

#[test]
fn matrix_reduced_values_at_business() {
    let v = view_for(Level::Business, &everything(), t(NOW), UtcOffset::UTC);
    let p = &v.presence();
    assert_eq!(p.lamp, Lamp::Busy, "busy, not ringing");
    let states: Vec<LineState> = p.lines.values().copied().collect();
    assert_eq!(
        states,
        vec![LineState::OnCall(Call::default()), LineState::Idle],
        "no conference or hold detail, ringing reads as free"
    );
    assert_eq!(
        p.devices,
        Devices {
            mobile: true,
            ..Devices::default()
        },
        "the mobile-only hint and nothing else"
    );
    assert!(
        v.appointments()
            .iter()
            .all(|a| a.subject.is_none() && !a.private)
    );
}

#[test]
fn personal_sees_everything_the_node_holds() {
    let d = everything();
    let v = view_for(Level::Personal, &d, t(NOW), UtcOffset::UTC);
    assert_eq!(v.presence(), &d.presence);
    assert_eq!(v.forwarding(), d.forwarding.as_ref());
}

/// Each secret, and the lowest level allowed to see it; `None`: no viewer ever.
const SECRETS: &[(&str, Option<Level>)] = &[
    ("Back at 5", Some(Level::Business)),
    ("Budget review", Some(Level::Team)),
    ("Focus time", Some(Level::Team)),
    ("home_office", Some(Level::Team)),
    ("+49 30 1234", Some(Level::Team)),
    ("support", Some(Level::Team)),
    ("conference\":true", Some(Level::Team)),
    ("Dentist", None),
];

#[test]
fn no_secret_leaves_below_its_level_in_any_serialized_view() {
    let d = everything();
    for (level, view) in views(&d, t(NOW)) {
        let json = serde_json::to_string(&view).unwrap();
        for (secret, from) in SECRETS {
            let allowed = from.is_some_and(|f| level >= f);
            assert_eq!(json.contains(secret), allowed, "{level}: {secret}: {json}");
        }
    }
}

#[test]
fn the_field_table_in_docs_matches_the_matrix_test() {
    let doc = include_str!("../../../docs/ACCESS.md");
    let table = doc.split("## Field table").nth(1).unwrap();
    let table = table.split("\n## ").next().unwrap();
    let mut seen = Vec::new();
    for row in table.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let name = cells[1].trim_matches('`');
        if name == "status_line" {
            continue;
        }
        let want = MATRIX
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("docs row {name} is not in the matrix test"));
        let got: Vec<Shown> = cells[2..7]
            .iter()
            .map(|c| match c.chars().next() {
                Some('–') => H,
                Some('✓') => F,
                _ => R,
            })
            .collect();
        assert_eq!(got, want.1.to_vec(), "docs row {name}");
        seen.push(name);
    }
    let missing: Vec<_> = MATRIX.iter().filter(|(n, _)| !seen.contains(n)).collect();
    assert!(missing.is_empty(), "not in docs/ACCESS.md: {missing:?}");
}
