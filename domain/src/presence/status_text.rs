//! The human-readable status line ("On the phone", "In a meeting until 14:00", "Mobile only").
//!
//! Rendered only from the fields of an [`EffectivePresence`], so a copy filtered for a viewer with
//! less permission can be re-rendered and never leaks what was removed. Pieces are joined with
//! " · " in a fixed order: headline, call, ringing, device hint, note.

use super::availability::Availability;
use super::claims::SourceKind;
use super::effective::EffectivePresence;
use super::line::call_summary;
use super::time::{Timestamp, UtcOffset};

/// Separator between the pieces of a status line.
const SEP: &str = " · ";

/// Renders the status line of `p` at `now`, with times in `offset`.
pub fn render(p: &EffectivePresence, now: Timestamp, offset: UtcOffset) -> String {
    if p.availability == Availability::Offline {
        return Availability::Offline.label().to_owned();
    }
    let mut pieces: Vec<String> = Vec::new();
    let call = call_summary(&p.lines);
    if p.source == Some(SourceKind::Line) {
        // The phone decided: the call is the headline ("On the phone").
        if let Some(call) = call {
            pieces.push(call.phrase().to_owned());
        }
    } else {
        if let Some(head) = headline(p, now, offset) {
            pieces.push(head);
        }
        // A call under another headline (do-not-disturb, presenting) is still shown (rule 13).
        if let Some(call) = call {
            pieces.push(call.phrase().to_owned());
        }
    }
    if p.lamp.ringing() {
        pieces.push("Ringing".to_owned());
    }
    if p.mobile_only() {
        pieces.push("Mobile only".to_owned());
    }
    if let Some(note) = &p.note {
        pieces.push(note.as_str().to_owned());
    }
    if pieces.is_empty() {
        return Availability::Available.label().to_owned();
    }
    pieces.join(SEP)
}

/// The winner's phrase: the profile name if a profile decided (pascom S15: the profile name is the
/// status text), else the activity, else the availability; with "until" when known. Plain
/// "Available" is left out so that "Ringing" or "Mobile only" stand alone.
fn headline(p: &EffectivePresence, now: Timestamp, offset: UtcOffset) -> Option<String> {
    let mut head = match (&p.profile, p.activity) {
        (Some(name), _) if p.source == Some(SourceKind::Profile) => name.as_str().to_owned(),
        (_, Some(activity)) => activity.label().to_owned(),
        (_, None) if p.availability == Availability::Available && p.until.is_none() => return None,
        (_, None) if p.until.is_none() && own_words(p) => return None,
        (_, None) => p.availability.label().to_owned(),
    };
    if let Some(until) = p.until {
        head.push_str(" until ");
        head.push_str(&offset.format_until(until, now));
    }
    Some(head)
}

/// Whether the note is in the person's own words (a client's `<status/>`, the manual setting):
/// then a headline that only names the availability would repeat what `<show/>` already says
/// ("Do not disturb · In a meeting"), so the note alone is the status, as typed. Where the note
/// came from is hidden below team, but a note shown there is always the person's own words
/// (docs/ACCESS.md), so every level renders the same line.
fn own_words(p: &EffectivePresence) -> bool {
    p.note.is_some()
        && p.note_source
            .is_none_or(|s| matches!(s, SourceKind::Client | SourceKind::Manual))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;

    #[test]
    fn a_filtered_copy_re_renders_without_the_removed_fields() {
        let mut s = Sources::default();
        desktop(&mut s);
        booking(&mut s, t(0), t(360), BookingKind::Busy);
        s.calendar[0].subject = Some(note("Merger talks"));
        let full = agg(&s, t(1));
        assert_eq!(full.status_line, "In a meeting until 14:00 · Merger talks");
        // What an access rule for a "business" viewer would do: keep the time, drop the subject.
        let mut business = full.clone();
        business.note = None;
        business.note_source = None;
        let line = render_status_line(&business, t(1), UtcOffset::UTC);
        assert_eq!(line, "In a meeting until 14:00");
    }

    #[test]
    fn what_the_person_types_is_the_status_as_typed() {
        // A client's `<show>dnd</show><status>In a meeting</status>`: the show says the state,
        // the status is the person's own words and is not prefixed with "Do not disturb".
        let mut s = Sources::default();
        connect(
            &mut s,
            "desktop",
            DeviceKind::Desktop,
            ClientShow::DoNotDisturb,
        );
        s.clients.get_mut("desktop").unwrap().status = Some(note("In a meeting"));
        let p = agg(&s, t(1));
        assert_eq!(p.availability, Availability::DoNotDisturb);
        assert_eq!(p.status_line, "In a meeting");
        // The same line at business, where the state's source and the note's are hidden.
        let mut business = p.clone();
        business.source = None;
        business.note_source = None;
        assert_eq!(
            render_status_line(&business, t(1), UtcOffset::UTC),
            "In a meeting"
        );
        // What came from elsewhere is still added: a call on the desk phone.
        set_line(&mut s, "201", call());
        assert_eq!(agg(&s, t(1)).status_line, "On the phone · In a meeting");

        // The manual setting in the person's words, with nothing else to say: the words alone.
        let mut s = Sources::default();
        desktop(&mut s);
        manual(&mut s, ManualAvailability::Away, t(0));
        s.manual.as_mut().unwrap().note = Some(note("coffee"));
        assert_eq!(agg(&s, t(1)).status_line, "coffee");
        // An end time is more than the show says: the headline stays.
        s.manual.as_mut().unwrap().until = Some(t(60));
        assert!(agg(&s, t(1)).status_line.starts_with("Away until "));
        // Without words the state is named, as before.
        let mut s = Sources::default();
        connect(
            &mut s,
            "desktop",
            DeviceKind::Desktop,
            ClientShow::DoNotDisturb,
        );
        assert_eq!(agg(&s, t(1)).status_line, "Do not disturb");
    }

    #[test]
    fn a_call_under_dnd_still_publishes_on_the_phone() {
        let mut s = Sources::default();
        desktop(&mut s);
        manual(&mut s, ManualAvailability::DoNotDisturb, t(0));
        set_line(&mut s, "201", call());
        let p = agg(&s, t(1));
        assert_eq!(p.status_line, "Do not disturb · On the phone");
        let a = p.user_activity().unwrap();
        assert_eq!((a.general, a.specific), ("talking", Some("on_the_phone")));
    }
}
