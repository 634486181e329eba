//! Activity: what the user is doing (ProCall S13 "availability", Teams activity, RPID activities),
//! and its XEP-0108 User Activity mapping as plain data for the XMPP adapter.

use serde::{Deserialize, Serialize};

/// An activity that explains an availability ("Busy" because "In a meeting").
///
/// A closed list: every entry has an English label and an XEP-0108 mapping, so any client gets
/// something meaningful. Free text belongs in the note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    /// On a call (from the PBX, or an integration such as a meetings platform's call).
    OnThePhone,
    /// On a conference call (Teams `InAConferenceCall`).
    InAConferenceCall,
    /// In a meeting (calendar, or a meetings platform).
    InAMeeting,
    /// Presenting (Teams `Presenting`, shown as do-not-disturb there).
    Presenting,
    /// At lunch.
    Lunch,
    /// On a break (ProCall "Pause").
    Break,
    /// Out of office (calendar "show as out of office", auto-reply).
    OutOfOffice,
    /// On a business trip (ProCall "Dienstreise").
    BusinessTrip,
    /// Working from home (ProCall/pascom "Home Office").
    HomeOffice,
    /// On vacation (ProCall "Urlaub").
    Vacation,
}

/// An XEP-0108 `<activity/>` payload: a general category and an optional specific one, element
/// names exactly as in the XEP's schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserActivity {
    /// General activity element name, e.g. `talking`.
    pub general: &'static str,
    /// Specific activity element name, e.g. `on_the_phone`.
    pub specific: Option<&'static str>,
}

impl Activity {
    /// English label for status lines.
    pub fn label(self) -> &'static str {
        match self {
            Activity::OnThePhone => "On the phone",
            Activity::InAConferenceCall => "In a conference call",
            Activity::InAMeeting => "In a meeting",
            Activity::Presenting => "Presenting",
            Activity::Lunch => "At lunch",
            Activity::Break => "On a break",
            Activity::OutOfOffice => "Out of office",
            Activity::BusinessTrip => "On a business trip",
            Activity::HomeOffice => "Working from home",
            Activity::Vacation => "On vacation",
        }
    }

    /// The XEP-0108 mapping. Where the XEP has no specific value (out of office, home office) the
    /// general category alone is sent and the status line carries the detail.
    pub fn xep0108(self) -> UserActivity {
        let (general, specific) = match self {
            Activity::OnThePhone | Activity::InAConferenceCall => ("talking", Some("on_the_phone")),
            Activity::InAMeeting | Activity::Presenting => ("working", Some("in_a_meeting")),
            Activity::Lunch => ("eating", Some("having_lunch")),
            Activity::Break => ("relaxing", None),
            Activity::OutOfOffice => ("inactive", None),
            Activity::BusinessTrip => ("traveling", Some("on_a_trip")),
            Activity::HomeOffice => ("working", None),
            Activity::Vacation => ("inactive", Some("on_vacation")),
        };
        UserActivity { general, specific }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn phone_maps_to_talking_on_the_phone() {
        let a = Activity::OnThePhone.xep0108();
        assert_eq!((a.general, a.specific), ("talking", Some("on_the_phone")));
        let m = Activity::InAMeeting.xep0108();
        assert_eq!((m.general, m.specific), ("working", Some("in_a_meeting")));
    }

    #[test]
    fn activities_serialize_as_snake_case() {
        let s = serde_json::to_string(&Activity::OutOfOffice).unwrap();
        assert_eq!(s, "\"out_of_office\"");
    }
}
