//! Resource binding (RFC 6120 §7) and the legacy session establishment of RFC 3921
//! §3 that old clients still send (answered with an empty result, as RFC 6121 §1.4
//! allows).

use jid::FullJid;
use minidom::Element;

use crate::ns::{BIND, JABBER_CLIENT, SESSION, XMPP_STANZAS};
use crate::router::BindError;

/// A client's bind request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BindRequest {
    /// The iq id to answer.
    pub(crate) id: String,
    /// The requested resource; `None` lets the server choose.
    pub(crate) resource: Option<String>,
}

/// `None` when `el` is not a bind iq; otherwise the request, or the error reply for a
/// malformed one.
pub(crate) fn bind_request(el: &Element) -> Option<Result<BindRequest, Element>> {
    if !el.is("iq", JABBER_CLIENT) || el.attr("type") != Some("set") {
        return None;
    }
    let bind = el.get_child("bind", BIND)?;
    let id = el.attr("id").unwrap_or_default().to_owned();
    if id.is_empty() || el.children().count() != 1 {
        return Some(Err(error(&id, "modify", "bad-request")));
    }
    let resource = bind
        .get_child("resource", BIND)
        .map(Element::text)
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    Some(Ok(BindRequest { id, resource }))
}

/// The result carrying the bound JID (RFC 6120 §7.6.1).
pub(crate) fn bind_result(id: &str, jid: &FullJid) -> Element {
    Element::builder("iq", JABBER_CLIENT)
        .attr(rxml::xml_ncname!("type").to_owned(), "result")
        .attr(rxml::xml_ncname!("id").to_owned(), id)
        .append(
            Element::builder("bind", BIND)
                .append(
                    Element::builder("jid", BIND)
                        .append(jid.to_string())
                        .build(),
                )
                .build(),
        )
        .build()
}

/// The error for a refused bind (RFC 6120 §7.6.2).
pub(crate) fn bind_error(id: &str, e: &BindError) -> Element {
    match e {
        BindError::BadResource => error(id, "modify", "bad-request"),
        BindError::TooManySessions => error(id, "cancel", "resource-constraint"),
    }
}

/// The answer to a legacy session request; `None` when `el` is not one.
pub(crate) fn session_reply(el: &Element) -> Option<Element> {
    if !el.is("iq", JABBER_CLIENT)
        || el.attr("type") != Some("set")
        || !el.has_child("session", SESSION)
    {
        return None;
    }
    let id = el.attr("id").unwrap_or_default();
    Some(
        Element::builder("iq", JABBER_CLIENT)
            .attr(rxml::xml_ncname!("type").to_owned(), "result")
            .attr(rxml::xml_ncname!("id").to_owned(), id)
            .build(),
    )
}

fn error(id: &str, kind: &str, condition: &str) -> Element {
    Element::builder("iq", JABBER_CLIENT)
        .attr(rxml::xml_ncname!("type").to_owned(), "error")
        .attr(rxml::xml_ncname!("id").to_owned(), id)
        .append(
            Element::builder("error", JABBER_CLIENT)
                .attr(rxml::xml_ncname!("type").to_owned(), kind)
                .append(Element::builder(condition, XMPP_STANZAS).build())
                .build(),
        )
        .build()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Element {
        s.parse().unwrap()
    }

    #[test]
    fn bind_requests() {
        let el = parse(
            "<iq xmlns='jabber:client' type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource> phone </resource></bind></iq>",
        );
        assert_eq!(
            bind_request(&el).unwrap().unwrap(),
            BindRequest {
                id: "b1".into(),
                resource: Some("phone".into())
            }
        );
        let el = parse(
            "<iq xmlns='jabber:client' type='set' id='b2'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>",
        );
        assert_eq!(bind_request(&el).unwrap().unwrap().resource, None);
        let el = parse(
            "<iq xmlns='jabber:client' type='set'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>",
        );
        assert!(bind_request(&el).unwrap().is_err());
        let el = parse(
            "<iq xmlns='jabber:client' type='get' id='x'><query xmlns='jabber:iq:roster'/></iq>",
        );
        assert!(bind_request(&el).is_none());
    }

    #[test]
    fn replies() {
        let jid = FullJid::new("a@example.com/r").unwrap();
        let s = String::from(&bind_result("b1", &jid));
        assert!(s.contains("<jid>a@example.com/r</jid>"), "{s}");
        let e = String::from(&bind_error("b1", &BindError::TooManySessions));
        assert!(
            e.contains("resource-constraint") && e.contains("type='cancel'"),
            "{e}"
        );
        let el = parse(
            "<iq xmlns='jabber:client' type='set' id='s1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>",
        );
        let r = session_reply(&el).unwrap();
        assert_eq!((r.attr("type"), r.attr("id")), (Some("result"), Some("s1")));
    }
}
