//! XEP-0163 §4: notifications. A publish or retract goes as a headline `<event/>` from the
//! owner's bare JID to every available session that may see the node (the owner's own included)
//! and whose caps ask for `NODE+notify` (§4.2, filtered notifications); when a session comes
//! online or changes its caps it is sent the last item of each node it asks for from the owners
//! whose presence it receives (§4.3.2, `send_last_published_item`). Only local viewers are
//! notified; contacts on other domains read items when they ask.

use jid::{BareJid, FullJid};
use minidom::Element;
use xmpp_parsers::iq::Iq;

use super::caps::{self, CapsCache, Interests, Lookup};
use super::{NS_EVENT, access};
use crate::ports::authority::AccessLevel;
use crate::ports::backend::Backend;
use crate::ports::pep::{AccessModel, NodeConfig, SendLast};
use crate::router::Router;

/// Most owners whose last items one session is sent at login (its roster is bounded too).
const MAX_OWNERS: usize = 512;

/// What a notification says of a node.
pub(super) enum Change {
    /// An item published, or a `<retract/>`: sent inside `<items node=N/>`.
    Items(Element),
    /// §8.4.2: the node was deleted.
    Deleted,
}

/// `<message type='headline'><event>…</event></message>` about `node`.
fn event(owner: &BareJid, to: &FullJid, id: String, node: &str, change: &Change) -> Element {
    let child = match change {
        Change::Items(inner) => Element::builder("items", NS_EVENT)
            .attr(rxml::xml_ncname!("node").to_owned(), node)
            .append(inner.clone())
            .build(),
        Change::Deleted => Element::builder("delete", NS_EVENT)
            .attr(rxml::xml_ncname!("node").to_owned(), node)
            .build(),
    };
    Element::builder("message", crate::ns::JABBER_CLIENT)
        .attr(rxml::xml_ncname!("type").to_owned(), "headline")
        .attr(rxml::xml_ncname!("from").to_owned(), owner.to_string())
        .attr(rxml::xml_ncname!("to").to_owned(), to.to_string())
        .attr(rxml::xml_ncname!("id").to_owned(), id)
        .append(Element::builder("event", NS_EVENT).append(child).build())
        .build()
}

impl<B: Backend> Router<B> {
    /// The available sessions of `viewer` with their known interests.
    fn interested_sessions(&self, viewer: &BareJid) -> Vec<(FullJid, Interests)> {
        let table = self.table();
        let Some(sessions) = table.of(viewer) else {
            return Vec::new();
        };
        sessions
            .iter()
            .filter(|(_, s)| s.available())
            .filter_map(|(resource, s)| {
                let interests = self.caps_cache().interests(&caps::claim(&s.extensions)?)?;
                let jid = viewer.with_resource_str(resource).ok()?;
                Some((jid, interests))
            })
            .collect()
    }

    /// Send `change` of `owner`'s node `node` to every interested session that may see it.
    pub(super) async fn pep_notify(
        &self,
        owner: &BareJid,
        node: &str,
        config: &NodeConfig,
        change: Change,
    ) {
        let mut viewers = vec![owner.clone()];
        if config.access_model != AccessModel::Whitelist {
            match self.backend().contacts(owner).await {
                Ok(contacts) => viewers.extend(
                    contacts
                        .into_iter()
                        .filter(|c| c.subscription.from && self.is_local(&c.jid))
                        .map(|c| c.jid),
                ),
                Err(e) => {
                    tracing::warn!(%owner, error = %e, "roster unreadable; only the owner notified")
                }
            }
        }
        for viewer in viewers {
            let sessions = self.interested_sessions(&viewer);
            if sessions.iter().all(|(_, wants)| !wants.contains(node)) {
                continue;
            }
            let level = self.viewer_level(owner, &viewer).await;
            if !access::may_see(viewer == *owner, level, node, config.access_model) {
                continue;
            }
            for (jid, wants) in sessions {
                if wants.contains(node) {
                    self.send_to(&jid, event(owner, &jid, self.push_id(), node, &change));
                }
            }
        }
    }

    /// A session became available or changed its presence extensions: learn what it wants to be
    /// notified of, then send it the last items.
    pub(crate) async fn pep_presence(&self, jid: &FullJid) {
        let claim = {
            let table = self.table();
            table.get(jid).and_then(|s| caps::claim(&s.extensions))
        };
        let Some(claim) = claim else { return };
        let server = self.domain().to_string();
        match self.caps_cache().lookup(jid, claim, &server) {
            Lookup::Known(interests) => self.pep_last_items(jid, &interests).await,
            Lookup::Ask(query) => {
                self.send_to(jid, query);
            }
            Lookup::Unknown => {}
        }
    }

    /// Whether `iq` answers one of our caps queries (then it is taken here).
    pub(crate) async fn pep_caps_answer(&self, from: &FullJid, iq: &Iq) -> bool {
        let (id, payload) = match iq {
            Iq::Result { id, payload, .. } => (id, payload.clone()),
            Iq::Error { id, .. } => (id, None),
            Iq::Get { .. } | Iq::Set { .. } => return false,
        };
        if !CapsCache::is_ours(id) {
            return false;
        }
        if let Some(interests) = self.caps_cache().answered(from, id, payload) {
            self.pep_last_items(from, &interests).await;
        }
        true
    }

    /// §4.3.2: the last item of each node `jid` wants, from itself and from every local owner
    /// whose presence it receives, as far as it may see them.
    async fn pep_last_items(&self, jid: &FullJid, interests: &Interests) {
        if interests.is_empty() {
            return;
        }
        let viewer = jid.to_bare();
        let mut owners = vec![viewer.clone()];
        match self.backend().contacts(&viewer).await {
            Ok(contacts) => owners.extend(
                contacts
                    .into_iter()
                    .filter(|c| c.subscription.to && self.is_local(&c.jid) && c.jid != viewer)
                    .map(|c| c.jid)
                    .take(MAX_OWNERS),
            ),
            Err(e) => tracing::warn!(%viewer, error = %e, "roster unreadable; no last items"),
        }
        for owner in owners {
            let level = self.viewer_level(&owner, &viewer).await;
            let own = owner == viewer;
            if !own && level.is_none_or(|l| l == AccessLevel::Blocked) {
                continue;
            }
            for name in interests.iter() {
                // Nothing this viewer could see is read.
                if !own && !access::may_see(false, level, name, AccessModel::Open) {
                    continue;
                }
                let node = match self.backend().pep_node(&owner, name).await {
                    Ok(Some(node)) => node,
                    Ok(None) => continue,
                    Err(e) => {
                        tracing::warn!(%owner, error = %e, "PEP node unreadable");
                        continue;
                    }
                };
                if node.config.send_last == SendLast::Never
                    || !access::may_see(own, level, name, node.config.access_model)
                {
                    continue;
                }
                if let Some(last) = node.items.last() {
                    let item = super::item_element(NS_EVENT, last);
                    let change = Change::Items(item);
                    self.send_to(jid, event(&owner, jid, self.push_id(), name, &change));
                }
            }
        }
    }
}
