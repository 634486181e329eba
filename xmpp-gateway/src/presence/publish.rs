//! RFC 6121 §4.2-§4.6: publishing a user's presence (see [`super::published`]): the fan-out to
//! every viewer of the view the node renders for it, and resynchronizing with another domain
//! after its link came (back) up.

use std::collections::HashSet;

use jid::{BareJid, FullJid, Jid};
use minidom::Element;

use super::published::{Announce, Rendered, Speakers, own_stanzas};
use super::{self as presence, unavailable};
use crate::delivery::Delivery;
use crate::ns::JABBER_CLIENT;
use crate::ports::backend::{Backend, Contact};
use crate::router::Router;
use crate::session::fanout::Fanout;
use crate::session::table::Table;
use crate::stanza;
use crate::subscription::{Event, subscription_stanza};

impl<B: Backend> Router<B> {
    /// Send `owner`'s current presence again to every viewer (the node calls this when the
    /// presence changed for a reason other than a client, e.g. a PBX call or a rule change).
    /// Viewers for whom nothing they see changed get nothing.
    pub async fn publish(&self, owner: &BareJid) {
        self.publish_from(owner, Announce::all(), None, &HashSet::new())
            .await;
        // A node-side change may be a rule set at or away from blocked: the block list's
        // subscribers hear of it (XEP-0191 §3.2, §3.3).
        self.sync_blocklist(owner);
    }

    /// XEP-0352 from a bound session: the node may treat an inactive client as idle.
    pub async fn client_active(&self, jid: &FullJid, active: bool) {
        let available = self.table().get(jid).is_some_and(|s| s.available());
        if available && self.authority().client_active(jid, active) {
            self.publish(&jid.to_bare()).await;
        }
    }

    /// Resend presence to, and probe, the contacts at `domain` of each of `users` (local
    /// accounts; the node knows them, the router does not): the stanzas sent while the link to
    /// `domain` was down may be lost, so every local user's subscribers there get the user's
    /// current presence again, and every contact the user watches there is probed again (RFC
    /// 6121 §4.3). A pending subscription request is sent again too (§3.1.2 lets a server
    /// resend it).
    ///
    /// A subscriber first gets an unavailable from the user's bare JID, which clears every
    /// resource it may still show (one that went away while the link was down would otherwise
    /// stay "available" forever), then the view it may see now, if any.
    pub async fn resync_domain(&self, domain: &str, users: &[BareJid]) {
        for user in users.iter().filter(|u| self.is_local(u)) {
            let contacts = self.contacts_or_empty(user).await;
            let there = contacts
                .iter()
                .filter(|c| c.jid.domain().as_str().eq_ignore_ascii_case(domain));
            for contact in there {
                if contact.subscription.from {
                    let view = self.authority().snapshot(user).for_viewer(&contact.jid);
                    self.deliver_with(|table| {
                        let clear = Delivery::Presence(contact.jid.clone(), bare_unavailable(user));
                        let published = self.published_state();
                        published.forget(user, &contact.jid);
                        let mut out = vec![clear];
                        out.extend(published.to_new_subscriber(table, view, user, &contact.jid));
                        out
                    });
                }
                if contact.subscription.to {
                    self.to_remote(presence::probe(user, &contact.jid));
                } else if contact.subscription.pending_out {
                    let el = subscription_stanza(Event::OutSubscribe, user, &contact.jid);
                    self.to_remote(el);
                }
            }
        }
    }

    /// Publish what `announce` names, announcing that `gone` stopped being available and
    /// telling `directed` targets (RFC 6121 §4.6.3) that it went away. Returns the roster it
    /// published to, for callers with more to do with it.
    pub(crate) async fn publish_from(
        &self,
        owner: &BareJid,
        announce: Announce<'_>,
        gone: Option<&FullJid>,
        directed: &HashSet<Jid>,
    ) -> Vec<Contact> {
        let _turn = self.publish_turn(owner).await;
        let started = std::time::Instant::now();
        let contacts = self.contacts_or_empty(owner).await;
        let loaded = started.elapsed();
        let fanout = self.render(owner, announce, gone, directed, &contacts);
        fanout.send().await;
        tracing::debug!(
            %owner,
            contacts = contacts.len(),
            roster_us = loaded.as_micros() as u64,
            total_us = started.elapsed().as_micros() as u64,
            "presence published"
        );
        contacts
    }

    /// An unavailable from `from` to a directed-presence target, local or remote.
    fn deliver_unavailable_to(&self, table: &Table, target: &Jid, from: &FullJid) {
        let el = unavailable(from);
        if self.components().is_component(target.domain().as_str()) {
            // A component (a MUC room) learns of the very JID the presence was directed at.
            let mut e = el;
            stanza::set_to(&mut e, &target.to_string());
            self.to_remote_directed(e);
            return;
        }
        match target.try_as_full() {
            Ok(full) if self.is_local(&full.to_bare()) => {
                let mut e = el;
                stanza::set_to(&mut e, full.as_str());
                table.send_to(full, e);
            }
            Ok(full) => self.deliver_presence(table, &full.to_bare(), &el),
            Err(bare) => self.deliver_presence(table, bare, &el),
        }
    }

    /// Everything [`Self::publish_from`] sends but the subscribers' copies, which it returns
    /// to be written once the session table is released. What each subscriber holds is updated
    /// under `owner`'s publication state, locked for the whole fan-out.
    fn render(
        &self,
        owner: &BareJid,
        announce: Announce<'_>,
        gone: Option<&FullJid>,
        directed: &HashSet<Jid>,
        contacts: &[Contact],
    ) -> Fanout {
        let mut snapshot = self.authority().snapshot(owner);
        let own = snapshot.for_viewer(owner);
        let own_view = own.as_ref().map(|s| &*s.presence);
        let table = self.table();
        self.published_state().with_owner(owner, |state| {
            let speakers = state.speakers(&table, owner, gone, announce.arrived, own.is_some());
            let mut rendered = Rendered::new(owner, &speakers, announce);
            let mut fanout = Fanout::default();
            for Contact { jid, .. } in contacts.iter().filter(|c| c.subscription.from) {
                let old = state.held(jid);
                let view = snapshot.for_viewer(jid);
                if view.is_none() && old.is_none() {
                    continue;
                }
                let (stanzas, held) = rendered.plan(old, view.as_ref(), false);
                state.set_held(jid, held);
                for p in &stanzas {
                    self.deliver_fanout(&table, jid, p, &mut fanout);
                }
            }
            for p in own_stanzas(own_view, &speakers, &announce) {
                self.send_to_available(&table, owner, &p);
            }
            if let (Some(new), Some(_)) = (announce.arrived, announce.only) {
                // Only the new resource was announced: it has not heard of the others yet.
                let others = Speakers {
                    live: speakers
                        .live
                        .iter()
                        .filter(|s| s.jid != *new)
                        .cloned()
                        .collect(),
                    ..Speakers::default()
                };
                for mut p in own_stanzas(own_view, &others, &Announce::all()) {
                    stanza::set_to(&mut p, new.as_str());
                    table.send_to(new, p);
                }
            }
            let subscribers: HashSet<&BareJid> = presence::subscribers(contacts).collect();
            for target in presence::directed_leftovers(directed, &subscribers) {
                for gone in &speakers.gone {
                    self.deliver_unavailable_to(&table, target, gone);
                }
            }
            fanout
        })
    }

    /// Exclusive right to publish `owner`'s presence until the guard drops.
    async fn publish_turn(&self, owner: &BareJid) -> tokio::sync::MutexGuard<'_, ()> {
        self.published_state().turn(owner).await
    }
}

/// `<presence type='unavailable'/>` from a bare JID: all of its resources went away.
fn bare_unavailable(user: &BareJid) -> Element {
    Element::builder("presence", JABBER_CLIENT)
        .attr(rxml::xml_ncname!("type").to_owned(), "unavailable")
        .attr(rxml::xml_ncname!("from").to_owned(), user.as_str())
        .build()
}
