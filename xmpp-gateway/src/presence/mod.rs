//! RFC 6121 §4: Exchanging presence information.
//!
//! Pure decisions are here: what kind of presence a client sent, who receives a broadcast,
//! whom to probe, which pending requests to deliver again, and whether a probe may be
//! answered. `handler` takes a client's presence and probes, `extensions` keeps what a client
//! put in it for the viewers who may see it, `published` keeps what each viewer holds of the
//! presence the node renders (and hands back what a new or former subscriber and a prober are
//! owed), `publish` fans it out, also again to a domain whose link came back, and `addressing`
//! says who may reach a resource by its full JID.

mod addressing;
pub(crate) mod extensions;
mod handler;
mod publish;
pub(crate) mod published;

use std::collections::HashSet;

use jid::{BareJid, FullJid, Jid};
use minidom::Element;
use xmpp_parsers::presence::{Presence, Type};

use crate::ports::backend::Contact;
use crate::stanza;
use crate::subscription::Event;

/// What a client's presence stanza asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// No `to`: a broadcast, available or not (§4.2, §4.4, §4.5).
    Broadcast {
        /// `true` for available, `false` for unavailable.
        available: bool,
    },
    /// With a `to`: directed presence (§4.6).
    Directed {
        /// `true` for available, `false` for unavailable.
        available: bool,
        /// The target.
        to: Jid,
    },
    /// A subscription stanza (§3) to a contact's bare JID.
    Subscription(Event, BareJid),
    /// A probe sent by the client itself (§4.3).
    Probe(BareJid),
    /// A presence error, e.g. in answer to directed presence.
    Error(Jid),
    /// Something the server cannot act on: a subscription stanza or probe without
    /// `to` (RFC 6120 §8.3.3.1 `bad-request`).
    Invalid,
}

/// Classify a presence sent by a client.
pub(crate) fn classify(p: &Presence) -> Kind {
    let to = p.to.clone();
    let sub = |event| match &to {
        Some(to) => Kind::Subscription(event, to.to_bare()),
        None => Kind::Invalid,
    };
    match (&p.type_, to.clone()) {
        (Type::None, None) => Kind::Broadcast { available: true },
        (Type::Unavailable, None) => Kind::Broadcast { available: false },
        (Type::None, Some(to)) => Kind::Directed {
            available: true,
            to,
        },
        (Type::Unavailable, Some(to)) => Kind::Directed {
            available: false,
            to,
        },
        (Type::Subscribe, _) => sub(Event::OutSubscribe),
        (Type::Subscribed, _) => sub(Event::OutSubscribed),
        (Type::Unsubscribe, _) => sub(Event::OutUnsubscribe),
        (Type::Unsubscribed, _) => sub(Event::OutUnsubscribed),
        (Type::Probe, Some(to)) => Kind::Probe(to.to_bare()),
        (Type::Error, Some(to)) => Kind::Error(to),
        (Type::Probe | Type::Error, None) => Kind::Invalid,
    }
}

/// Unavailable presence from one resource (§4.5.2).
pub(crate) fn unavailable(from: &FullJid) -> Element {
    stanza::without_priority(Presence::unavailable().with_from(from.clone()).into())
}

/// A probe from the user's bare JID (§4.3.1).
pub(crate) fn probe(from: &BareJid, to: &BareJid) -> Element {
    stanza::without_priority(
        Presence::probe()
            .with_from(from.clone())
            .with_to(to.clone())
            .into(),
    )
}

/// The contacts that receive the user's broadcasts: subscription `from` (§4.2.2, §4.4.2).
pub(crate) fn subscribers(contacts: &[Contact]) -> impl Iterator<Item = &BareJid> {
    contacts
        .iter()
        .filter(|c| c.subscription.from)
        .map(|c| &c.jid)
}

/// The contacts whose presence the user asks for on initial presence: subscription
/// `to` (§4.2.2).
pub(crate) fn probed(contacts: &[Contact]) -> impl Iterator<Item = &BareJid> {
    contacts
        .iter()
        .filter(|c| c.subscription.to)
        .map(|c| &c.jid)
}

/// Contacts whose subscription requests still wait for an answer: delivered again
/// when the user becomes available (§3.1.3).
pub(crate) fn pending_requests(contacts: &[Contact]) -> impl Iterator<Item = &BareJid> {
    contacts
        .iter()
        .filter(|c| c.subscription.pending_in)
        .map(|c| &c.jid)
}

/// Whether the prober may see the probed user's presence: it holds a subscription
/// `from` the probed user (§4.3.2). Anyone else learns nothing, not even that the
/// account exists.
pub(crate) fn may_see(prober_in_probed_roster: Option<&Contact>) -> bool {
    prober_in_probed_roster.is_some_and(|c| c.subscription.from)
}

/// Directed-presence targets that must still be told about unavailability when the
/// session ends: those not already reached by the broadcast (§4.6.3).
pub(crate) fn directed_leftovers<'a>(
    directed: &'a HashSet<Jid>,
    subscribers: &HashSet<&BareJid>,
) -> Vec<&'a Jid> {
    directed
        .iter()
        .filter(|j| !subscribers.contains(&j.to_bare()))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
