//! Builders for the presence tests: simulated time in minutes and terse source constructors.

use super::*;

/// 2025-11-24 08:00:00 UTC, a Monday morning; every test clock counts minutes from here.
const BASE_MS: u64 = 1_763_971_200_000;

/// `min` minutes after the base instant (08:00 UTC).
pub(crate) fn t(min: u64) -> Timestamp {
    Timestamp::from_unix_ms(BASE_MS + min * 60_000)
}

pub(crate) fn note(s: &str) -> Note {
    Note::new(s).unwrap()
}

pub(crate) fn settings() -> Settings {
    Settings::default()
}

pub(crate) fn agg(s: &Sources, now: Timestamp) -> EffectivePresence {
    aggregate(s, now, &settings())
}

/// Connects a client resource that is active (no idle).
pub(crate) fn connect(s: &mut Sources, resource: &str, device: DeviceKind, show: ClientShow) {
    s.clients.insert(
        resource.to_owned(),
        ClientPresence {
            device,
            priority: 0,
            show,
            status: None,
            idle_since: None,
        },
    );
}

pub(crate) fn desktop(s: &mut Sources) {
    connect(s, "desktop", DeviceKind::Desktop, ClientShow::Available);
}

pub(crate) fn set_line(s: &mut Sources, id: &str, state: LineState) {
    s.lines.insert(LineId::new(id).unwrap(), state);
}

pub(crate) fn call() -> LineState {
    LineState::OnCall(Call::default())
}

pub(crate) fn manual(s: &mut Sources, availability: ManualAvailability, since: Timestamp) {
    s.manual = Some(Manual {
        availability,
        activity: None,
        note: None,
        until: None,
        since,
    });
}

pub(crate) fn external(
    s: &mut Sources,
    name: &str,
    availability: Settable,
    activity: Option<Activity>,
    expires: Timestamp,
) {
    s.external.insert(
        SourceName::new(name).unwrap(),
        ExternalSource {
            availability,
            activity,
            note: None,
            expires,
        },
    );
}

pub(crate) fn booking(s: &mut Sources, start: Timestamp, end: Timestamp, show_as: BookingKind) {
    s.calendar.push(Booking {
        start,
        end,
        show_as,
        subject: None,
        private: false,
    });
}

pub(crate) fn profile(s: &mut Sources, name: &str, availability: Settable, since: Timestamp) {
    s.profile = Some(ProfileSource {
        name: ProfileName::new(name).unwrap(),
        availability,
        activity: None,
        note: None,
        until: None,
        since,
    });
}
