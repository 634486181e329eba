//! Subscription stanzas about a contact the organization manages (a shared roster, see
//! `roster/managed.rs`): both already see each other, so there is nothing to ask or cancel.
//! A `subscribe` is answered with `subscribed` at once, as RFC 6121 §3.1.3 has a contact's
//! server do for a subscription that already exists; `subscribed`, `unsubscribe` and
//! `unsubscribed` change nothing and go nowhere, as in Prosody's `mod_groups`.

use jid::BareJid;

use crate::ports::backend::Backend;
use crate::router::Router;
use crate::subscription::{Event, subscription_stanza};

impl<B: Backend> Router<B> {
    /// Handle `event` from `user` about `contact` if the organization manages `contact` in
    /// `user`'s roster; returns whether it did (a failed check handles nothing).
    pub(super) async fn managed_subscription(
        &self,
        user: &BareJid,
        contact: &BareJid,
        event: Event,
    ) -> bool {
        match self.backend().is_managed(user, contact).await {
            Ok(true) => {}
            Ok(false) => return false,
            Err(e) => {
                tracing::warn!(%user, %contact, error = %e, "managed contact check failed");
                return false;
            }
        }
        if event == Event::OutSubscribe {
            let answer = subscription_stanza(Event::InSubscribed, contact, user);
            self.send_to_available(&self.table(), user, &answer);
        }
        tracing::debug!(%user, %contact, ?event, "subscription stanza about a managed contact");
        true
    }
}
