//! Contacts the organization manages (a shared roster, as Prosody's `mod_groups` and ejabberd's
//! `mod_shared_roster` keep): the node adds, changes and removes them for its users, and the
//! users' clients learn of it by roster push (RFC 6121 §2.1.6), as of any roster change.

use jid::BareJid;

use crate::delivery::Delivery;
use crate::ports::backend::Backend;
use crate::roster;
use crate::router::Router;

impl<B: Backend> Router<B> {
    /// `contact` changed in the rosters of `users` without their asking (added, edited or
    /// removed by the organization): each of them with a session gets the item as their roster
    /// now has it, or its removal, and `contact` is shown what its new place in their rosters
    /// gives it.
    pub async fn push_roster_item(&self, users: &[BareJid], contact: &BareJid) {
        for user in users.iter().filter(|u| *u != contact && self.is_local(u)) {
            let writer = self.write_lock(user).await;
            let (item, subscriber) = match self.backend().contact(user, contact).await {
                Ok(Some(c)) if c.in_roster => (roster::item(&c), c.subscription.from),
                Ok(_) => (roster::removed(contact), false),
                Err(e) => {
                    tracing::warn!(%user, %contact, error = %e, "roster unreadable for a push");
                    continue;
                }
            };
            let ver = self.roster_version(user).await;
            drop(writer);
            self.deliver([Delivery::RosterPush(user.clone(), item, ver)]);
            if subscriber {
                // Access rules may name roster groups (docs/ACCESS.md): a colleague whose
                // group changed is shown the view of its new place now.
                self.reshow(user, contact);
            }
        }
    }
}
