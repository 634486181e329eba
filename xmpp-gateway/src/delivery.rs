//! RFC 6120 §10 as the features see it: what a feature hands back to be sent, and where. The
//! router executes it (`router/deliver.rs`), so one feature never sends through another: the
//! subscription feature asks the presence feature what a new subscriber is owed and the
//! roster feature what a changed contact pushes, and hands both to the router.

use jid::{BareJid, FullJid};
use minidom::Element;
use xmpp_parsers::roster::Item;

/// One stanza and where it goes.
#[derive(Debug)]
pub(crate) enum Delivery {
    /// To one local session, addressed already (a probe's answer, RFC 6121 §4.3.2).
    Session(FullJid, Element),
    /// Presence to a bare JID wherever it lives: the available resources of a local account,
    /// readdressed to it (RFC 6121 §8.5.2.1.1), or the account's domain.
    Presence(BareJid, Element),
    /// A roster push of one item to every interested resource of a local account (RFC 6121
    /// §2.1.6), each with an id of its own, and the roster version after the change (XEP-0237).
    RosterPush(BareJid, Item, Option<String>),
}

/// What one step of a feature sends, in order.
pub(crate) type Deliveries = Vec<Delivery>;
