//! The node's say over presence: the port through which the router hands a client's own presence
//! to the node and asks what each viewer may see.
//!
//! A client's presence is one input among others (the PBX line, the calendar, a hand-set state):
//! the router reports it, and every presence it sends to a subscriber, to a prober or to the
//! user's own resources is the one the authority renders for that viewer. Directed presence stays
//! what the sender chose to send.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use jid::{BareJid, FullJid};
use minidom::Element;
use xmpp_parsers::presence::Presence;

use super::blocklist::Blocklist;

/// What the node decides about presence.
pub trait PresenceAuthority: Send + Sync + 'static {
    /// A local resource's broadcast presence as its client sent it; `None` when it went
    /// unavailable or its session ended. Returns whether the user's published presence changed
    /// (the router then sends it again to every viewer).
    fn client_presence(&self, jid: &FullJid, presence: Option<&Presence>) -> bool;

    /// XEP-0352: a resource's client says whether the user is looking at it (`false`: the app is
    /// in the background or the screen is off). Returns whether the published presence changed.
    fn client_active(&self, jid: &FullJid, active: bool) -> bool {
        let _ = (jid, active);
        false
    }

    /// `owner`'s presence frozen for one fan-out.
    fn snapshot(&self, owner: &BareJid) -> Box<dyn PresenceSnapshot>;

    /// Whether `owner` hides from `viewer` altogether (the viewer's access level is blocked).
    /// The router then answers everything `viewer` sends to `owner` (messages, iqs to the bare
    /// JID, subscription requests, directed presence) exactly as it answers for an account that
    /// does not exist. Where the viewer stands in the owner's roster is the node's to look up.
    /// The default hides nobody.
    fn hides_from(&self, owner: &BareJid, viewer: &BareJid) -> bool {
        let _ = (owner, viewer);
        false
    }

    /// The level at which `viewer` sees `owner` by the owner's rules (docs/ACCESS.md, "Rules"),
    /// whether or not the viewer is subscribed: the router asks only for subscribed viewers
    /// (a stranger has no level). When the rules cannot be read, [`AccessLevel::Blocked`], as
    /// [`PresenceAuthority::hides_from`] hides then. The default gives everyone public.
    fn level_for(&self, owner: &BareJid, viewer: &BareJid) -> AccessLevel {
        let _ = (owner, viewer);
        AccessLevel::Public
    }

    /// XEP-0186: one of `user`'s clients asks to appear offline to everyone (`true`) or to be
    /// seen again (`false`). The node keeps it as its own "appear offline" setting, so it holds
    /// for every client of the user and outlives the session. Resolves to whether it was taken.
    /// The default takes nothing.
    fn set_invisible<'a>(
        &'a self,
        user: &'a BareJid,
        invisible: bool,
    ) -> Pin<Box<dyn Future<Output = bool> + Send + 'a>> {
        let _ = (user, invisible);
        Box::pin(async { false })
    }

    /// XEP-0191: the node's block list, kept as the same rules that make an owner hide from a
    /// viewer; `None` (the default) when the node keeps none, and the router then refuses the
    /// blocking commands with `service-unavailable`.
    fn blocklist(&self) -> Option<&dyn Blocklist> {
        None
    }
}

/// How much of a person a viewer may see, lowest first (docs/ACCESS.md, "Levels"); what each
/// stored item needs is the item's feature's to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccessLevel {
    /// Sees what an account that does not exist shows.
    Blocked,
    /// The availability, the avatar, the nickname and the vCard.
    Public,
    /// Plus the person's own note and free/busy times.
    Business,
    /// Plus activity and presence detail, such as when the person was last online.
    Team,
    /// Everything.
    Personal,
}

/// One user's presence at one instant, asked viewer by viewer.
pub trait PresenceSnapshot: Send {
    /// What `viewer` may see; `None` when it may see nothing, which must look exactly like an
    /// offline user. Where the viewer stands in the owner's roster (its groups) is the node's to
    /// look up. Viewers at the same level get the same `Arc`, so a fan-out serializes each
    /// distinct view once.
    fn for_viewer(&mut self, viewer: &BareJid) -> Option<Shown>;
}

/// A viewer's view of a user: the presence the node renders and how much of the user's clients
/// the viewer may learn about.
#[derive(Debug, Clone)]
pub struct Shown {
    /// The `<presence/>` (in `jabber:client`, without `from`, `to` or priority).
    pub presence: Arc<Element>,
    /// Whether it comes once per person or once per device, and which of the clients' own
    /// presence extensions go with it.
    pub disclosure: Disclosure,
}

/// How much of a user's clients a viewer may learn about, lowest first (docs/ACCESS.md, "Client
/// extensions in presence").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Disclosure {
    /// One presence per person, from the node's own resource, with no priority and only the
    /// person-level extensions (nickname, avatar hash): which devices are online stays hidden.
    Person,
    /// One presence per available resource with its priority, plus the device-level extensions
    /// (entity capabilities).
    Devices,
    /// As [`Disclosure::Devices`], plus every other extension the clients put in their presence.
    Everything,
}

/// An authority under which nobody sees anything, for unit tests that never publish.
#[cfg(test)]
pub(crate) struct Unseen;

#[cfg(test)]
impl PresenceAuthority for Unseen {
    fn client_presence(&self, _: &FullJid, _: Option<&Presence>) -> bool {
        false
    }

    fn snapshot(&self, _: &BareJid) -> Box<dyn PresenceSnapshot> {
        Box::new(Unseen)
    }
}

#[cfg(test)]
impl PresenceSnapshot for Unseen {
    fn for_viewer(&mut self, _: &BareJid) -> Option<Shown> {
        None
    }
}
