//! Stanzas as a stream carries them (RFC 6120 §4.8.3, §8.3.1): moving a stanza between
//! the content namespaces of client and server streams, and the error a server answers
//! with when it cannot deliver one.
//!
//! Inside the gateway every stanza is in `jabber:client`, the only namespace
//! xmpp-parsers reads; the s2s streams rewrite on the way in and out, and the router
//! does the same for stanzas it hands to s2s or takes from it. Both use these helpers,
//! so they live below both.

use minidom::{Element, Node};
use rxml::xml_ncname;
use xmpp_parsers::stanza_error::DefinedCondition;

/// `el` with every element in namespace `from` moved to `to`; other namespaces (the
/// payloads) are left alone. Depth is bounded by the stream reader's nesting limit.
pub(crate) fn rewrite_ns(mut el: Element, from: &str, to: &str) -> Element {
    let nodes = el.take_nodes();
    let mut out = if el.ns() == from {
        let mut fresh = Element::builder(el.name(), to).build();
        *fresh.attrs_mut() = el.attrs().clone();
        fresh
    } else {
        el
    };
    for node in nodes {
        match node {
            Node::Element(child) => {
                out.append_child(rewrite_ns(child, from, to));
            }
            Node::Text(text) => out.append_text_node(text),
        }
    }
    out
}

/// The error type RFC 6120 §8.3.3 gives each condition a server raises for s2s.
fn error_type(condition: &DefinedCondition) -> &'static str {
    match condition {
        DefinedCondition::RemoteServerTimeout
        | DefinedCondition::ResourceConstraint
        | DefinedCondition::InternalServerError => "wait",
        DefinedCondition::BadRequest | DefinedCondition::JidMalformed => "modify",
        _ => "cancel",
    }
}

/// The element of a defined condition, as xmpp-parsers writes it (every RFC 6120 §8.3.3
/// condition, with its namespace).
fn condition_element(condition: &DefinedCondition) -> Element {
    Element::from(condition.clone())
}

/// The error answer to `stanza` (§8.3.1): same name and id, `from` and `to` swapped,
/// type `error`, the original payload kept for the sender's benefit. `None` when no
/// answer is allowed: to an error, an iq result, or a stanza without both addresses.
/// The namespace of the answer is the stanza's own.
pub(crate) fn error_reply(stanza: &Element, condition: DefinedCondition) -> Option<Element> {
    let kind = stanza.attr("type");
    if kind == Some("error") || (stanza.name() == "iq" && kind == Some("result")) {
        return None;
    }
    let (from, to) = (stanza.attr("from")?, stanza.attr("to")?);
    let ns = stanza.ns();
    let mut reply = Element::builder(stanza.name(), ns.as_str())
        .attr(xml_ncname!("type").to_owned(), "error")
        .attr(xml_ncname!("from").to_owned(), to)
        .attr(xml_ncname!("to").to_owned(), from)
        .build();
    if let Some(id) = stanza.attr("id") {
        reply.set_attr(rxml::Namespace::NONE, xml_ncname!("id").to_owned(), id);
    }
    // Presence payloads say nothing useful back; messages and iqs keep theirs.
    if stanza.name() != "presence" {
        for child in stanza.children() {
            reply.append_child(child.clone());
        }
    }
    let error = Element::builder("error", ns.as_str())
        .attr(xml_ncname!("type").to_owned(), error_type(&condition))
        .append(condition_element(&condition))
        .build();
    reply.append_child(error);
    Some(reply)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::ns::XMPP_STANZAS;
    use crate::ns::{JABBER_CLIENT as CLIENT_NS, JABBER_SERVER as SERVER_NS};

    #[test]
    fn every_condition_keeps_its_name() {
        // A refusal of another domain's request must say what it is, not "internal error".
        let iq: Element = "<iq xmlns='jabber:server' from='a@x/r' to='b@y' id='i' type='set'/>"
            .parse()
            .unwrap();
        for (condition, name) in [
            (DefinedCondition::Forbidden, "forbidden"),
            (DefinedCondition::NotAcceptable, "not-acceptable"),
            (
                DefinedCondition::FeatureNotImplemented,
                "feature-not-implemented",
            ),
            (DefinedCondition::Conflict, "conflict"),
            (DefinedCondition::ItemNotFound, "item-not-found"),
        ] {
            let e = error_reply(&iq, condition).unwrap();
            let err = e.get_child("error", SERVER_NS).unwrap();
            assert!(err.has_child(name, XMPP_STANZAS), "{}", String::from(&e));
        }
    }

    #[test]
    fn rewrite_moves_only_the_content_namespace() {
        let el: Element = "<message xmlns='jabber:server' from='a@x' to='b@y'><body>hi</body>\
             <x xmlns='urn:other'><y/></x></message>"
            .parse()
            .unwrap();
        let out = rewrite_ns(el, SERVER_NS, CLIENT_NS);
        assert!(out.is("message", CLIENT_NS));
        assert_eq!(out.attr("from"), Some("a@x"));
        assert_eq!(out.get_child("body", CLIENT_NS).unwrap().text(), "hi");
        let x = out.get_child("x", "urn:other").unwrap();
        assert!(x.has_child("y", "urn:other"));
        let back = rewrite_ns(out, CLIENT_NS, SERVER_NS);
        assert!(back.has_child("body", SERVER_NS));
    }

    #[test]
    fn error_reply_swaps_addresses_and_never_answers_errors() {
        let m: Element = "<message xmlns='jabber:client' from='a@x/r' to='b@y' id='m1' \
             type='chat'><body>hi</body></message>"
            .parse()
            .unwrap();
        let e = error_reply(&m, DefinedCondition::RemoteServerNotFound).unwrap();
        assert_eq!(e.attr("from"), Some("b@y"));
        assert_eq!(e.attr("to"), Some("a@x/r"));
        assert_eq!(e.attr("id"), Some("m1"));
        assert_eq!(e.attr("type"), Some("error"));
        let err = e.get_child("error", CLIENT_NS).unwrap();
        assert_eq!(err.attr("type"), Some("cancel"));
        assert!(err.has_child("remote-server-not-found", XMPP_STANZAS));
        let parsed = xmpp_parsers::message::Message::try_from(e.clone()).unwrap();
        assert_eq!(parsed.type_, xmpp_parsers::message::MessageType::Error);
        assert!(error_reply(&e, DefinedCondition::ServiceUnavailable).is_none());

        let p: Element = "<presence xmlns='jabber:client' from='a@x' to='b@y' type='subscribe'/>"
            .parse()
            .unwrap();
        let e = error_reply(&p, DefinedCondition::RemoteServerTimeout).unwrap();
        let err = e.get_child("error", CLIENT_NS).unwrap();
        assert_eq!(err.attr("type"), Some("wait"));
        let iq: Element = "<iq xmlns='jabber:client' from='a@x' to='b@y' type='result' id='1'/>"
            .parse()
            .unwrap();
        assert!(error_reply(&iq, DefinedCondition::RemoteServerTimeout).is_none());
    }
}
