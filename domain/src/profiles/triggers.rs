//! Trigger settings of one user (XPhone T1–T4, pascom T6/T7) and the wall-clock arithmetic of
//! time triggers in the user's IANA zone.

use chrono::{Datelike, Duration as Days, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

use crate::calendar::{Appointment, ShowAs, Zone};
use crate::presence::{ProfileName, Timestamp};

/// Whether calendar and meeting events activate a full profile or only a simple presence. The
/// seeds disagree: ProCall (FEATURES D1) forms only a simple presence with no forwarding; XPhone
/// (T2/T3, D3) activates profiles with their forwarding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventMode {
    /// ProCall D1: the presence model shows "In a meeting"; no profile, no forwarding, no actions.
    #[default]
    SimplePresence,
    /// XPhone: the appointment's or meeting's profile becomes active with everything it does.
    FullProfile,
}

/// Days of the week a time trigger repeats on, Monday first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Weekdays(u8);

impl Weekdays {
    /// Monday to Friday.
    pub const WORKDAYS: Weekdays = Weekdays(0b0001_1111);
    /// Every day.
    pub const ALL: Weekdays = Weekdays(0b0111_1111);

    /// From a list of days.
    pub fn of(days: &[Weekday]) -> Self {
        Weekdays(
            days.iter()
                .fold(0, |acc, d| acc | 1 << d.num_days_from_monday()),
        )
    }

    /// Contains `day`.
    pub fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << day.num_days_from_monday()) != 0
    }
}

/// A time-of-day trigger (pascom T6): at `at` on `days`, activate `profile`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeTrigger {
    /// Local time in the user's zone.
    pub at: NaiveTime,
    /// Repeat days.
    pub days: Weekdays,
    /// The profile.
    pub profile: ProfileName,
    /// Disabled triggers are kept but never fire.
    pub enabled: bool,
}

impl TimeTrigger {
    /// The first firing strictly after `t`. A time in the spring gap fires when the gap ends.
    pub fn next_after(&self, zone: Zone, t: Timestamp) -> Option<Timestamp> {
        if !self.enabled || self.days == Weekdays::default() {
            return None;
        }
        let today = zone.local(t)?.date();
        (0..=8)
            .map(|d| today + Days::days(d))
            .filter(|d| self.days.contains(d.weekday()))
            .filter_map(|d| zone.resolve(d.and_time(self.at)))
            .find(|fire| *fire > t)
    }

    /// The last firing at or before `t`, looking back at most eight days.
    pub fn last_at_or_before(&self, zone: Zone, t: Timestamp) -> Option<Timestamp> {
        if !self.enabled || self.days == Weekdays::default() {
            return None;
        }
        let today = zone.local(t)?.date();
        (0..=8)
            .map(|d| today - Days::days(d))
            .filter(|d| self.days.contains(d.weekday()))
            .filter_map(|d| zone.resolve(d.and_time(self.at)))
            .find(|fire| *fire <= t)
    }
}

/// Inactivity trigger (XPhone T1, D2): after N idle minutes, or at once on screen lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InactivityTrigger {
    /// Minutes without input; `None` reacts only to screen lock.
    pub after_minutes: Option<u16>,
    /// React to screen lock at once.
    pub on_screen_lock: bool,
    /// The profile.
    pub profile: ProfileName,
}

/// Calendar trigger (XPhone T3/T4).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CalendarTrigger {
    /// Appointments activate profiles at all (only in [`EventMode::FullProfile`]).
    pub enabled: bool,
    /// Busy, tentative and out-of-office appointments without a profile category activate
    /// `default_profile`; `false` means only "@Profile" categories count.
    pub all_busy: bool,
    /// The profile for appointments that name none.
    pub default_profile: Option<ProfileName>,
    /// The default profile also applies to invitations the user did not organize.
    pub invitations: bool,
}

impl CalendarTrigger {
    /// The profile an appointment activates, if any. Free and working-elsewhere appointments never
    /// do; a category naming a profile always does (also for invitations); otherwise the default
    /// profile, for invitations only if configured.
    pub fn profile_for<'a>(&'a self, a: &'a Appointment) -> Option<&'a ProfileName> {
        if !self.enabled || matches!(a.show_as, ShowAs::Free | ShowAs::WorkingElsewhere) {
            return None;
        }
        if let Some(p) = &a.profile_category {
            return Some(p);
        }
        if !self.all_busy || (a.is_invitation() && !self.invitations) {
            return None;
        }
        self.default_profile.as_ref()
    }
}

/// Everything that decides which profile is active for one user.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfileSettings {
    /// The user's zone for time triggers.
    pub zone: Zone,
    /// Full profile or simple presence for calendar and meeting events.
    pub event_mode: EventMode,
    /// Time-of-day triggers.
    pub time: Vec<TimeTrigger>,
    /// Profile on client start (first session up).
    pub on_client_start: Option<ProfileName>,
    /// Profile on client exit (last session down).
    pub on_client_exit: Option<ProfileName>,
    /// Inactivity.
    pub inactivity: Option<InactivityTrigger>,
    /// Calendar.
    pub calendar: CalendarTrigger,
    /// Profile while an external meeting runs (pascom T7).
    pub meeting: Option<ProfileName>,
}

impl ProfileSettings {
    /// Calendar and meeting events activate profiles.
    pub fn full_profiles(&self) -> bool {
        self.event_mode == EventMode::FullProfile
    }

    /// The latest time-trigger firing in `(after, until]` and its profile.
    pub fn last_time_trigger(
        &self,
        after: Timestamp,
        until: Timestamp,
    ) -> Option<(Timestamp, &ProfileName)> {
        self.time
            .iter()
            .filter_map(|t| {
                t.last_at_or_before(self.zone, until)
                    .map(|at| (at, &t.profile))
            })
            .filter(|(at, _)| *at > after)
            .max_by_key(|(at, _)| *at)
    }

    /// The next time-trigger firing after `now`.
    pub fn next_time_trigger(&self, now: Timestamp) -> Option<Timestamp> {
        self.time
            .iter()
            .filter_map(|t| t.next_after(self.zone, now))
            .min()
    }
}
