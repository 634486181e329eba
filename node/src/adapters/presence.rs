//! The gateway's presence port over the engine: clients' presence goes in as a source, and every
//! presence the gateway sends is the engine's view for that viewer, rendered to XML.

use std::sync::Arc;

use jid::{BareJid, FullJid};
use lampfield_xmpp::{
    AccessLevel, Blocklist, Disclosure, PresenceAuthority, PresenceSnapshot, Router, Shown,
};
use minidom::Element;
use tokio_util::sync::CancellationToken;
use xmpp_parsers::presence::Presence;

use super::presence_xml;
use super::xmpp::StoreBackend;
use crate::engine::{ChangeFeed, Engine, FeedScope, Snapshot, SourceChange};
use crate::store::{Contact, Store};
use lampfield_domain::access::{self, Level};
use lampfield_domain::presence::{Manual, ManualAvailability};

/// The engine as the gateway's presence authority; the store gives each viewer's groups in
/// the owner's roster, which access rules may name.
pub struct EngineAuthority {
    engine: Engine,
    store: Store,
}

impl EngineAuthority {
    /// Over `engine`, with rosters from `store`.
    pub fn new(engine: Engine, store: Store) -> Self {
        EngineAuthority { engine, store }
    }

    /// The engine behind it.
    pub(super) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The viewer's level by the owner's rules, its roster groups and the node's policy, as a
    /// snapshot would judge it. When the rules or the roster cannot be read, blocked: a rule may
    /// block a group, so nobody is judged without them.
    fn level(&self, owner: &BareJid, viewer: &BareJid) -> Level {
        let Ok(rules) = self.engine.rules(owner) else {
            return Level::Blocked;
        };
        let mut roster = None;
        let Some(groups) = groups_of(&mut roster, &self.store, owner, viewer) else {
            return Level::Blocked;
        };
        access::level_for(owner, viewer, groups, &rules, &self.engine.policy())
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
        Box::new(XmlSnapshot::new(&self.engine, &self.store, owner))
    }

    /// Blocked at [`EngineAuthority::level`], which is also what it gives when the rules or the
    /// roster cannot be read.
    fn hides_from(&self, owner: &BareJid, viewer: &BareJid) -> bool {
        self.level(owner, viewer) == Level::Blocked
    }

    fn level_for(&self, owner: &BareJid, viewer: &BareJid) -> AccessLevel {
        match self.level(owner, viewer) {
            Level::Blocked => AccessLevel::Blocked,
            Level::Public => AccessLevel::Public,
            Level::Business => AccessLevel::Business,
            Level::Team => AccessLevel::Team,
            Level::Personal => AccessLevel::Personal,
        }
    }

    fn set_invisible<'a>(
        &'a self,
        user: &'a BareJid,
        invisible: bool,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send + 'a>> {
        Box::pin(async move {
            let appears_offline = |m: &Manual| m.availability == ManualAvailability::AppearOffline;
            let current = match self.engine.record(user) {
                Ok(record) => record.sources.manual,
                Err(e) => {
                    tracing::debug!(%user, error = %e, "invisibility not taken");
                    return false;
                }
            };
            let change = if invisible {
                Some(Manual {
                    availability: ManualAvailability::AppearOffline,
                    activity: None,
                    note: None,
                    until: None,
                    since: crate::engine::now(),
                })
            } else if current.as_ref().is_some_and(appears_offline) {
                None
            } else {
                // Visible again lifts only "appear offline": another state the user set stays.
                return true;
            };
            match self.engine.update(user, SourceChange::Manual(change)).await {
                Ok(_) => true,
                Err(e) => {
                    tracing::warn!(%user, error = %e, "invisibility not stored");
                    false
                }
            }
        })
    }

    fn blocklist(&self) -> Option<&dyn Blocklist> {
        Some(self)
    }
}

/// One user's presence frozen for one fan-out, as every viewer is shown it: the viewer's level
/// and the `<presence/>` rendered for that level (once per level). The gateway's publications
/// and the federation's change notices both read it, so they cannot disagree on a view.
pub struct XmlSnapshot {
    /// `None` for an unknown user: nobody sees anything.
    snapshot: Option<Snapshot>,
    rendered: [Option<Option<Arc<Element>>>; Level::ALL.len()],
    store: Store,
    owner: BareJid,
    /// The owner's roster, read once, at the first viewer who is not the owner (`Some(None)`:
    /// it could not be read).
    roster: Option<Option<Arc<Vec<(BareJid, Contact)>>>>,
}

/// `viewer`'s groups in `owner`'s roster, read into `roster` on first use; none for the owner
/// and for strangers. `None` when the roster cannot be read: a rule may give a group less than
/// its members would get otherwise, so nobody is judged without it.
fn groups_of<'a>(
    roster: &'a mut Option<Option<Arc<Vec<(BareJid, Contact)>>>>,
    store: &Store,
    owner: &BareJid,
    viewer: &BareJid,
) -> Option<&'a [String]> {
    if viewer == owner {
        return Some(&[]);
    }
    let roster = roster.get_or_insert_with(|| match store.roster(owner) {
        Ok(roster) => Some(roster),
        Err(e) => {
            tracing::warn!(%owner, error = %e, "roster unreadable; presence shown to no one");
            None
        }
    });
    let roster = roster.as_ref()?;
    // The store keeps a roster in byte order of the contact's JID.
    Some(
        match roster.binary_search_by(|(jid, _)| jid.as_str().cmp(viewer.as_str())) {
            Ok(at) => &roster[at].1.groups,
            Err(_) => &[],
        },
    )
}

impl XmlSnapshot {
    /// `owner`'s presence now, with rosters from `store`.
    pub fn new(engine: &Engine, store: &Store, owner: &BareJid) -> Self {
        XmlSnapshot {
            snapshot: engine.snapshot(owner).ok(),
            rendered: Default::default(),
            store: store.clone(),
            owner: owner.clone(),
            roster: None,
        }
    }

    /// The level `viewer` sees the owner at, and the presence rendered for it (`None`: the
    /// owner shows as offline). `None` altogether for an unknown owner, or when the owner's
    /// roster cannot be read (nobody is judged without it).
    pub fn level_and_view(&mut self, viewer: &BareJid) -> Option<(Level, Option<Arc<Element>>)> {
        let snapshot = self.snapshot.as_mut()?;
        let groups = groups_of(&mut self.roster, &self.store, &self.owner, viewer)?;
        let level = snapshot.level_of(viewer, groups);
        let view = self.rendered[level as usize]
            .get_or_insert_with(|| presence_xml::render(snapshot.at(level)).map(Arc::new))
            .clone();
        Some((level, view))
    }
}

impl PresenceSnapshot for XmlSnapshot {
    fn for_viewer(&mut self, viewer: &BareJid) -> Option<Shown> {
        let (level, presence) = self.level_and_view(viewer)?;
        Some(Shown {
            presence: presence?,
            disclosure: disclosure(level)?,
        })
    }
}

/// How much of the user's clients a level shows (docs/ACCESS.md, "Client extensions in
/// presence"): devices from team on, everything they say at personal (the owner's own level);
/// below team only the person.
fn disclosure(level: Level) -> Option<Disclosure> {
    match level {
        Level::Blocked => None,
        Level::Public | Level::Business => Some(Disclosure::Person),
        Level::Team => Some(Disclosure::Devices),
        Level::Personal => Some(Disclosure::Everything),
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(crate) mod tests {
    use std::time::Duration;

    use lampfield_domain::access::{NodePolicy, Rules};

    use super::*;
    use crate::engine::EngineConfig;

    fn jid(s: &str) -> BareJid {
        BareJid::new(s).unwrap()
    }

    /// A running engine over a temporary store with the one account `user`.
    pub(crate) async fn engine_with(user: &BareJid) -> (Engine, Store) {
        let store = Store::temporary().unwrap();
        let account = crate::adapters::xmpp::new_account("pw").unwrap();
        store.create_account(user, &account).await.unwrap();
        let config = EngineConfig {
            idle_threshold: Duration::from_secs(300),
            policy: NodePolicy::default(),
        };
        let engine = Engine::start(store.clone(), config, CancellationToken::new());
        (engine, store)
    }

    #[tokio::test]
    async fn hides_from_whoever_a_contact_group_or_domain_rule_blocks() {
        let alice = jid("alice@example.org");
        let (engine, store) = engine_with(&alice).await;
        let in_group = Contact {
            groups: vec!["Blocked".into()],
            ..Contact::default()
        };
        store
            .put_contact(&alice, &jid("grouped@example.org"), &in_group)
            .await
            .unwrap();
        let mut rules = Rules::default();
        rules
            .contacts
            .insert(jid("bob@example.org"), Level::Blocked);
        rules.groups.insert("Blocked".into(), Level::Blocked);
        rules
            .domains
            .insert(jid("x@spam.example").domain().to_owned(), Level::Blocked);
        engine.set_rules(&alice, rules).await.unwrap();
        let authority = EngineAuthority::new(engine, store);

        for hidden in ["bob@example.org", "grouped@example.org", "eve@spam.example"] {
            assert!(authority.hides_from(&alice, &jid(hidden)), "{hidden}");
        }
        for shown in ["carol@example.org", "alice@example.org", "zed@remote.net"] {
            assert!(!authority.hides_from(&alice, &jid(shown)), "{shown}");
        }
    }
}
