//! XEP-0012: Last Activity 2.0. The server answers for its own JID with the seconds since it
//! started (§5, "server uptime"), and for an account's bare JID (§3, "offline user query") with
//! the seconds since the user's last client went offline and the status of its last unavailable
//! presence, or 0 while the user is shown online (§3: a user with an available resource). When
//! a person was last online is presence detail: only viewers at team and above (and the user)
//! get it. Everyone else gets what they got before the node kept it: `service-unavailable`, the
//! answer to any iq to a bare JID the server does not answer for an account, the same whatever
//! the person's state (docs/ACCESS.md).
//!
//! The time is kept per account through the `Backend`, written when the user's last available
//! session goes unavailable or ends, never per stanza (`handler.rs`).

mod handler;

use std::time::Duration;

use minidom::Element;
use xmpp_parsers::presence::Presence;

use crate::ports::authority::AccessLevel;

/// The namespace, for disco#info.
pub(crate) const NS: &str = "jabber:iq:last";

/// The lowest level that learns when the person was last online (docs/ACCESS.md).
pub(crate) const SHOWN_FROM: AccessLevel = AccessLevel::Team;

/// Longest status kept with a logout, in bytes; a longer one is cut at a character boundary.
const MAX_STATUS_BYTES: usize = 1024;

/// Whether `payload` is a last-activity query.
pub(crate) fn is_query(payload: &Element) -> bool {
    payload.is("query", NS)
}

/// `<query seconds='…'>status</query>`.
pub(crate) fn query(seconds: u64, status: Option<&str>) -> Element {
    let mut q = Element::builder("query", NS)
        .attr(rxml::xml_ncname!("seconds").to_owned(), seconds.to_string())
        .build();
    if let Some(status) = status {
        q.append_text(status);
    }
    q
}

/// The server's answer to a last-activity query after `uptime`, or `None` if `payload` is not
/// one.
pub(crate) fn answer(payload: &Element, uptime: Duration) -> Option<Element> {
    is_query(payload).then(|| query(uptime.as_secs(), None))
}

/// The status of an unavailable presence worth keeping: the one without a language, else the
/// first, cut to [`MAX_STATUS_BYTES`].
pub(crate) fn status_of(presence: &Presence) -> Option<String> {
    let text = presence
        .statuses
        .get("")
        .or_else(|| presence.statuses.values().next())?;
    let mut end = text.len().min(MAX_STATUS_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let kept = text[..end].trim();
    (!kept.is_empty()).then(|| kept.to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn gives_whole_seconds_of_uptime() {
        let query: Element = "<query xmlns='jabber:iq:last'/>".parse().unwrap();
        let el = answer(&query, Duration::from_millis(61_900)).unwrap();
        assert_eq!(el.attr("seconds"), Some("61"));
        assert!(el.is("query", NS));
        let ping: Element = "<ping xmlns='urn:xmpp:ping'/>".parse().unwrap();
        assert!(answer(&ping, Duration::ZERO).is_none());
    }

    #[test]
    fn keeps_a_bounded_status_of_the_goodbye() {
        let parse = |xml: &str| Presence::try_from(xml.parse::<Element>().unwrap()).unwrap();
        let p = parse(
            "<presence xmlns='jabber:client' type='unavailable'>\
             <status xml:lang='de'>weg</status><status>gone home</status></presence>",
        );
        assert_eq!(status_of(&p).as_deref(), Some("gone home"));
        let long = "é".repeat(MAX_STATUS_BYTES);
        let p = parse(&format!(
            "<presence xmlns='jabber:client' type='unavailable'><status>{long}</status></presence>"
        ));
        let kept = status_of(&p).unwrap();
        assert!(kept.len() <= MAX_STATUS_BYTES && kept.chars().all(|c| c == 'é'));
        let p = parse("<presence xmlns='jabber:client' type='unavailable'/>");
        assert_eq!(status_of(&p), None);
        let q = query(42, Some("gone home"));
        assert_eq!(
            (q.attr("seconds"), q.text().as_str()),
            (Some("42"), "gone home")
        );
    }
}
