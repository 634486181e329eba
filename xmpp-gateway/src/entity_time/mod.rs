//! XEP-0202: Entity Time 2.0, answered by the server for its own JID only (an account's bare
//! JID stays `service-unavailable`, docs/ACCESS.md). The server gives UTC with offset
//! `+00:00`: clients use it to correct their clock, and the host's zone says nothing useful.

use chrono::{DateTime, FixedOffset, Utc};
use minidom::Element;
use xmpp_parsers::time::TimeResult;

/// The namespace, for disco#info.
pub(crate) use xmpp_parsers::ns::TIME as NS;

/// The server's answer to a time query at `now`, or `None` if `payload` is not one.
pub(crate) fn answer(payload: &Element, now: DateTime<Utc>) -> Option<Element> {
    if !payload.is("time", NS) {
        return None;
    }
    let tz_offset = FixedOffset::east_opt(0)?;
    Some(
        TimeResult {
            tz_offset,
            utc: now,
        }
        .into(),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn gives_utc_with_a_zero_offset() {
        let query: Element = "<time xmlns='urn:xmpp:time'/>".parse().unwrap();
        let now = DateTime::parse_from_rfc3339("2026-12-08T02:20:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let el = answer(&query, now).unwrap();
        assert_eq!(
            el.get_child("utc", NS).unwrap().text(),
            "2026-12-08T02:20:05Z"
        );
        assert_eq!(el.get_child("tzo", NS).unwrap().text(), "+00:00");
        assert!(answer(&"<query xmlns='jabber:iq:version'/>".parse().unwrap(), now).is_none());
    }
}
