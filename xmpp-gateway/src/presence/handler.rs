//! RFC 6121 §4 handling: broadcasts, probes, directed presence and the goodbye when a
//! session ends. A client's broadcast is reported to the node's presence authority and
//! published as the views it renders (`publish`).

use std::collections::HashSet;

use jid::{BareJid, FullJid, Jid};
use minidom::Element;
use xmpp_parsers::presence::Presence;
use xmpp_parsers::stanza_error::DefinedCondition;

use super::extensions::Extensions;
use super::published::Announce;
use crate::ports::backend::{Backend, Contact};
use crate::presence;
use crate::router::{Dest, Router};
use crate::session::table::Ended;
use crate::stanza::error::Head;
use crate::subscription::{Event, subscription_stanza};

/// Most directed-presence targets remembered per session; beyond it a target still
/// gets the presence but not the unavailable at the end, which bounds what a client
/// can make the server hold.
const MAX_DIRECTED: usize = 1024;

impl<B: Backend> Router<B> {
    /// §4.2, §4.4, §4.5: store the session's availability, report the presence to the
    /// authority, then publish it. Initial presence also probes contacts and delivers
    /// pending subscription requests.
    pub(crate) async fn broadcast(&self, from: &FullJid, mut p: Presence, available: bool) {
        let user = from.to_bare();
        if available {
            // XEP-0398 §4: the avatar's hash, which the client need not know.
            self.with_avatar_hash(&user, &mut p.payloads).await;
        }
        let priority = p.priority.0;
        let extensions = Extensions::of(&p);
        let (was, old_priority, same_extensions, new_caps, directed) = {
            let mut table = self.table_mut();
            let Some(s) = table.get_mut(from) else { return };
            let was = s.available();
            let old_priority = s.priority;
            let same_extensions = s.extensions == extensions;
            let new_caps = crate::pep::claim_changed(&s.extensions, &extensions);
            s.set_available(available, priority, extensions);
            let directed = if available {
                HashSet::new()
            } else {
                std::mem::take(&mut s.directed)
            };
            (was, old_priority, same_extensions, new_caps, directed)
        };
        if !available && !was {
            return;
        }
        let changed = self
            .authority()
            .client_presence(from, Some(&p).filter(|_| available));
        let mut announce = announce(changed, from);
        if !was {
            announce = announce.arriving(from);
        }
        if !available {
            self.publish_from(&user, announce, Some(from), &directed)
                .await;
            self.note_offline(&user, crate::last_activity::status_of(&p))
                .await;
            return;
        }
        // A new resource, a new priority or new extensions are news even when the presence is
        // the same (to those who see them).
        if !changed && was && old_priority == priority && same_extensions {
            return;
        }
        // XEP-0163 §4.3.2: a new session or new caps learn what they want to be notified of.
        if !was || new_caps {
            self.pep_presence(from).await;
        }
        let contacts = self.publish_from(&user, announce, None, &directed).await;
        // XEP-0160: the first presence with a non-negative priority collects what was kept.
        if priority >= 0 && (!was || old_priority < 0) {
            self.deliver_offline(from).await;
        }
        // Only initial presence has more to do (probes, pending requests), with the roster
        // the publication loaded.
        if was {
            return;
        }
        self.probe_contacts(from, &contacts).await;
        // A request from someone the user has blocked since is not shown either: blocked, the
        // requester looks like a missing account, whose requests never arrive.
        let shown: Vec<&BareJid> = presence::pending_requests(&contacts)
            .filter(|contact| !self.authority().hides_from(&user, contact))
            .collect();
        let table = self.table();
        for contact in shown {
            table.send_to(
                from,
                subscription_stanza(Event::InSubscribe, contact, &user),
            );
        }
    }

    /// §4.5.2: a session left the table after being available; it may have dropped
    /// without a word, so the server says unavailable on its behalf.
    pub(crate) async fn ended(&self, ended: Ended) {
        if !ended.was_available {
            return;
        }
        let user = ended.jid.to_bare();
        let changed = self.authority().client_presence(&ended.jid, None);
        let announce = announce(changed, &ended.jid);
        self.publish_from(&user, announce, Some(&ended.jid), &ended.directed)
            .await;
        self.note_offline(&user, None).await;
    }

    /// §4.2.2, §4.3.2: on initial presence, contacts the user is subscribed to answer
    /// with the view they give the user, to the new resource only. Local contacts who
    /// show nothing stay silent (§4.3.2 allows it); remote ones are probed over s2s.
    async fn probe_contacts(&self, from: &FullJid, contacts: &[Contact]) {
        let user = from.to_bare();
        for contact in presence::probed(contacts) {
            if self.is_local(contact) {
                // A user may be live without a client (a call on the desk phone): every
                // local contact is asked, not only those with a session.
                self.answer_probe(from, contact).await;
            } else {
                self.to_remote(presence::probe(&user, contact));
            }
        }
    }

    /// §4.3.2: answer a probe of `probed` for `prober`, only if it may see it.
    async fn answer_probe(&self, prober: &FullJid, probed: &BareJid) {
        let entry = match self.backend().contact(probed, &prober.to_bare()).await {
            Ok(entry) => entry,
            Err(e) => {
                tracing::warn!(%probed, error = %e, "probe lookup failed");
                return;
            }
        };
        if !presence::may_see(entry.as_ref()) {
            return;
        }
        let view = self
            .authority()
            .snapshot(probed)
            .for_viewer(&prober.to_bare());
        self.deliver_with(|table| {
            self.published_state()
                .to_prober(table, view, prober, probed)
        });
    }

    /// A probe sent by a client (§4.3.1 lets clients probe too).
    pub(crate) async fn client_probe(&self, from: &FullJid, contact: &BareJid) {
        if self.is_local(contact) {
            if contact.node().is_some() {
                self.answer_probe(from, contact).await;
            }
        } else {
            self.to_remote(presence::probe(&from.to_bare(), contact));
        }
    }

    /// §4.6: directed presence is delivered, and remembered while the session is
    /// available so that the target learns when it goes away.
    pub(crate) async fn directed(
        &self,
        from: &FullJid,
        head: &Head,
        mut el: Element,
        available: bool,
        to: Jid,
    ) {
        if available {
            // XEP-0398 §4: into directed presence too (group chat joins).
            self.with_avatar_hash_in(&from.to_bare(), &mut el).await;
        }
        match self.dest(from, Some(&to)) {
            Dest::Server => return,
            Dest::Remote(target) => {
                if !self.to_remote_directed(el) {
                    self.error(head, from, target, DefinedCondition::RemoteServerNotFound);
                    return;
                }
            }
            Dest::Account(bare) => {
                // §8.5.1: presence for an unknown account is dropped silently, and so is
                // presence for a user who hides from the sender: it must look the same.
                if !self.exists(&bare).await || self.authority().hides_from(&bare, &from.to_bare())
                {
                    return;
                }
                self.send_to_available(&self.table(), &bare, &el);
            }
            Dest::Session(full) => {
                if self
                    .authority()
                    .hides_from(&full.to_bare(), &from.to_bare())
                {
                    return;
                }
                self.send_to(&full, el);
            }
        }
        let mut table = self.table_mut();
        if let Some(s) = table.get_mut(from) {
            if !available {
                s.directed.remove(&to);
            } else if s.available() && s.directed.len() < MAX_DIRECTED {
                s.directed.insert(to);
            }
        }
    }

    /// A presence error from a client, e.g. refusing directed presence: passed on to
    /// a local target, dropped otherwise.
    pub(crate) async fn forward_error(&self, from: &FullJid, el: Element, to: Jid) {
        match self.dest(from, Some(&to)) {
            Dest::Session(full) => {
                self.send_to(&full, el);
            }
            Dest::Account(bare) => {
                self.send_to_available(&self.table(), &bare, &el);
            }
            Dest::Remote(_) => {
                self.to_remote_directed(el);
            }
            Dest::Server => {}
        }
    }
}

/// What a publication caused by `resource` sends: everything when the user's view changed,
/// otherwise only what concerns that resource.
fn announce(changed: bool, resource: &FullJid) -> Announce<'_> {
    if changed {
        Announce::all()
    } else {
        Announce::only(resource)
    }
}
