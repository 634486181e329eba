//! Presence published on the node's behalf (see [`crate::ports::authority`]): every viewer gets the view
//! the node renders for it, from each of the user's available resources.
//!
//! Two pieces of state make this indistinguishable from plain XMPP for the viewer:
//! - `shown`: which viewers currently hold an available presence of the user. A viewer that may
//!   see nothing gets an unavailable only if it was shown something before, so a blocked viewer
//!   never receives a stanza an offline user would not cause.
//! - the node resource: a user with no client online may still be live (a call on the desk
//!   phone, docs/PRESENCE.md rule 4). The presence then comes from `user@domain/`
//!   [`NODE_RESOURCE`], which goes unavailable when a client comes online or the user goes
//!   offline.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use jid::{BareJid, FullJid};
use minidom::Element;

use super::unavailable;
use crate::delivery::{Deliveries, Delivery};
use crate::session::table::Table;
use crate::stanza::{self, FanoutStanza};

/// Resource of the presence the node publishes for a user without a connected client.
pub const NODE_RESOURCE: &str = "lampfield";

/// Who was shown what, per published user.
#[derive(Debug, Default)]
pub(crate) struct Published {
    /// Viewers holding an available presence of the user, by user.
    pub(crate) shown: HashMap<BareJid, HashSet<BareJid>>,
    /// Users whose presence currently comes from the node resource.
    pub(crate) node_resource: HashSet<BareJid>,
}

/// The resources a publication speaks for.
#[derive(Clone)]
pub(crate) struct Speakers {
    /// Available resources with their priorities (the node resource, when it speaks, at −1 so
    /// it never takes messages addressed to the bare JID).
    pub(crate) live: Vec<(FullJid, i8)>,
    /// Resources that stopped speaking with this publication.
    pub(crate) gone: Vec<FullJid>,
    /// The node resource started speaking with this publication.
    pub(crate) node_started: bool,
}

impl Speakers {
    /// The speakers whose presence `announce` sends: every live one, or the one resource that
    /// changed and a node resource that started; those that stopped always.
    pub(crate) fn announced(&self, announce: Announce<'_>) -> Speakers {
        let (Announce::Only(resource) | Announce::Arrived(resource)) = announce else {
            return self.clone();
        };
        let mut out = self.clone();
        out.live.retain(|(jid, _)| {
            jid == resource || (self.node_started && jid.resource().as_str() == NODE_RESOURCE)
        });
        out
    }

    /// The live speakers other than `resource`, with nothing gone: what a resource that just
    /// became available has not heard of yet.
    pub(crate) fn others_than(&self, resource: &FullJid) -> Speakers {
        Speakers {
            live: self
                .live
                .iter()
                .filter(|(jid, _)| jid != resource)
                .cloned()
                .collect(),
            gone: Vec::new(),
            node_started: false,
        }
    }
}

/// Which resources' presence a publication sends to the viewers.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Announce<'a> {
    /// Every live resource: what viewers see of the user changed.
    All,
    /// Only this resource (it came, went or changed priority): the user's view is the same,
    /// so what viewers hold of the other resources is still right.
    Only(&'a FullJid),
    /// Like [`Announce::Only`] for a resource that just sent initial presence, which also gets
    /// the presence of the user's other available resources (RFC 6121 §4.2.2): it has seen
    /// none of them yet.
    Arrived(&'a FullJid),
}

/// The node resource of `owner`.
#[allow(clippy::expect_used)]
pub(crate) fn node_jid(owner: &BareJid) -> FullJid {
    owner
        .with_resource_str(NODE_RESOURCE)
        .expect("the node resource is a valid resourcepart")
}

/// The stanzas one viewer gets: the view from each live resource (or unavailable from each, when
/// it may see nothing), then unavailable from each resource that stopped speaking.
pub(crate) fn stanzas(view: Option<&Element>, speakers: &Speakers) -> Vec<Element> {
    let mut out = Vec::with_capacity(speakers.live.len() + speakers.gone.len());
    for (jid, priority) in &speakers.live {
        out.push(match view {
            Some(v) => from_resource(v, jid, *priority),
            None => unavailable(jid),
        });
    }
    out.extend(speakers.gone.iter().map(unavailable));
    out
}

/// The stanzas of one fan-out, built and serialized once per distinct view (a view is shared
/// by every viewer at its level, see [`crate::PresenceSnapshot::for_viewer`]).
#[derive(Default)]
pub(crate) struct Rendered {
    views: Vec<(Option<Arc<Element>>, Vec<FanoutStanza>)>,
}

impl Rendered {
    pub(crate) fn stanzas(
        &mut self,
        view: Option<Arc<Element>>,
        speakers: &Speakers,
    ) -> &[FanoutStanza] {
        let same = |seen: &Option<Arc<Element>>| match (seen, &view) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        let at = match self.views.iter().position(|(seen, _)| same(seen)) {
            Some(at) => at,
            None => {
                let built = stanzas(view.as_deref(), speakers)
                    .into_iter()
                    .map(FanoutStanza::new)
                    .collect();
                self.views.push((view, built));
                self.views.len() - 1
            }
        };
        &self.views[at].1
    }
}

/// `view` stamped with its resource and priority.
fn from_resource(view: &Element, jid: &FullJid, priority: i8) -> Element {
    let mut p = view.clone();
    stanza::set_from(&mut p, jid.as_str());
    if priority != 0 {
        p.append_child(
            Element::builder("priority", xmpp_parsers::ns::DEFAULT_NS)
                .append(priority.to_string())
                .build(),
        );
    }
    p
}

/// The router's publication state.
#[derive(Default)]
pub(crate) struct PublishedState {
    state: Mutex<Published>,
    /// One publication per user at a time, striped by user: a fan-out takes its snapshot and
    /// delivers it before the next one for the same user begins, so an older snapshot can never
    /// arrive after a newer one.
    turns: lampfield_stripes::Stripes,
}

impl PublishedState {
    /// Who was shown what; never held across `.await`.
    pub(crate) fn state(&self) -> MutexGuard<'_, Published> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Exclusive right to publish `owner`'s presence until the guard drops.
    pub(crate) async fn turn(&self, owner: &BareJid) -> tokio::sync::MutexGuard<'_, ()> {
        self.turns.lock(owner).await
    }

    /// §3.1.5: what a new subscriber `contact` is owed of `user`: its `view`, asked of the
    /// authority before the table was locked, from each of `user`'s available resources.
    pub(crate) fn to_new_subscriber(
        &self,
        table: &Table,
        view: Option<Arc<Element>>,
        user: &BareJid,
        contact: &BareJid,
    ) -> Deliveries {
        self.current_for(table, view, user, contact)
            .into_iter()
            .map(|p| Delivery::Presence(contact.clone(), p))
            .collect()
    }

    /// §4.3.2: the answer to a probe of `probed`: the prober's `view` to the probing resource
    /// only, or silence.
    pub(crate) fn to_prober(
        &self,
        table: &Table,
        view: Option<Arc<Element>>,
        prober: &FullJid,
        probed: &BareJid,
    ) -> Deliveries {
        self.current_for(table, view, probed, &prober.to_bare())
            .into_iter()
            .map(|mut p| {
                stanza::set_to(&mut p, prober.as_str());
                Delivery::Session(prober.clone(), p)
            })
            .collect()
    }

    /// §3.2.2, §3.3.3: a former subscriber that was shown `user` available learns that it no
    /// longer is, from each resource; one that was shown nothing gets nothing.
    pub(crate) fn to_former_subscriber(
        &self,
        table: &Table,
        user: &BareJid,
        contact: &BareJid,
    ) -> Deliveries {
        let was_shown = self
            .state()
            .shown
            .get_mut(user)
            .is_some_and(|s| s.remove(contact));
        if !was_shown {
            return Vec::new();
        }
        self.current_speakers(table, user)
            .live
            .iter()
            .map(|(jid, _)| Delivery::Presence(contact.clone(), unavailable(jid)))
            .collect()
    }

    /// The presence stanzas `viewer` may see of `owner` now, marking it shown; none when it may
    /// see nothing or nothing speaks for `owner`.
    fn current_for(
        &self,
        table: &Table,
        view: Option<Arc<Element>>,
        owner: &BareJid,
        viewer: &BareJid,
    ) -> Vec<Element> {
        let Some(view) = view else {
            return Vec::new();
        };
        let speakers = self.current_speakers(table, owner);
        if speakers.live.is_empty() {
            return Vec::new();
        }
        self.state()
            .shown
            .entry(owner.clone())
            .or_default()
            .insert(viewer.clone());
        stanzas(Some(&view), &speakers)
    }

    /// Which resources speak for `owner` now, updating the node resource's state.
    pub(crate) fn speakers(
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
        let mut published = self.state();
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
        if live.is_empty() && self.state().node_resource.contains(owner) {
            live.push((node_jid(owner), -1));
        }
        Speakers {
            live,
            gone: Vec::new(),
            node_started: false,
        }
    }
}
