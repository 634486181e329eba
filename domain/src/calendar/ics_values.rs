//! RFC 5545 value types the import needs (§3.3.4 DATE, §3.3.5 DATE-TIME, §3.3.6 DURATION,
//! §3.3.11 TEXT), parsed from untrusted text without panicking.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use icalendar::parser::Property;

use super::zone::Zone;
use crate::presence::{MAX_NOTE_BYTES, Note, Timestamp};

/// A DTSTART/DTEND/EXDATE/RDATE/RECURRENCE-ID value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IcsTime {
    /// An all-day date, in the zone the event is read in.
    Date(NaiveDate),
    /// A wall-clock time in a zone (a `TZID`, or the user's zone for floating times).
    Local(NaiveDateTime, Zone),
    /// A UTC time (`Z` suffix).
    Utc(NaiveDateTime),
}

impl IcsTime {
    /// The instant it denotes; a date means local midnight.
    pub(crate) fn instant(self, zone: Zone) -> Option<Timestamp> {
        match self {
            IcsTime::Date(d) => zone.resolve(d.and_time(NaiveTime::MIN)),
            IcsTime::Local(t, z) => z.resolve(t),
            IcsTime::Utc(t) => super::zone::from_utc(t.and_utc()),
        }
    }

    /// The zone a recurrence of this start is expanded in.
    pub(crate) fn zone(self, default: Zone) -> Zone {
        match self {
            IcsTime::Date(_) => default,
            IcsTime::Local(_, z) => z,
            IcsTime::Utc(_) => Zone::UTC,
        }
    }
}

/// The value of a parameter, unquoted.
pub(crate) fn param<'a>(p: &'a Property<'_>, key: &str) -> Option<&'a str> {
    p.params
        .iter()
        .find(|x| x.key.as_str().eq_ignore_ascii_case(key))
        .and_then(|x| x.val.as_ref())
        .map(|v| v.as_str().trim_matches('"'))
}

/// Parses one date or date-time value. An unknown `TZID` (Windows zone names, custom VTIMEZONEs)
/// falls back to the user's zone: an hour off is better than losing the appointment.
pub(crate) fn parse_time(value: &str, tzid: Option<&str>, default: Zone) -> Option<IcsTime> {
    let v = value.trim();
    if v.len() == 8 {
        return NaiveDate::parse_from_str(v, "%Y%m%d")
            .ok()
            .map(IcsTime::Date);
    }
    if let Some(utc) = v.strip_suffix('Z') {
        return NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S")
            .ok()
            .map(IcsTime::Utc);
    }
    let t = NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%S").ok()?;
    let zone = tzid
        .map(|z| z.trim_start_matches('/'))
        .and_then(|z| z.parse::<Zone>().ok())
        .unwrap_or(default);
    Some(IcsTime::Local(t, zone))
}

/// Parses every value of a (possibly comma-separated) date list property.
pub(crate) fn parse_times(p: &Property<'_>, default: Zone) -> Vec<IcsTime> {
    let tzid = param(p, "TZID");
    p.val
        .as_str()
        .split(',')
        .take(MAX_LIST_VALUES)
        .filter_map(|v| parse_time(v, tzid, default))
        .collect()
}

/// At most this many values are read from one list property.
const MAX_LIST_VALUES: usize = 1000;

/// Parses a non-negative DURATION (`P1D`, `PT1H30M`, `P2W`) into seconds.
pub(crate) fn parse_duration(value: &str) -> Option<u64> {
    let v = value.trim();
    let v = v.strip_prefix('+').unwrap_or(v);
    let mut rest = v.strip_prefix('P')?;
    let mut secs: u64 = 0;
    let mut in_time = false;
    let mut any = false;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('T') {
            in_time = true;
            rest = r;
            continue;
        }
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        let n: u64 = rest.get(..digits)?.parse().ok()?;
        let unit = rest.get(digits..digits + 1)?;
        let factor = match (unit, in_time) {
            ("W", false) => 7 * 86_400,
            ("D", false) => 86_400,
            ("H", true) => 3600,
            ("M", true) => 60,
            ("S", true) => 1,
            _ => return None,
        };
        secs = secs.checked_add(n.checked_mul(factor)?)?;
        rest = rest.get(digits + 1..)?;
        any = true;
    }
    any.then_some(secs)
}

/// RFC 5545 TEXT unescaping, then cut to one bounded line for a [`Note`]; `None` when empty.
pub(crate) fn text_note(value: &str) -> Option<Note> {
    let mut out = String::with_capacity(value.len().min(MAX_NOTE_BYTES));
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        let c = if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => ' ',
                Some(other) => other,
                None => break,
            }
        } else if c.is_control() {
            ' '
        } else {
            c
        };
        if out.len() + c.len_utf8() > MAX_NOTE_BYTES {
            break;
        }
        out.push(c);
    }
    Note::new(out.trim()).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_garbage_does_not() {
        assert_eq!(parse_duration("PT1H30M"), Some(5400));
        assert_eq!(parse_duration("P1D"), Some(86_400));
        assert_eq!(parse_duration("P2W"), Some(14 * 86_400));
        assert_eq!(parse_duration("P1DT1S"), Some(86_401));
        for bad in [
            "",
            "P",
            "-PT1H",
            "PT",
            "P1H",
            "PT1D",
            "P99999999999D",
            "PT1",
            "P1Dx",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn times_parse_with_zone_utc_date_and_unknown_zone() {
        let berlin: Zone = "Europe/Berlin".parse().unwrap();
        assert!(matches!(
            parse_time("20261020T090000", Some("Europe/Berlin"), Zone::UTC),
            Some(IcsTime::Local(_, z)) if z == berlin
        ));
        assert!(matches!(
            parse_time("20261020T090000", Some("W. Europe Standard Time"), berlin),
            Some(IcsTime::Local(_, z)) if z == berlin
        ));
        assert!(matches!(
            parse_time("20261020T090000Z", None, berlin),
            Some(IcsTime::Utc(_))
        ));
        assert!(matches!(
            parse_time("20261020", None, berlin),
            Some(IcsTime::Date(_))
        ));
        assert_eq!(parse_time("2026-10-20", None, berlin), None);
        assert_eq!(parse_time("20261340T250000", None, berlin), None);
    }

    #[test]
    fn text_is_unescaped_and_bounded() {
        assert_eq!(text_note("a\\, b\\;c\\nd").unwrap().as_str(), "a, b;c d");
        assert!(text_note("   ").is_none());
        let long = "é".repeat(1000);
        assert!(text_note(&long).unwrap().as_str().len() <= MAX_NOTE_BYTES);
    }
}
