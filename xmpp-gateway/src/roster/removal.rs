//! An account of this server removed (RFC 6121 §2.5.2, §3.2.2, §3.3.2, §4.5.2 applied on the
//! removed user's behalf): nothing of it is left in anyone's roster, and everyone who could see
//! it learns it is gone, as if the user had removed every contact and then logged out for good.
//!
//! - Whoever was shown the user's presence gets `unavailable` for what it was shown (the person,
//!   or each resource that spoke for it); viewers that were shown nothing get nothing, as from
//!   any offline account.
//! - Each local user whose roster names it loses the item, hidden ones (a pending request, a
//!   pre-approval) included, and its interested resources get the roster push
//!   `subscription='remove'` (§2.1.6).
//! - Each contact at another domain gets `unsubscribe` if the user was subscribed to it or
//!   asked to be, and `unsubscribed` if it was subscribed to the user or asked to be (§2.5.2),
//!   so its server drops the user from its roster.
//! - The user's sessions end (`not-authorized`); their goodbyes reach directed-presence
//!   targets as at any session end. Other users' sessions forget it as a target of their
//!   directed presence.

use std::future::Future;

use jid::BareJid;

use crate::delivery::Delivery;
use crate::ports::backend::{Backend, Contact};
use crate::roster;
use crate::router::Router;
use crate::subscription::{Event, subscription_stanza};

impl<B: Backend> Router<B> {
    /// Remove `user`, an account of this server: `removal` is the node's part (the account
    /// and its own data gone for good, after which no write for it succeeds); it returns its
    /// own result and the local accounts whose rosters name `user`, which the router then
    /// cleans and tells. Nothing else happens when `removal` fails.
    ///
    /// The user's publishing turn is held throughout, so no presence of the user goes out
    /// between its removal and the goodbyes, and the user's sessions are ended only after its
    /// viewers were told, while the router still knows which resources spoke for it.
    pub async fn remove_account<T, E>(
        &self,
        user: &BareJid,
        removal: impl Future<Output = Result<(T, Vec<BareJid>), E>>,
    ) -> Result<T, E> {
        let published = self.published_state();
        let _turn = published.turn(user).await;
        let roster = self.contacts_or_empty(user).await;
        let (out, holders) = removal.await?;
        self.deliver_with(|table| published.to_every_viewer_gone(table, user));
        self.end_sessions(user, "not-authorized");
        self.table_mut().forget_directed_to(user);
        // A re-created account starts without the old avatar.
        self.avatars().forget(user);
        for holder in holders.iter().filter(|h| *h != user && self.is_local(h)) {
            self.forget_removed(holder, user).await;
        }
        for contact in roster.iter().filter(|c| !self.is_local(&c.jid)) {
            self.cancel_remote(user, contact);
        }
        tracing::info!(%user, contacts = roster.len(), rosters = holders.len(), "account removed from every roster");
        Ok(out)
    }

    /// Take the removed `user` out of `holder`'s roster and tell `holder`'s clients.
    async fn forget_removed(&self, holder: &BareJid, user: &BareJid) {
        let writer = self.write_lock(holder).await;
        let stored = match self.backend().contact(holder, user).await {
            Ok(Some(c)) => c,
            Ok(None) => {
                // Named a holder with nothing stored: the organization's shared roster showed
                // it, and with the account gone shows it no more.
                let ver = self.roster_version(holder).await;
                drop(writer);
                self.deliver([Delivery::RosterPush(
                    holder.clone(),
                    roster::removed(user),
                    ver,
                )]);
                return;
            }
            Err(e) => {
                tracing::warn!(%holder, %user, error = %e, "roster of a removed account's contact unreadable");
                return;
            }
        };
        if let Err(e) = self.backend().remove_contact(holder, user).await {
            tracing::warn!(%holder, %user, error = %e, "removed account left in a roster");
            return;
        }
        let ver = self.roster_version(holder).await;
        drop(writer);
        if stored.in_roster {
            self.deliver([Delivery::RosterPush(
                holder.clone(),
                roster::removed(user),
                ver,
            )]);
        }
        if stored.subscription.from {
            // The removed user held `holder`'s presence; a new account of that name must not.
            self.published_state().forget(holder, user);
        }
    }

    /// §2.5.2: what a contact at another domain is owed when `user` is gone.
    fn cancel_remote(&self, user: &BareJid, contact: &Contact) {
        let (unsubscribe, unsubscribed) = roster::cancellations(contact.subscription);
        if unsubscribe {
            self.to_remote(subscription_stanza(
                Event::OutUnsubscribe,
                user,
                &contact.jid,
            ));
        }
        if unsubscribed {
            self.to_remote(subscription_stanza(
                Event::OutUnsubscribed,
                user,
                &contact.jid,
            ));
        }
    }
}
