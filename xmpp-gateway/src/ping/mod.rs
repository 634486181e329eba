//! XEP-0199: XMPP Ping, answered by the server for itself and for an account's bare JID.

use jid::Jid;
use minidom::Element;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::ns;

/// Whether an iq get payload is a ping.
pub(crate) fn is_ping(payload: &Element) -> bool {
    payload.is("ping", ns::PING)
}

/// The pong: an empty result from the pinged entity (XEP-0199 §4.2, §4.3).
pub(crate) fn pong(id: &str, requester: Jid, pinged: Jid) -> Element {
    Iq::Result {
        from: Some(pinged),
        to: Some(requester),
        id: id.to_owned(),
        payload: None,
    }
    .into()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn pong_is_empty_result() {
        let ping: Element = "<ping xmlns='urn:xmpp:ping'/>".parse().unwrap();
        assert!(is_ping(&ping));
        let e = pong("p1", Jid::new("u@d/r").unwrap(), Jid::new("d").unwrap());
        assert_eq!(e.attr("type"), Some("result"));
        assert_eq!(e.attr("id"), Some("p1"));
        assert_eq!(e.attr("to"), Some("u@d/r"));
        assert_eq!(e.children().count(), 0);
    }
}
