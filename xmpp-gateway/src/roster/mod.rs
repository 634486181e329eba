//! RFC 6121 §2: Managing the roster: get, set (add, update, remove) and pushes.
//!
//! Pure translation between stored [`Contact`]s and `jabber:iq:roster` items, and the
//! validation of roster sets (§2.3.3). The router stores, pushes and answers; `removal` takes
//! a removed account out of every roster.
//!
//! Decisions: a roster set's `subscription` values other than `remove`, and its
//! `ask` and `approved` attributes, are ignored, as the server alone owns the
//! subscription state (§2.1.2.5); some clients echo them back when renaming a contact.
//! Roster versioning (XEP-0237 1.3, RFC 6121 §2.6): the backend keeps the version; a get
//! naming the current version is answered with an empty result, any other with the full
//! roster and its version, and every push carries the version after its change. No pushes
//! of the changes since an older version are sent: the full roster is both simpler and what
//! §2.6.3 allows.

mod handler;
mod managed;
mod removal;

use std::collections::HashSet;

use jid::{BareJid, FullJid, Jid};
use minidom::Element;
use rxml::{Namespace, xml_ncname};
use xmpp_parsers::iq::Iq;
use xmpp_parsers::roster::{Ask, Group, Item, Roster, Subscription as WireSub};
use xmpp_parsers::stanza_error::DefinedCondition;

use crate::delivery::Delivery;
use crate::ports::backend::{Contact, Subscription};

/// Longest handle or group name accepted, in bytes (§2.3.3 lets the server choose).
pub(crate) const MAX_TEXT_LEN: usize = 1024;
/// Most contacts one roster may hold; adding more gets `resource-constraint`.
pub(crate) const MAX_ITEMS: usize = 10_000;
/// Most groups accepted on one item.
pub(crate) const MAX_GROUPS: usize = 64;

/// A validated roster set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Set {
    /// Add or update an item (§2.3, §2.4).
    Update {
        /// The contact.
        jid: BareJid,
        /// Its handle.
        name: Option<String>,
        /// Its groups, without duplicates, in the client's order.
        groups: Vec<String>,
    },
    /// Remove an item (§2.5).
    Remove(BareJid),
}

/// The wire item for a stored contact (§2.1.2).
pub(crate) fn item(contact: &Contact) -> Item {
    let s = contact.subscription;
    let subscription = match (s.to, s.from) {
        (true, true) => WireSub::Both,
        (true, false) => WireSub::To,
        (false, true) => WireSub::From,
        (false, false) => WireSub::None,
    };
    Item {
        jid: contact.jid.clone(),
        name: contact.name.clone(),
        subscription,
        ask: if s.pending_out {
            Ask::Subscribe
        } else {
            Ask::None
        },
        groups: contact.groups.iter().cloned().map(Group).collect(),
        approved: s.preapproved.then_some(true),
    }
}

/// The wire item announcing a removal (§2.5.2).
pub(crate) fn removed(jid: &BareJid) -> Item {
    Item {
        jid: jid.clone(),
        name: None,
        subscription: WireSub::Remove,
        ask: Ask::None,
        groups: Vec::new(),
        approved: None,
    }
}

/// The roster result: only the contacts the user added (§2.1.4).
pub(crate) fn result(id: &str, to: &FullJid, contacts: &[Contact], ver: Option<String>) -> Element {
    let items = contacts.iter().filter(|c| c.in_roster).map(item).collect();
    let roster = Roster { ver, items };
    Iq::Result {
        from: None,
        to: Some(to.clone().into()),
        id: id.to_owned(),
        payload: Some(query(roster)),
    }
    .into()
}

/// A roster push of one item to one interested resource (§2.1.6).
pub(crate) fn push(id: String, to: &FullJid, item: Item, ver: Option<String>) -> Element {
    let roster = Roster {
        ver,
        items: vec![item],
    };
    Iq::Set {
        from: None,
        to: Some(Jid::from(to.clone())),
        id,
        payload: query(roster),
    }
    .into()
}

/// The `<query/>` of a result or push, every item with its `subscription` attribute.
///
/// `xmpp_parsers` leaves out `subscription='none'` as the default, but §2.1.2.5 has the server
/// always send it (Prosody and ejabberd do), and some clients (slixmpp) drop an item without it,
/// so a contact with no subscription would vanish from the user's roster.
fn query(roster: Roster) -> Element {
    let mut query: Element = roster.into();
    for item in query.children_mut() {
        if item.attr("subscription").is_none() {
            item.set_attr(
                Namespace::NONE,
                xml_ncname!("subscription").to_owned(),
                "none",
            );
        }
    }
    query
}

/// The push a stored change of `contact` owes `user`'s clients (§2.1.6): its item, its removal
/// when nothing is left of it, or none for a contact outside the visible roster; `ver` is the
/// roster version after the change.
pub(crate) fn push_for(
    user: &BareJid,
    stored: Option<&Contact>,
    contact: &BareJid,
    ver: Option<String>,
) -> Option<Delivery> {
    let item = match stored {
        Some(c) if c.in_roster => item(c),
        Some(_) => return None,
        None => removed(contact),
    };
    Some(Delivery::RosterPush(user.clone(), item, ver))
}

/// The version a roster get names (XEP-0237 §3.2: `ver`, empty when the client has none).
pub(crate) fn requested_version(payload: Element) -> Option<String> {
    Roster::try_from(payload).ok().and_then(|r| r.ver)
}

/// Validate a roster set payload sent by `user` (§2.3.3).
pub(crate) fn parse_set(user: &BareJid, payload: Element) -> Result<Set, DefinedCondition> {
    let roster = Roster::try_from(payload).map_err(|_| DefinedCondition::BadRequest)?;
    let mut items = roster.items.into_iter();
    let (Some(item), None) = (items.next(), items.next()) else {
        return Err(DefinedCondition::BadRequest);
    };
    if &item.jid == user {
        return Err(DefinedCondition::NotAllowed);
    }
    if item.subscription == WireSub::Remove {
        return Ok(Set::Remove(item.jid));
    }
    let name = item.name.filter(|n| !n.is_empty());
    if name.as_ref().is_some_and(|n| n.len() > MAX_TEXT_LEN) || item.groups.len() > MAX_GROUPS {
        return Err(DefinedCondition::NotAcceptable);
    }
    let mut seen = HashSet::new();
    let mut groups = Vec::with_capacity(item.groups.len());
    for Group(g) in item.groups {
        if g.is_empty() || g.len() > MAX_TEXT_LEN {
            return Err(DefinedCondition::NotAcceptable);
        }
        if !seen.insert(g.clone()) {
            return Err(DefinedCondition::BadRequest);
        }
        groups.push(g);
    }
    Ok(Set::Update {
        jid: item.jid,
        name,
        groups,
    })
}

/// The contact after an update: handle and groups replaced, subscription kept, and
/// now visible in the roster (§2.3.2, §2.4.2).
pub(crate) fn updated(
    existing: Option<Contact>,
    jid: BareJid,
    name: Option<String>,
    groups: Vec<String>,
) -> Contact {
    let subscription = existing.map(|c| c.subscription).unwrap_or_default();
    Contact {
        jid,
        name,
        groups,
        subscription,
        in_roster: true,
    }
}

/// What removing a contact owes it (§2.5.2): `unsubscribe` if the user was
/// subscribed to it or asked to be, `unsubscribed` if it was subscribed to the user
/// or asked to be.
pub(crate) fn cancellations(sub: Subscription) -> (bool, bool) {
    (sub.to || sub.pending_out, sub.from || sub.pending_in)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
