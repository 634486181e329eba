//! Client extensions in broadcast presence (RFC 6121 §4.7.2: presence may carry extended
//! content), passed on by how much of the user a viewer may learn: XEP-0172 nick and XEP-0153
//! avatar hash with the person, XEP-0115 and XEP-0390 entity capabilities with each device,
//! anything else only to viewers who see everything. What the node renders itself (`<show/>`,
//! `<status/>`, `<priority/>`, XEP-0108 activity, XEP-0319 idle, its own namespaces) and what
//! must not be passed on (XEP-0203 delay, errors) is never kept.

use std::sync::Arc;

use minidom::Element;
use xmpp_parsers::presence::Presence;

use crate::ns::JABBER_CLIENT;
use crate::ports::authority::Disclosure;

/// Most extension elements kept per session; later ones are dropped.
pub(crate) const MAX_ELEMENTS: usize = 8;
/// Most bytes of serialized extensions kept per session; an element that would go beyond is
/// dropped.
pub(crate) const MAX_BYTES: usize = 4096;

/// XEP-0172 User Nickname.
const NICK: &str = "http://jabber.org/protocol/nick";
/// XEP-0153 vCard-Based Avatars, the hash in presence.
const AVATAR_HASH: &str = "vcard-temp:x:update";
/// XEP-0115 Entity Capabilities.
const CAPS: &str = "http://jabber.org/protocol/caps";
/// XEP-0390 Entity Capabilities 2.0.
const CAPS2: &str = "urn:xmpp:caps";
/// Namespaces never passed on: XEP-0203 delay (and its XEP-0091 predecessor), which would date
/// the presence; XEP-0319 idle and XEP-0108 activity, which the node renders from every source.
const STRIPPED: [&str; 4] = [
    "urn:xmpp:delay",
    "jabber:x:delay",
    "urn:xmpp:idle:1",
    "http://jabber.org/protocol/activity",
];
/// Every namespace of the node's own starts so (docs/PROTOCOL.md).
const NODE_NAMESPACES: &str = "urn:lampfield:";

/// The extensions one session put in its last broadcast presence, in the order it sent them.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Extensions(Option<Arc<[Extension]>>);

/// One extension element and the lowest disclosure that gets it.
#[derive(Debug, PartialEq)]
pub(crate) struct Extension {
    lowest: Disclosure,
    element: Element,
}

impl Extensions {
    /// What `p` carries that viewers may get, within [`MAX_ELEMENTS`] and [`MAX_BYTES`].
    pub(crate) fn of(p: &Presence) -> Extensions {
        let mut kept = Vec::new();
        let mut bytes = 0;
        for element in &p.payloads {
            if kept.len() == MAX_ELEMENTS {
                break;
            }
            let Some(lowest) = lowest(element) else {
                continue;
            };
            let size = serialized_len(element);
            if bytes + size > MAX_BYTES {
                continue;
            }
            bytes += size;
            kept.push(Extension {
                lowest,
                element: element.clone(),
            });
        }
        if kept.is_empty() {
            Extensions(None)
        } else {
            Extensions(Some(kept.into()))
        }
    }

    /// The elements a viewer at `disclosure` gets, in the client's order.
    pub(crate) fn at(&self, disclosure: Disclosure) -> impl Iterator<Item = &Element> {
        self.0
            .iter()
            .flat_map(|all| all.iter())
            .filter(move |e| e.lowest <= disclosure)
            .map(|e| &e.element)
    }
}

/// The lowest disclosure that gets `element`; `None` for what is never passed on.
pub(crate) fn lowest(element: &Element) -> Option<Disclosure> {
    let ns = element.ns();
    match ns.as_str() {
        NICK | AVATAR_HASH => Some(Disclosure::Person),
        CAPS | CAPS2 => Some(Disclosure::Devices),
        JABBER_CLIENT => None,
        ns if STRIPPED.contains(&ns) || ns.starts_with(NODE_NAMESPACES) => None,
        _ => Some(Disclosure::Everything),
    }
}

/// The size of `element` on the wire, with its namespace declaration.
fn serialized_len(element: &Element) -> usize {
    let mut out = Vec::new();
    match element.write_to(&mut out) {
        Ok(()) => out.len(),
        // Unwritable: never kept.
        Err(_) => usize::MAX / 2,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn presence(children: &str) -> Presence {
        let xml = format!("<presence xmlns='jabber:client'>{children}</presence>");
        Presence::try_from(xml.parse::<Element>().unwrap()).unwrap()
    }

    fn names(ext: &Extensions, at: Disclosure) -> Vec<String> {
        ext.at(at)
            .map(|e| format!("{}:{}", e.ns(), e.name()))
            .collect()
    }

    #[test]
    fn each_extension_goes_to_the_lowest_disclosure_that_may_see_it() {
        let p = presence(
            "<show>away</show><status>x</status><priority>5</priority>\
             <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v'/>\
             <x xmlns='vcard-temp:x:update'><photo>abc</photo></x>\
             <nick xmlns='http://jabber.org/protocol/nick'>Al</nick>\
             <c xmlns='urn:xmpp:caps'/>\
             <mood xmlns='urn:example:mood'/>\
             <delay xmlns='urn:xmpp:delay' stamp='2020-01-01T00:00:00Z'/>\
             <idle xmlns='urn:xmpp:idle:1' since='2020-01-01T00:00:00Z'/>\
             <activity xmlns='http://jabber.org/protocol/activity'><relaxing/></activity>\
             <device xmlns='urn:lampfield:presence:0' kind='mobile'/>",
        );
        let ext = Extensions::of(&p);
        assert_eq!(
            names(&ext, Disclosure::Person),
            [
                "vcard-temp:x:update:x",
                "http://jabber.org/protocol/nick:nick"
            ]
        );
        assert_eq!(
            names(&ext, Disclosure::Devices),
            [
                "http://jabber.org/protocol/caps:c",
                "vcard-temp:x:update:x",
                "http://jabber.org/protocol/nick:nick",
                "urn:xmpp:caps:c"
            ]
        );
        assert_eq!(
            names(&ext, Disclosure::Everything).last().unwrap(),
            "urn:example:mood:mood",
            "nothing stripped comes back"
        );
        assert_eq!(names(&ext, Disclosure::Everything).len(), 5);
    }

    #[test]
    fn a_session_keeps_at_most_eight_elements_and_four_kib() {
        let many: String = (0..20)
            .map(|i| format!("<e{i} xmlns='urn:example:x'/>"))
            .collect();
        let ext = Extensions::of(&presence(&many));
        assert_eq!(ext.at(Disclosure::Everything).count(), MAX_ELEMENTS);

        let big = "y".repeat(3000);
        let xml = format!(
            "<a xmlns='urn:example:a'>{big}</a><b xmlns='urn:example:b'>{big}</b>\
             <nick xmlns='http://jabber.org/protocol/nick'>Al</nick>"
        );
        let ext = Extensions::of(&presence(&xml));
        assert_eq!(
            names(&ext, Disclosure::Everything),
            ["urn:example:a:a", "http://jabber.org/protocol/nick:nick"],
            "the second large element would pass 4 KiB"
        );
        assert_eq!(Extensions::of(&presence("")), Extensions::default());
    }
}
