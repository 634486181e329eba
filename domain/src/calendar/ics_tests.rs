//! iCalendar import: mapping, recurrence across DST, and hostile input.

use std::time::Instant;

use chrono::NaiveDate;

use super::*;
use crate::presence::Timestamp;

fn berlin() -> Zone {
    "Europe/Berlin".parse().unwrap()
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Timestamp {
    Zone::UTC
        .resolve(
            NaiveDate::from_ymd_opt(y, mo, d)
                .unwrap()
                .and_hms_opt(h, mi, 0)
                .unwrap(),
        )
        .unwrap()
}

fn cal(events: &str) -> String {
    format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{events}END:VCALENDAR\r\n")
}

fn event(lines: &str) -> String {
    let mut s = String::from("BEGIN:VEVENT\r\n");
    for l in lines.lines().map(str::trim).filter(|l| !l.is_empty()) {
        s.push_str(l);
        s.push_str("\r\n");
    }
    s.push_str("END:VEVENT\r\n");
    s
}

fn opts(from: Timestamp, to: Timestamp) -> ImportOptions<'static> {
    ImportOptions {
        window_start: from,
        window_end: to,
        zone: berlin(),
        owner_addresses: &[],
        limits: ImportLimits::default(),
    }
}

fn import(text: &str, o: &ImportOptions<'_>) -> Imported {
    import_ics(text.as_bytes(), o).unwrap()
}

#[test]
fn weekly_recurrence_keeps_the_wall_clock_across_the_dst_change() {
    // Tuesdays 09:00 Berlin; summer time ends on Sunday 2026-10-25.
    let text = cal(&event(
        "UID:weekly@test
         DTSTART;TZID=Europe/Berlin:20261013T090000
         DTEND;TZID=Europe/Berlin:20261013T100000
         RRULE:FREQ=WEEKLY;COUNT=6
         SUMMARY:Jour fixe",
    ));
    let got = import(&text, &opts(utc(2026, 10, 1, 0, 0), utc(2026, 12, 1, 0, 0)));
    let starts: Vec<Timestamp> = got.appointments.iter().map(|a| a.start).collect();
    assert_eq!(
        starts,
        vec![
            utc(2026, 10, 13, 7, 0),
            utc(2026, 10, 20, 7, 0),
            utc(2026, 10, 27, 8, 0),
            utc(2026, 11, 3, 8, 0),
            utc(2026, 11, 10, 8, 0),
            utc(2026, 11, 17, 8, 0),
        ]
    );
    assert!(
        got.appointments
            .iter()
            .all(|a| a.end.since(a.start).as_secs() == 3600)
    );
    assert_eq!(got.appointments[0].owner_subject(), Some("Jour fixe"));
    assert!(!got.truncated);
}

#[test]
fn spring_change_and_until_given_as_a_date() {
    let text = cal(&event(
        "UID:spring@test
         DTSTART;TZID=Europe/Berlin:20260323T083000
         DURATION:PT30M
         RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20260406",
    ));
    let got = import(&text, &opts(utc(2026, 3, 1, 0, 0), utc(2026, 5, 1, 0, 0)));
    let starts: Vec<Timestamp> = got.appointments.iter().map(|a| a.start).collect();
    assert_eq!(
        starts,
        vec![
            utc(2026, 3, 23, 7, 30),
            utc(2026, 3, 30, 6, 30),
            utc(2026, 4, 6, 6, 30)
        ]
    );
}

#[test]
fn exdate_and_recurrence_id_override_single_occurrences() {
    let master = event(
        "UID:daily@test
         DTSTART;TZID=Europe/Berlin:20261123T120000
         DTEND;TZID=Europe/Berlin:20261123T123000
         RRULE:FREQ=DAILY;COUNT=5
         EXDATE;TZID=Europe/Berlin:20261124T120000",
    );
    let moved = event(
        "UID:daily@test
         RECURRENCE-ID;TZID=Europe/Berlin:20261125T120000
         DTSTART;TZID=Europe/Berlin:20261125T140000
         DTEND;TZID=Europe/Berlin:20261125T143000",
    );
    let got = import(
        &cal(&(master + &moved)),
        &opts(utc(2026, 11, 1, 0, 0), utc(2026, 12, 1, 0, 0)),
    );
    let starts: Vec<Timestamp> = got.appointments.iter().map(|a| a.start).collect();
    assert_eq!(
        starts,
        vec![
            utc(2026, 11, 23, 11, 0),
            utc(2026, 11, 25, 13, 0),
            utc(2026, 11, 26, 11, 0),
            utc(2026, 11, 27, 11, 0),
        ]
    );
}

#[test]
fn window_keeps_running_occurrences_and_drops_the_rest() {
    // A daily all-day event from the past: today's occurrence is running at window start.
    let text = cal(&event(
        "UID:allday@test
         DTSTART;VALUE=DATE:20200101
         DTEND;VALUE=DATE:20200102
         RRULE:FREQ=DAILY",
    ));
    let now = utc(2026, 11, 23, 10, 0);
    let got = import(&text, &opts(now, utc(2026, 11, 26, 10, 0)));
    assert_eq!(got.appointments.len(), 4);
    let first = &got.appointments[0];
    // Berlin midnight to midnight.
    assert_eq!(
        (first.start, first.end),
        (utc(2026, 11, 22, 23, 0), utc(2026, 11, 23, 23, 0))
    );
    assert!(first.is_current(now));
}

#[test]
fn show_as_private_categories_and_invitations_are_mapped() {
    let events = [
        "UID:1\nDTSTART:20261123T080000Z\nDTEND:20261123T090000Z\nTRANSP:TRANSPARENT",
        "UID:2\nDTSTART:20261123T090000Z\nDTEND:20261123T100000Z\nX-MICROSOFT-CDO-BUSYSTATUS:OOF",
        "UID:3\nDTSTART:20261123T100000Z\nDTEND:20261123T110000Z\nX-MICROSOFT-CDO-BUSYSTATUS:WORKINGELSEWHERE",
        "UID:4\nDTSTART:20261123T110000Z\nDTEND:20261123T120000Z\nSTATUS:TENTATIVE\nCLASS:PRIVATE\nSUMMARY:Doctor",
        "UID:5\nDTSTART:20261123T120000Z\nDTEND:20261123T130000Z\nCATEGORIES:Work,@Do not disturb\nORGANIZER;CN=Boss:mailto:boss@example.org",
        "UID:6\nDTSTART:20261123T130000Z\nDTEND:20261123T140000Z\nORGANIZER:MAILTO:Anna@example.org",
        "UID:7\nDTSTART:20261123T140000Z\nDTEND:20261123T150000Z\nSTATUS:CANCELLED",
    ];
    let text = cal(&events.iter().map(|e| event(e)).collect::<String>());
    let me = ["anna@example.org".to_owned()];
    let o = ImportOptions {
        owner_addresses: &me,
        ..opts(utc(2026, 11, 23, 0, 0), utc(2026, 11, 24, 0, 0))
    };
    let got = import(&text, &o);
    assert_eq!(got.skipped, 1, "the cancelled one");
    let a = &got.appointments;
    let shows: Vec<ShowAs> = a.iter().map(|a| a.show_as).collect();
    assert_eq!(
        shows,
        [
            ShowAs::Free,
            ShowAs::OutOfOffice,
            ShowAs::WorkingElsewhere,
            ShowAs::Tentative,
            ShowAs::Busy,
            ShowAs::Busy
        ]
    );
    assert!(a[3].private);
    assert_eq!(a[3].owner_subject(), Some("Doctor"));
    assert_eq!(a[3].shareable_subject(), None);
    assert_eq!(
        a[4].profile_category.as_ref().unwrap().as_str(),
        "Do not disturb"
    );
    assert!(a[4].is_invitation());
    assert!(!a[5].is_invitation(), "organized by the owner");
}

#[test]
fn floating_times_use_the_user_zone_and_unknown_tzids_fall_back_to_it() {
    let text = cal(
        &(event("UID:f\nDTSTART:20261123T090000\nDTEND:20261123T100000")
            + &event(
                "UID:w\nDTSTART;TZID=W. Europe Standard Time:20261123T110000\nDTEND;TZID=W. Europe Standard Time:20261123T120000",
            )),
    );
    let got = import(
        &text,
        &opts(utc(2026, 11, 23, 0, 0), utc(2026, 11, 24, 0, 0)),
    );
    assert_eq!(got.appointments[0].start, utc(2026, 11, 23, 8, 0));
    assert_eq!(got.appointments[1].start, utc(2026, 11, 23, 10, 0));
}

#[test]
fn oversized_non_utf8_and_deeply_nested_input_is_rejected() {
    let o = opts(utc(2026, 11, 23, 0, 0), utc(2026, 12, 23, 0, 0));
    let big = vec![b'A'; o.limits.max_bytes + 1];
    assert!(matches!(
        import_ics(&big, &o),
        Err(IcsError::TooLarge { .. })
    ));
    assert_eq!(
        import_ics(b"BEGIN:VCALENDAR\r\n\xff\xfe", &o),
        Err(IcsError::NotUtf8)
    );
    let deep = "BEGIN:X\r\n".repeat(100_000);
    assert!(matches!(
        import_ics(deep.as_bytes(), &o),
        Err(IcsError::TooDeep { .. })
    ));
    assert_eq!(import_ics(b"hello", &o), Err(IcsError::Syntax));
    assert_eq!(
        import_ics(b"", &o)
            .map(|i| i.appointments.len())
            .unwrap_or(0),
        0
    );
}

#[test]
fn unbounded_recurrences_are_capped() {
    let text = cal(&event(
        "UID:r\nDTSTART:20261123T080000Z\nDURATION:PT1H\nRRULE:FREQ=DAILY",
    ));
    let mut o = opts(utc(2026, 11, 23, 0, 0), utc(2036, 11, 23, 0, 0));
    o.limits.max_occurrences = 10;
    let got = import(&text, &o);
    assert_eq!(got.appointments.len(), 10);
    assert!(got.truncated);
}

#[test]
fn hostile_recurrences_stay_within_the_iteration_budget() {
    let started = Instant::now();
    let rules = [
        // Minutely since 1900: millions of instances before the window.
        "UID:m\nDTSTART:19000101T000000Z\nDURATION:PT1M\nRRULE:FREQ=MINUTELY",
        // Secondly with a filter that never matches.
        "UID:s\nDTSTART:20261123T000000Z\nDURATION:PT1S\nRRULE:FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30",
        // Nonsense and overlong rules.
        "UID:x\nDTSTART:20261123T000000Z\nDURATION:PT1H\nRRULE:FREQ=SOMETIMES;COUNT=-1",
        "UID:y\nDTSTART:20261123T000000Z\nDURATION:PT1H\nRRULE:FREQ=DAILY;INTERVAL=0",
    ];
    let mut text: String = rules.iter().map(|r| event(r)).collect();
    text.push_str(&event(&format!(
        "UID:z\nDTSTART:20261123T000000Z\nDURATION:PT1H\nRRULE:FREQ=DAILY;{}",
        "BYHOUR=1;".repeat(500)
    )));
    let got = import(
        &cal(&text),
        &opts(utc(2026, 11, 23, 0, 0), utc(2026, 12, 23, 0, 0)),
    );
    assert!(got.truncated || got.skipped > 0);
    assert!(got.appointments.len() <= ImportLimits::default().max_occurrences);
    assert!(
        started.elapsed().as_secs() < 20,
        "took {:?}",
        started.elapsed()
    );
}

/// A tiny deterministic generator, so the garbage is the same on every run.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

#[test]
fn garbage_never_panics() {
    let o = opts(utc(2026, 11, 23, 0, 0), utc(2026, 12, 23, 0, 0));
    let tokens = [
        "BEGIN:VCALENDAR",
        "END:VCALENDAR",
        "BEGIN:VEVENT",
        "END:VEVENT",
        "DTSTART:",
        "DTEND;VALUE=DATE:",
        "RRULE:FREQ=WEEKLY;BYDAY=",
        "20261123T0800",
        "00Z",
        ";TZID=",
        "Europe/Berlin",
        "\r\n",
        " ",
        ":",
        ";",
        ",",
        "EXDATE:",
        "RECURRENCE-ID:",
        "DURATION:P",
        "T1H",
        "CATEGORIES:@",
        "CLASS:PRIVATE",
        "\\",
        "\u{e9}",
        "\"",
        "UNTIL=20261",
        "COUNT=99999",
        "BEGIN:VALARM",
        "RDATE;VALUE=PERIOD:",
    ];
    let mut rng = Lcg(42);
    for _ in 0..2000 {
        let n = 1 + rng.next() % 60;
        let mut s = String::new();
        for _ in 0..n {
            s.push_str(tokens[(rng.next() % tokens.len() as u64) as usize]);
        }
        let _ = import_ics(s.as_bytes(), &o);
        let mut bytes = s.into_bytes();
        if !bytes.is_empty() {
            let i = (rng.next() % bytes.len() as u64) as usize;
            bytes[i] = (rng.next() % 256) as u8;
        }
        let _ = import_ics(&bytes, &o);
    }
}

#[test]
fn a_file_at_the_size_cap_imports_quickly_and_is_capped() {
    let o = opts(utc(2026, 11, 23, 0, 0), utc(2026, 12, 23, 0, 0));
    let one = event(
        "UID:bulk
         DTSTART:20261124T080000Z
         DTEND:20261124T090000Z
         SUMMARY:Bulk",
    );
    let n = (o.limits.max_bytes - 200) / one.len();
    let text = cal(&one.repeat(n));
    assert!(text.len() <= o.limits.max_bytes);
    let started = Instant::now();
    let got = import(&text, &o);
    assert_eq!(got.appointments.len(), o.limits.max_occurrences.min(n));
    assert_eq!(got.truncated, n > o.limits.max_occurrences);
    // A broken file of the same size fails fast too.
    let broken = text.replacen("END:VCALENDAR", "END:VCALENDA", 1);
    assert_eq!(import_ics(broken.as_bytes(), &o), Err(IcsError::Syntax));
    assert!(
        started.elapsed().as_secs() < 20,
        "took {:?}",
        started.elapsed()
    );
}
