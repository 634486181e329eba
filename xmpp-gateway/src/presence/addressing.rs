//! Who may address a user's full JID (RFC 6121 §8.5.3.2.1: a stanza for a resource may be
//! handled as if sent to the bare JID). A resource is named only to those who may learn about it:
//! the user itself, a viewer currently shown that resource's presence (a level that shows
//! devices, see [`super::published`]), and whom that resource sent directed presence (RFC 6121
//! §4.6). Anyone else gets what an unbound resource gives, so a request learns neither that the
//! resource exists nor that the user is online.

use jid::{BareJid, FullJid};

use super::published::Held;
use crate::ports::backend::Backend;
use crate::router::Router;

impl<B: Backend> Router<B> {
    /// Whether `sender` may reach the resource `to` (a local full JID).
    pub(crate) fn may_address(&self, sender: &BareJid, to: &FullJid) -> bool {
        let owner = to.to_bare();
        if *sender == owner {
            return true;
        }
        let (available, directed) = {
            let table = self.table();
            let Some(session) = table.get(to) else {
                return false;
            };
            let directed = session.directed.iter().any(|j| j.to_bare() == *sender);
            (session.available(), directed)
        };
        directed
            || available
                && matches!(
                    self.published_state().held(&owner, sender),
                    Some(Held::Devices(_))
                )
    }
}
