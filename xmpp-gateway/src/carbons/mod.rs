//! XEP-0280 (Message Carbons) version 1.0.1, namespace `urn:xmpp:carbons:2`: each of a user's
//! resources that enabled carbons gets a copy of the user's conversations held on the others.
//!
//! What is copied (§6, "eligible messages"): a message of type `chat`, or of type `normal` with
//! a `<body/>`; never `groupchat`, `headline` or `error`, never one that carries `<private/>`
//! (§7) or the XEP-0334 `<no-copy/>` hint, never a carbon itself. Between two resources of the
//! same user nothing is copied: the user's own devices talking need no mirror.
//!
//! Carbons open no path of their own. A received copy is made only at the moment the message
//! was queued to one of the recipient's resources, after every rule that decides whether it is
//! delivered at all (a blocked sender, the full-JID addressing gate, §8.5.2 routing), and only
//! to that user's other resources; a sent copy is what a resource itself sent, to its own
//! user's other resources. Copies go through each session's bounded outbox like any stanza.
//!
//! Whether a resource enabled carbons lives in its session entry and is forgotten with it.

mod handler;

use jid::{BareJid, FullJid};
use minidom::{Element, Node};

use crate::ns;
use crate::session::table::Table;

/// A request a resource sends to switch carbons for itself (§4 enable, §5 disable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Request {
    /// `<enable/>`.
    Enable,
    /// `<disable/>`.
    Disable,
}

/// The carbons request an iq set carries, if any.
pub(crate) fn request(payload: &Element) -> Option<Request> {
    if payload.is("enable", ns::CARBONS) {
        Some(Request::Enable)
    } else if payload.is("disable", ns::CARBONS) {
        Some(Request::Disable)
    } else {
        None
    }
}

/// Which side of a conversation a copy shows (§6 received, §7 sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// A message the user received on another resource.
    Received,
    /// A message the user sent from another resource.
    Sent,
}

impl Direction {
    fn element(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Sent => "sent",
        }
    }
}

/// §6: whether `message` is copied at all, judged on it as sent (before [`strip_private`]).
pub(crate) fn eligible(message: &Element) -> bool {
    let opted_out = message.has_child("private", ns::CARBONS)
        || message.has_child("no-copy", ns::HINTS)
        || message.has_child("received", ns::CARBONS)
        || message.has_child("sent", ns::CARBONS);
    if opted_out {
        return false;
    }
    match message.attr("type") {
        Some("chat") => true,
        None | Some("normal") => message.has_child("body", ns::JABBER_CLIENT),
        Some(_) => false,
    }
}

/// §7: the `<private/>` opt-out is for the sender's server; the recipient never sees it.
pub(crate) fn strip_private(message: &mut Element) {
    if !message.has_child("private", ns::CARBONS) {
        return;
    }
    for node in message.take_nodes() {
        let private = matches!(&node, Node::Element(e) if e.is("private", ns::CARBONS));
        if !private {
            message.append_node(node);
        }
    }
}

/// Whether `message` is to be copied, and it made ready to deliver: [`eligible`], then
/// [`strip_private`].
pub(crate) fn prepare(message: &mut Element) -> bool {
    let copy = eligible(message);
    strip_private(message);
    copy
}

/// The copy of `message` for `to`, one of `user`'s resources: from the user's bare JID
/// (which is how a client tells a real carbon from a forged one, §11), wrapped in `<received/>`
/// or `<sent/>` and a XEP-0297 `<forwarded/>`.
pub(crate) fn wrap(
    direction: Direction,
    user: &BareJid,
    to: &FullJid,
    message: &Element,
) -> Element {
    let forwarded = Element::builder("forwarded", ns::FORWARD)
        .append(message.clone())
        .build();
    let carbon = Element::builder(direction.element(), ns::CARBONS)
        .append(forwarded)
        .build();
    let mut outer = Element::builder("message", ns::JABBER_CLIENT)
        .attr(rxml::xml_ncname!("from").to_owned(), user.to_string())
        .attr(rxml::xml_ncname!("to").to_owned(), to.to_string());
    if let Some(kind) = message.attr("type") {
        outer = outer.attr(rxml::xml_ncname!("type").to_owned(), kind);
    }
    outer.append(carbon).build()
}

/// Queue a copy of `message` to every resource of `user` that enabled carbons, except those
/// named in `skip` (they had the message itself, or sent it).
pub(crate) fn copy(
    table: &Table,
    user: &BareJid,
    skip: &[&str],
    direction: Direction,
    message: &Element,
) {
    let Some(sessions) = table.of(user) else {
        return;
    };
    for (resource, session) in sessions {
        if !session.carbons || skip.contains(&resource.as_str()) {
            continue;
        }
        let Ok(to) = user.with_resource_str(resource) else {
            continue;
        };
        session.send(wrap(direction, user, &to, message));
    }
}

/// `message` was queued to the recipient's resources `got_it`: the other ones that enabled
/// carbons get a received copy.
pub(crate) fn received(table: &Table, user: &BareJid, got_it: &[&str], message: &Element) {
    copy(table, user, got_it, Direction::Received, message);
}

/// `from` sent `message` to someone else: its user's other resources that enabled carbons get
/// a sent copy.
pub(crate) fn sent(table: &Table, from: &FullJid, message: &Element) {
    copy(
        table,
        &from.to_bare(),
        &[from.resource().as_str()],
        Direction::Sent,
        message,
    );
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn el(s: &str) -> Element {
        s.parse().unwrap()
    }

    #[test]
    fn section_6_eligible_messages() {
        let rows = [
            ("<message xmlns='jabber:client' type='chat'/>", true),
            (
                "<message xmlns='jabber:client' type='chat'><body>x</body></message>",
                true,
            ),
            (
                "<message xmlns='jabber:client'><body>x</body></message>",
                true,
            ),
            (
                "<message xmlns='jabber:client' type='normal'><body>x</body></message>",
                true,
            ),
            ("<message xmlns='jabber:client' type='normal'/>", false),
            (
                "<message xmlns='jabber:client' type='groupchat'><body>x</body></message>",
                false,
            ),
            (
                "<message xmlns='jabber:client' type='headline'><body>x</body></message>",
                false,
            ),
            (
                "<message xmlns='jabber:client' type='error'><body>x</body></message>",
                false,
            ),
            (
                "<message xmlns='jabber:client' type='chat'><body>x</body><private xmlns='urn:xmpp:carbons:2'/></message>",
                false,
            ),
            (
                "<message xmlns='jabber:client' type='chat'><body>x</body><no-copy xmlns='urn:xmpp:hints'/></message>",
                false,
            ),
            (
                "<message xmlns='jabber:client' type='chat'><received xmlns='urn:xmpp:carbons:2'/></message>",
                false,
            ),
        ];
        for (xml, want) in rows {
            assert_eq!(eligible(&el(xml)), want, "{xml}");
        }
    }

    #[test]
    fn section_7_private_is_removed_and_nothing_else() {
        let mut m = el(
            "<message xmlns='jabber:client' type='chat'><body>x</body><private xmlns='urn:xmpp:carbons:2'/><thread>t</thread></message>",
        );
        assert!(!prepare(&mut m));
        assert!(!m.has_child("private", ns::CARBONS));
        assert!(m.has_child("body", ns::JABBER_CLIENT) && m.has_child("thread", ns::JABBER_CLIENT));
    }

    #[test]
    fn wrapped_from_the_bare_jid() {
        let user = BareJid::new("u@d").unwrap();
        let to = FullJid::new("u@d/b").unwrap();
        let m = el(
            "<message xmlns='jabber:client' type='chat' from='v@d/x' to='u@d/a'><body>hi</body></message>",
        );
        let w = wrap(Direction::Sent, &user, &to, &m);
        assert_eq!(w.attr("from"), Some("u@d"));
        assert_eq!(w.attr("to"), Some("u@d/b"));
        assert_eq!(w.attr("type"), Some("chat"));
        let inner = w
            .get_child("sent", ns::CARBONS)
            .and_then(|s| s.get_child("forwarded", ns::FORWARD))
            .and_then(|f| f.get_child("message", ns::JABBER_CLIENT))
            .unwrap();
        assert_eq!(inner, &m);
    }
}
