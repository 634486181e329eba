//! Delivery to local sessions and to other domains (RFC 6120 §10), for every feature: what a
//! feature hands back ([`Delivery`]), one stanza to the available resources of an account (RFC
//! 6121 §8.5.2.1.1), presence to a bare JID wherever it lives, roster pushes, subscription
//! stanzas the server sends on a user's behalf, and the roster a publication goes out to.

use std::sync::Arc;

use jid::{BareJid, Jid};
use minidom::Element;
use xmpp_parsers::roster::Item;

use super::Router;
use crate::delivery::{Deliveries, Delivery};
use crate::ports::backend::{Backend, Contact};
use crate::roster;
use crate::session::fanout::Fanout;
use crate::session::table::Table;
use crate::stanza::{self, FanoutStanza};
use crate::subscription::{Event, inbound, subscription_stanza};

impl<B: Backend> Router<B> {
    /// Send what a feature handed back, in order.
    pub(crate) fn deliver(&self, deliveries: impl IntoIterator<Item = Delivery>) {
        self.deliver_under(&self.table(), deliveries);
    }

    /// Hand `plan` the session table and send what it hands back under the same lock: the
    /// sessions it saw are the ones that get it, and no session changes its presence between.
    pub(crate) fn deliver_with(&self, plan: impl FnOnce(&Table) -> Deliveries) {
        let table = self.table();
        let deliveries = plan(&table);
        self.deliver_under(&table, deliveries);
    }

    /// Show `contact`, a subscriber of `user`, the view it may see now (its level or roster
    /// place changed): what differs from what it holds, or one unavailable for what it holds if
    /// it may now see nothing, which looks exactly like `user` going offline.
    pub(crate) fn reshow(&self, user: &BareJid, contact: &BareJid) {
        let view = self.authority().snapshot(user).for_viewer(contact);
        self.deliver_with(|table| self.published_state().reshow(table, view, user, contact));
    }

    fn deliver_under(&self, table: &Table, deliveries: impl IntoIterator<Item = Delivery>) {
        for delivery in deliveries {
            match delivery {
                Delivery::Session(to, stanza) => {
                    table.send_to(&to, stanza);
                }
                Delivery::Presence(to, p) => self.deliver_presence(table, &to, &p),
                Delivery::RosterPush(user, item, ver) => self.push(table, &user, item, ver),
            }
        }
    }

    /// §2.1.6: push one item to every interested resource of `user`.
    fn push(&self, table: &Table, user: &BareJid, item: Item, ver: Option<String>) {
        let Some(sessions) = table.of(user) else {
            return;
        };
        for (resource, s) in sessions.iter().filter(|(_, s)| s.interested) {
            let Ok(to) = user.with_resource_str(resource) else {
                continue;
            };
            s.send(roster::push(self.push_id(), &to, item.clone(), ver.clone()));
        }
    }

    /// A subscription stanza the server sends on `user`'s behalf, without a state change on the
    /// user's side (RFC 6121 §2.5.2 roster removal, or a remote user's stanza arriving): a local
    /// contact's state machine takes it, another domain gets it over s2s.
    pub(crate) async fn route_subscription(&self, event: Event, user: &BareJid, contact: &BareJid) {
        if self.is_local(contact) {
            self.subscriptions_in(vec![(inbound(event), user.clone(), contact.clone())])
                .await;
        } else {
            self.to_remote(subscription_stanza(event, user, contact));
        }
    }

    /// Deliver a stanza built for a local recipient (an error bounced by the s2s
    /// layer): to the session named, or to the account's available resources.
    pub(crate) fn deliver_local(&self, stanza: Element) {
        let Some(to) = stanza.attr("to").and_then(|t| Jid::new(t).ok()) else {
            return;
        };
        if !self.is_local(&to.to_bare()) {
            return;
        }
        match to.try_as_full() {
            Ok(full) => {
                self.send_to(full, stanza);
            }
            Err(bare) => {
                self.send_to_available(&self.table(), bare, &stanza);
            }
        }
    }

    /// Queue a stanza to every available resource of a local account, readdressed
    /// to its bare JID (RFC 6121 §8.5.2.1.1 for presence). Returns how many got it.
    pub(crate) fn send_to_available(
        &self,
        table: &Table,
        user: &BareJid,
        stanza: &Element,
    ) -> usize {
        let Some(sessions) = table.of(user) else {
            return 0;
        };
        let mut n = 0;
        for s in sessions.values().filter(|s| s.available()) {
            // One copy per receiving session and none for offline contacts.
            let mut copy = stanza.clone();
            stanza::set_to(&mut copy, user.as_str());
            s.send(copy);
            n += 1;
        }
        n
    }

    /// [`Router::send_to_available`] for a stanza shared by a fan-out: the sessions get its
    /// prepared bytes addressed to `user`, serialized once for all of them and written by
    /// [`Fanout::send`].
    fn send_fanout_to_available(
        &self,
        table: &Table,
        user: &BareJid,
        stanza: &FanoutStanza,
        fanout: &mut Fanout,
    ) {
        let Some(prepared) = &stanza.prepared else {
            self.send_to_available(table, user, &stanza.element);
            return;
        };
        let Some(sessions) = table.of(user) else {
            return;
        };
        let mut xml = None;
        for s in sessions.values().filter(|s| s.available()) {
            // Addressed once, when the user has an available session at all.
            let xml = xml.get_or_insert_with(|| prepared.addressed(user.as_str()));
            fanout.push(s.outbox(), Arc::clone(xml));
        }
    }

    /// `user`'s stored contacts; on a backend failure none, so that a presence still reaches
    /// the user's own resources rather than failing outright.
    pub(crate) async fn contacts_or_empty(&self, user: &BareJid) -> Vec<Contact> {
        self.backend().contacts(user).await.unwrap_or_else(|e| {
            tracing::warn!(%user, error = %e, "roster load failed; presence reaches own resources only");
            Vec::new()
        })
    }

    /// Presence to a bare JID: its available resources if local, else the s2s seam.
    pub(crate) fn deliver_presence(&self, table: &Table, to: &BareJid, p: &Element) {
        if self.is_local(to) {
            self.send_to_available(table, to, p);
        } else {
            self.presence_to_remote(to, p);
        }
    }

    /// [`Router::deliver_presence`] for a stanza shared by a fan-out.
    pub(crate) fn deliver_fanout(
        &self,
        table: &Table,
        to: &BareJid,
        p: &FanoutStanza,
        fanout: &mut Fanout,
    ) {
        if self.is_local(to) {
            self.send_fanout_to_available(table, to, p, fanout);
        } else {
            self.presence_to_remote(to, &p.element);
        }
    }

    fn presence_to_remote(&self, to: &BareJid, p: &Element) {
        let mut p = p.clone();
        stanza::set_to(&mut p, to.as_str());
        self.to_remote(p);
    }
}
