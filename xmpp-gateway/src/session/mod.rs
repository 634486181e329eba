//! Session plumbing below the router: the table of bound resources (RFC 6120 §7), each
//! session's bounded outgoing queue, and the writer of a presence fan-out. It knows
//! nothing of stanza kinds or protocol features; the router and the features deliver
//! through it.

pub(crate) mod fanout;
pub(crate) mod outbox;
pub(crate) mod table;

use minidom::Element;

pub use outbox::{Outbox, TryRecvError};

/// What the router asks a session's writer to do.
#[derive(Debug)]
pub enum Outgoing {
    /// Write this stanza (already addressed, `jabber:client` namespace). Boxed so a
    /// queue slot stays pointer-sized: every idle session pre-allocates a block of
    /// slots, and an inline `Element` would make each slot over a hundred bytes.
    Stanza(Box<Element>),
    /// Write these bytes: one stanza, serialized once for a fan-out and addressed to this
    /// session's account.
    Serialized(Box<str>),
    /// Flush what a direct write left in the transport ([`crate::stream::DirectWrite`]).
    Flush,
    /// Close the stream with this RFC 6120 §4.9.3 condition (e.g. `conflict` when a new
    /// session took the resource, `policy-violation` for a consumer too slow to keep up).
    Close(&'static str),
}

impl Outgoing {
    /// The stanza this asks the writer to write, as an element (serialized bytes are parsed
    /// back); `None` for a close. For tests and diagnostics: the writer itself never parses.
    pub fn stanza(&self) -> Option<Element> {
        match self {
            Outgoing::Stanza(el) => Some((**el).clone()),
            Outgoing::Serialized(xml) => xml.parse().ok(),
            Outgoing::Close(_) | Outgoing::Flush => None,
        }
    }
}

/// Why binding a resource failed (RFC 6120 §7.6.2).
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// The requested resource is not acceptable (`bad-request`).
    #[error("resource not acceptable")]
    BadResource,
    /// The account may hold no more sessions (`resource-constraint`).
    #[error("too many sessions for this account")]
    TooManySessions,
}
