//! Publishing a user's presence (see [`super::published`]): the fan-out to every viewer of the
//! view the node renders for it, probes answered with the prober's view, and the presence a new
//! or former subscriber is owed.

use std::collections::HashSet;
use std::sync::MutexGuard;

use jid::{BareJid, FullJid, Jid};
use minidom::Element;

use super::published::{Announce, NODE_RESOURCE, Published, Rendered, Speakers, node_jid, stanzas};
use super::{self as presence, unavailable};
use crate::ports::backend::{Backend, Contact};
use crate::router::Router;
use crate::session::fanout::Fanout;
use crate::session::table::Table;
use crate::stanza;

impl<B: Backend> Router<B> {
    /// Send `owner`'s current presence again to every viewer (the node calls this when the
    /// presence changed for a reason other than a client, e.g. a PBX call or a rule change).
    pub async fn publish(&self, owner: &BareJid) {
        self.publish_from(owner, Announce::All, None, &HashSet::new())
            .await;
    }

    /// XEP-0352 from a bound session: the node may treat an inactive client as idle.
    pub async fn client_active(&self, jid: &FullJid, active: bool) {
        let available = self.table().get(jid).is_some_and(|s| s.available());
        if available && self.authority().client_active(jid, active) {
            self.publish(&jid.to_bare()).await;
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
        let (fanout, shown, live) = self.render(owner, announce, gone, directed, &contacts);
        if live {
            // A probe answered meanwhile may have shown someone too: keep both.
            self.published()
                .shown
                .entry(owner.clone())
                .or_default()
                .extend(shown);
        }
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

    /// §4.3.2: answer a probe with the prober's view, or with silence.
    pub(crate) fn answer_probe_with_view(&self, prober: &FullJid, probed: &BareJid) {
        let Some((table, stanzas)) = self.current_for(probed, &prober.to_bare()) else {
            return;
        };
        for mut p in stanzas {
            stanza::set_to(&mut p, prober.as_str());
            table.send_to(prober, p);
        }
    }

    /// §3.1.5: a new subscriber gets its view of `user`'s presence, from each of `user`'s
    /// available resources.
    pub(crate) fn send_presence(&self, user: &BareJid, contact: &BareJid) {
        let Some((table, stanzas)) = self.current_for(user, contact) else {
            return;
        };
        for p in stanzas {
            self.deliver_presence(&table, contact, &p);
        }
    }

    /// §3.2.2, §3.3.3: a former subscriber that was shown `user` available learns that it no
    /// longer is, from each resource; one that was shown nothing gets nothing.
    pub(crate) fn send_unavailable(&self, user: &BareJid, contact: &BareJid) {
        let was_shown = self
            .published()
            .shown
            .get_mut(user)
            .is_some_and(|s| s.remove(contact));
        if !was_shown {
            return;
        }
        let table = self.table();
        for (jid, _) in self.current_speakers(&table, user).live {
            self.deliver_presence(&table, contact, &unavailable(&jid));
        }
    }

    /// The presence stanzas `viewer` may see of `owner` now (marking it shown), with the table
    /// to deliver them under; `None` when there is nothing to send.
    fn current_for(
        &self,
        owner: &BareJid,
        viewer: &BareJid,
    ) -> Option<(std::sync::RwLockReadGuard<'_, Table>, Vec<Element>)> {
        let view = self.authority().snapshot(owner).for_viewer(viewer)?;
        let table = self.table();
        let speakers = self.current_speakers(&table, owner);
        if speakers.live.is_empty() {
            return None;
        }
        self.published()
            .shown
            .entry(owner.clone())
            .or_default()
            .insert(viewer.clone());
        Some((table, stanzas(Some(&view), &speakers)))
    }

    /// Which resources speak for `owner` now, updating the node resource's state.
    fn speakers(
        &self,
        table: &Table,
        owner: &BareJid,
        gone: Option<&FullJid>,
        live: bool,
    ) -> Speakers {
        let mut speakers = self.current_speakers(table, owner);
        let clients = speakers
            .live
            .iter()
            .any(|(j, _)| j.resource().as_str() != NODE_RESOURCE);
        let wants_node = live && !clients;
        let mut published = self.published();
        let had_node = published.node_resource.contains(owner);
        speakers
            .live
            .retain(|(j, _)| j.resource().as_str() != NODE_RESOURCE);
        if wants_node {
            speakers.node_started = published.node_resource.insert(owner.clone());
            speakers.live.push((node_jid(owner), -1));
        } else if had_node {
            published.node_resource.remove(owner);
            speakers.gone.push(node_jid(owner));
        }
        speakers.gone.extend(gone.cloned());
        speakers
    }

    /// The resources speaking for `owner` as of the last publication.
    fn current_speakers(&self, table: &Table, owner: &BareJid) -> Speakers {
        let mut live: Vec<(FullJid, i8)> = table
            .of(owner)
            .into_iter()
            .flat_map(|sessions| sessions.iter())
            .filter(|(_, s)| s.available())
            .filter_map(|(res, s)| owner.with_resource_str(res).ok().map(|j| (j, s.priority)))
            .collect();
        if live.is_empty() && self.published().node_resource.contains(owner) {
            live.push((node_jid(owner), -1));
        }
        Speakers {
            live,
            gone: Vec::new(),
            node_started: false,
        }
    }

    /// An unavailable from `from` to a directed-presence target, local or remote.
    fn deliver_unavailable_to(&self, table: &Table, target: &Jid, from: &FullJid) {
        let el = unavailable(from);
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
    /// to be written once the session table is released; with the viewers shown an available
    /// presence, and whether any resource is live.
    fn render(
        &self,
        owner: &BareJid,
        announce: Announce<'_>,
        gone: Option<&FullJid>,
        directed: &HashSet<Jid>,
        contacts: &[Contact],
    ) -> (Fanout, HashSet<BareJid>, bool) {
        let mut snapshot = self.authority().snapshot(owner);
        let own = snapshot.for_viewer(owner);
        let table = self.table();
        let all = self.speakers(&table, owner, gone, own.is_some());
        // Who is shown what follows every live speaker; the stanzas only the announced ones.
        let speakers = all.announced(announce);
        // The owner's shown-set is taken out for the fan-out, so fan-outs of different users
        // never wait for each other; one owner's fan-outs are serialized by its publishing turn.
        let mut shown = self.published().shown.remove(owner).unwrap_or_default();
        let subscribers = contacts.iter().filter(|c| c.subscription.from);
        let mut rendered = Rendered::default();
        let mut fanout = Fanout::default();
        for Contact { jid, .. } in subscribers {
            let view = snapshot.for_viewer(jid);
            if view.is_none() && !shown.remove(jid) {
                continue;
            }
            if view.is_some() && !all.live.is_empty() && !shown.contains(jid) {
                shown.insert(jid.clone());
            }
            for p in rendered.stanzas(view, &speakers) {
                self.deliver_shared(&table, jid, p, &mut fanout);
            }
        }
        for p in stanzas(own.as_deref(), &speakers) {
            self.send_to_available(&table, owner, &p);
        }
        let subscribers: HashSet<&BareJid> = presence::subscribers(contacts).collect();
        for target in presence::directed_leftovers(directed, &subscribers) {
            for gone in &speakers.gone {
                self.deliver_unavailable_to(&table, target, gone);
            }
        }
        (fanout, shown, !all.live.is_empty())
    }

    fn published(&self) -> MutexGuard<'_, Published> {
        self.published_state().state()
    }

    /// Exclusive right to publish `owner`'s presence until the guard drops.
    async fn publish_turn(&self, owner: &BareJid) -> tokio::sync::MutexGuard<'_, ()> {
        self.published_state().turn(owner).await
    }
}
