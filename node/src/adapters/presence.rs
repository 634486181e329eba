//! The gateway's presence port over the engine: clients' presence goes in as a source, and every
//! presence the gateway sends is the engine's view for that viewer, rendered to XML.

use std::sync::Arc;

use jid::{BareJid, FullJid};
use lampfield_xmpp::{PresenceAuthority, PresenceSnapshot, Router};
use minidom::Element;
use tokio_util::sync::CancellationToken;
use xmpp_parsers::presence::Presence;

use super::presence_xml;
use super::xmpp::StoreBackend;
use crate::engine::{ChangeFeed, Engine, FeedScope, Snapshot};
use lampfield_domain::access::Level;

/// The engine as the gateway's presence authority.
pub struct EngineAuthority {
    engine: Engine,
}

impl EngineAuthority {
    /// Over `engine`.
    pub fn new(engine: Engine) -> Self {
        EngineAuthority { engine }
    }
}

impl PresenceAuthority for EngineAuthority {
    fn client_presence(&self, jid: &FullJid, presence: Option<&Presence>) -> bool {
        let resource = jid.resource().as_str();
        let source = presence.map(|p| presence_xml::client_source(p, resource));
        self.engine
            .client(&jid.to_bare(), resource, source)
            .unwrap_or_else(|e| {
                tracing::debug!(%jid, error = %e, "client presence not taken");
                false
            })
    }

    fn client_active(&self, jid: &FullJid, active: bool) -> bool {
        self.engine
            .client_active(&jid.to_bare(), jid.resource().as_str(), active)
            .unwrap_or(false)
    }

    fn snapshot(&self, owner: &BareJid) -> Box<dyn PresenceSnapshot> {
        Box::new(XmlSnapshot {
            snapshot: self.engine.snapshot(owner).ok(),
            rendered: Default::default(),
        })
    }
}

/// A snapshot whose views are rendered to XML once per level.
struct XmlSnapshot {
    /// `None` for an unknown user: nobody sees anything.
    snapshot: Option<Snapshot>,
    rendered: [Option<Option<Arc<Element>>>; Level::ALL.len()],
}

impl PresenceSnapshot for XmlSnapshot {
    fn for_viewer(&mut self, viewer: &BareJid, groups: &[String]) -> Option<Arc<Element>> {
        let snapshot = self.snapshot.as_mut()?;
        let level = snapshot.level_of(viewer, groups);
        self.rendered[level as usize]
            .get_or_insert_with(|| presence_xml::render(snapshot.at(level)).map(Arc::new))
            .clone()
    }
}

/// Fans out engine-side changes (PBX, calendar, rules, timers) through the router, one user at a
/// time and coalesced: a user who changes ten times while a fan-out runs is published once more,
/// with the latest state. Its feed leaves out what clients change themselves, which the router
/// fans out as it arrives. Memory is bounded by the number of users.
pub struct XmppPublisher {
    feed: ChangeFeed,
    router: Router<StoreBackend>,
}

impl XmppPublisher {
    /// Start the worker that publishes `engine`'s changes through `router` until `cancel`.
    pub fn start(engine: &Engine, router: Router<StoreBackend>, cancel: CancellationToken) {
        let publisher = XmppPublisher {
            feed: engine.subscribe(FeedScope::NotByClients),
            router,
        };
        tokio::spawn(publisher.run(cancel));
    }

    async fn run(mut self, cancel: CancellationToken) {
        while let Some(user) = self.feed.next_until(&cancel).await {
            self.router.publish(&user).await;
        }
    }
}
