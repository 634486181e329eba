//! XEP-0012: Last Activity 2.0, answered by the server for its own JID: the seconds since it
//! started (§5, "server uptime"). An account's bare JID does not answer it: when the person
//! was last online is presence detail, for those who hold the person's presence only, and the
//! node keeps no time of a user's last logout yet, so it stays `service-unavailable` for
//! everyone, as any iq to a bare JID other than ping and disco (docs/ACCESS.md).

use std::time::Duration;

use minidom::Element;

/// The namespace, for disco#info.
pub(crate) const NS: &str = "jabber:iq:last";

/// The server's answer to a last-activity query after `uptime`, or `None` if `payload` is not
/// one.
pub(crate) fn answer(payload: &Element, uptime: Duration) -> Option<Element> {
    if !payload.is("query", NS) {
        return None;
    }
    Some(
        Element::builder("query", NS)
            .attr(
                rxml::xml_ncname!("seconds").to_owned(),
                uptime.as_secs().to_string(),
            )
            .build(),
    )
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
}
