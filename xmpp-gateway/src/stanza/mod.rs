//! RFC 6120 §8.1.1 and §8.3: what every feature does to stanzas. Addressing is here, done on
//! the element itself so that a stanza built once can be readdressed cheaply for each
//! recipient of a fan-out; `error` builds stanza error replies.

pub(crate) mod error;

use std::sync::Arc;

use minidom::Element;
use rxml::{Namespace, xml_ncname};

use crate::stream::escape_attr;

/// Set the `to` attribute.
pub(crate) fn set_to(stanza: &mut Element, to: &str) {
    stanza.set_attr(Namespace::NONE, xml_ncname!("to").to_owned(), to);
}

/// Set the `from` attribute.
pub(crate) fn set_from(stanza: &mut Element, from: &str) {
    stanza.set_attr(Namespace::NONE, xml_ncname!("from").to_owned(), from);
}

/// Server-built presences carry no priority; the serializer always writes one.
pub(crate) fn without_priority(mut el: Element) -> Element {
    el.remove_child("priority", xmpp_parsers::ns::DEFAULT_NS);
    el
}

/// A stanza serialized once and addressed per recipient: a presence broadcast to a thousand
/// watchers is turned into XML once, and each copy is those bytes with its `to` spliced in
/// after the element name (attribute order is free in XML).
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    xml: String,
    /// Byte offset just after `<name`.
    split: usize,
}

impl Prepared {
    /// `None` when the stanza is addressed already or cannot be serialized; the caller then
    /// addresses the element itself.
    pub(crate) fn new(stanza: &Element) -> Option<Prepared> {
        if stanza.attr("to").is_some() {
            return None;
        }
        let mut raw = Vec::new();
        stanza.write_to(&mut raw).ok()?;
        let xml = String::from_utf8(raw).ok()?;
        let split = 1 + stanza.name().len();
        let opens = xml.strip_prefix('<')?.strip_prefix(stanza.name())?;
        if !opens.starts_with([' ', '/', '>']) {
            return None;
        }
        Some(Prepared { xml, split })
    }

    /// The stanza's bytes, unaddressed.
    pub(crate) fn xml(&self) -> &str {
        &self.xml
    }

    /// The stanza's bytes addressed to `to`.
    pub(crate) fn addressed(&self, to: &str) -> Arc<str> {
        let to = escape_attr(to);
        let (head, tail) = self.xml.split_at(self.split);
        let mut out = String::with_capacity(self.xml.len() + to.len() + 6);
        out.push_str(head);
        out.push_str(" to='");
        out.push_str(&to);
        out.push('\'');
        out.push_str(tail);
        Arc::from(out)
    }
}

/// A stanza prepared once for a fan-out to many recipients: the element for those that need one
/// (remote domains, whose s2s stream serializes it) and its prepared bytes for local sessions.
pub(crate) struct FanoutStanza {
    pub(crate) element: Element,
    pub(crate) prepared: Option<Prepared>,
}

impl FanoutStanza {
    pub(crate) fn new(element: Element) -> FanoutStanza {
        let prepared = Prepared::new(&element);
        FanoutStanza { element, prepared }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn prepared_is_the_element_addressed() {
        let e: Element = "<presence xmlns='jabber:client' from='a@b/r'><show>away</show>\
                          <status>in a 'meeting' &amp; more</status></presence>"
            .parse()
            .unwrap();
        let p = Prepared::new(&e).unwrap();
        let back: Element = p.addressed("c'd@e").parse().unwrap();
        let mut expected = e.clone();
        set_to(&mut expected, "c'd@e");
        assert_eq!(back, expected);
        let empty: Element = "<presence xmlns='jabber:client'/>".parse().unwrap();
        let back: Element = Prepared::new(&empty)
            .unwrap()
            .addressed("x@y")
            .parse()
            .unwrap();
        assert_eq!(back.attr("to"), Some("x@y"));
        let mut addressed = empty;
        set_to(&mut addressed, "z@y");
        assert!(Prepared::new(&addressed).is_none(), "never two `to`s");
    }

    #[test]
    fn readdress() {
        let mut e: Element = "<presence xmlns='jabber:client' from='forged@x' to='a@b'/>"
            .parse()
            .unwrap();
        set_to(&mut e, "c@d");
        assert_eq!(e.attr("from"), Some("forged@x"), "only `to` changes");
        assert_eq!(e.attr("to"), Some("c@d"));
        let mut f: Element = "<presence xmlns='jabber:client'/>".parse().unwrap();
        set_to(&mut f, "c@d");
        assert_eq!(f.attr("to"), Some("c@d"));
    }
}

/// Whether `iq` is a get or set whose payload is `<query/>` in `ns`.
pub(crate) fn is_query(iq: &xmpp_parsers::iq::Iq, ns: &str) -> bool {
    use xmpp_parsers::iq::Iq;
    match iq {
        Iq::Get { payload, .. } | Iq::Set { payload, .. } => payload.is("query", ns),
        Iq::Result { .. } | Iq::Error { .. } => false,
    }
}

/// XEP-0082 date-time in UTC, to the millisecond (XEP-0203 and XEP-0313 stamps).
pub(crate) const STAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3fZ";

/// The result of a get or set `id`, from `replier` (none: the user's own account, RFC 6120
/// §8.1.2.1) to `requester`, with `payload` if it carries one.
pub(crate) fn iq_result(
    id: &str,
    requester: jid::Jid,
    replier: Option<jid::Jid>,
    payload: Option<Element>,
) -> Element {
    xmpp_parsers::iq::Iq::Result {
        from: replier,
        to: Some(requester),
        id: id.to_owned(),
        payload,
    }
    .into()
}
