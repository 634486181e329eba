//! Delivery to local sessions and to other domains, shared by every feature: one stanza to the
//! available resources of an account (RFC 6121 §8.5.2.1.1), presence to a bare JID wherever it
//! lives, and the roster a publication goes out to.

use std::sync::Arc;

use jid::BareJid;
use minidom::Element;

use super::Router;
use crate::ports::backend::{Backend, Contact};
use crate::session::fanout::Fanout;
use crate::session::table::Table;
use crate::stanza::{self, Shared};

impl<B: Backend> Router<B> {
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
    fn send_shared_to_available(
        &self,
        table: &Table,
        user: &BareJid,
        stanza: &Shared,
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
    pub(crate) fn deliver_shared(
        &self,
        table: &Table,
        to: &BareJid,
        p: &Shared,
        fanout: &mut Fanout,
    ) {
        if self.is_local(to) {
            self.send_shared_to_available(table, to, p, fanout);
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
