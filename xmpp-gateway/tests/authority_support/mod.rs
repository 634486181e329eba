//! A presence authority for the gateway's tests: every viewer sees the user's last broadcast
//! presence as the client sent it (plain RFC 6121: its show and status, extensions left to the
//! router), with no other source. Viewers see the user's devices unless a test says otherwise
//! ([`Relay::disclose`]; a viewer the user hides from, as blocked, sees nothing); the user sees
//! everything.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use jid::Jid;
use jid::{BareJid, FullJid};
use lampfield_xmpp::{
    AccessLevel, BlockError, BlockFuture, Blocklist, Disclosure, PresenceAuthority,
    PresenceSnapshot, Shown,
};
use minidom::Element;
use xmpp_parsers::presence::Presence;

/// Each user's available resources with the view their last broadcast gives, oldest first.
#[derive(Default)]
pub struct Relay {
    users: Mutex<HashMap<BareJid, Vec<(FullJid, Arc<Element>)>>>,
    /// What a viewer may see of an owner, where a test set it (`None`: nothing, the owner hides
    /// from the viewer).
    disclosed: Mutex<HashMap<(BareJid, BareJid), Option<Disclosure>>>,
    /// Each owner's rules as the node keeps them: a bare JID (a contact) or a domain JID (a
    /// domain) to a level name; "blocked" hides and is the block list.
    rules: Mutex<HashMap<BareJid, BTreeMap<BareJid, String>>>,
}

impl Relay {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// From now on `viewer` sees `owner` at `disclosure` (`None`: sees nothing, as if blocked).
    pub fn disclose(&self, owner: &BareJid, viewer: &BareJid, disclosure: Option<Disclosure>) {
        self.disclosed
            .lock()
            .unwrap()
            .insert((owner.clone(), viewer.clone()), disclosure);
    }

    /// From now on `owner` hides from `viewer`, as a rule at level blocked does.
    pub fn hide(&self, owner: &BareJid, viewer: &BareJid) {
        self.disclose(owner, viewer, None);
    }

    /// Set (`Some(level)`) or remove one rule of `owner`, as the CLI or the API does.
    pub fn set_rule(&self, owner: &BareJid, entry: &BareJid, level: Option<&str>) {
        let mut rules = self.rules.lock().unwrap();
        let of = rules.entry(owner.clone()).or_default();
        match level {
            Some(l) => of.insert(entry.clone(), l.to_owned()),
            None => of.remove(entry),
        };
    }

    /// The level of one rule of `owner`.
    pub fn rule(&self, owner: &BareJid, entry: &BareJid) -> Option<String> {
        self.rules.lock().unwrap().get(owner)?.get(entry).cloned()
    }

    fn is_blocked(&self, owner: &BareJid, entry: &BareJid) -> bool {
        self.rule(owner, entry).as_deref() == Some("blocked")
    }
}

/// The client's stanza without its sender, its priority and its extensions, as the node renders
/// it: the router stamps each resource's priority and passes the extensions on itself.
fn view(p: &Presence) -> Element {
    let mut p = p.clone();
    p.from = None;
    p.to = None;
    p.payloads.clear();
    let mut el = Element::from(p);
    el.remove_child("priority", xmpp_parsers::ns::DEFAULT_NS);
    el
}

impl PresenceAuthority for Relay {
    fn client_presence(&self, jid: &FullJid, presence: Option<&Presence>) -> bool {
        let mut users = self.users.lock().unwrap();
        let resources = users.entry(jid.to_bare()).or_default();
        let before = resources.last().map(|(_, v)| Arc::clone(v));
        resources.retain(|(j, _)| j != jid);
        if let Some(p) = presence {
            resources.push((jid.clone(), Arc::new(view(p))));
        }
        let after = resources.last().map(|(_, v)| Arc::clone(v));
        before.as_deref() != after.as_deref()
    }

    fn snapshot(&self, owner: &BareJid) -> Box<dyn PresenceSnapshot> {
        let users = self.users.lock().unwrap();
        let last = users
            .get(owner)
            .and_then(|r| r.last())
            .map(|(_, v)| Arc::clone(v));
        let disclosed = self
            .disclosed
            .lock()
            .unwrap()
            .iter()
            .filter(|((o, _), _)| o == owner)
            .map(|((_, v), d)| (v.clone(), *d))
            .collect();
        Box::new(Fixed {
            owner: owner.clone(),
            view: last,
            disclosed,
        })
    }

    /// The level of the viewer's contact rule; business (the node's default for colleagues)
    /// without one.
    fn level_for(&self, owner: &BareJid, viewer: &BareJid) -> AccessLevel {
        match self.rule(owner, viewer).as_deref() {
            Some("blocked") => AccessLevel::Blocked,
            Some("public") => AccessLevel::Public,
            Some("team") => AccessLevel::Team,
            Some("personal") => AccessLevel::Personal,
            _ => AccessLevel::Business,
        }
    }

    fn hides_from(&self, owner: &BareJid, viewer: &BareJid) -> bool {
        let domain = BareJid::from_parts(None, viewer.domain());
        self.is_blocked(owner, viewer)
            || self.is_blocked(owner, &domain)
            || self
                .disclosed
                .lock()
                .unwrap()
                .get(&(owner.clone(), viewer.clone()))
                .is_some_and(Option::is_none)
    }

    fn blocklist(&self) -> Option<&dyn Blocklist> {
        Some(self)
    }
}

impl Blocklist for Relay {
    fn blocked(&self, user: &BareJid) -> Result<Vec<BareJid>, BlockError> {
        let rules = self.rules.lock().unwrap();
        Ok(rules
            .get(user)
            .into_iter()
            .flatten()
            .filter(|(_, l)| *l == "blocked")
            .map(|(j, _)| j.clone())
            .collect())
    }

    fn blocks(&self, user: &BareJid, target: &Jid) -> bool {
        let target = target.to_bare();
        self.is_blocked(user, &target)
            || self.is_blocked(user, &BareJid::from_parts(None, target.domain()))
    }

    fn block<'a>(&'a self, user: &'a BareJid, jids: &'a [BareJid]) -> BlockFuture<'a> {
        for jid in jids {
            self.set_rule(user, jid, Some("blocked"));
        }
        Box::pin(async { Ok(()) })
    }

    fn unblock<'a>(&'a self, user: &'a BareJid, jids: Option<&'a [BareJid]>) -> BlockFuture<'a> {
        let jids = match jids {
            Some(j) => j.to_vec(),
            None => self.blocked(user).unwrap(),
        };
        for jid in jids {
            if self.is_blocked(user, &jid) {
                self.set_rule(user, &jid, None);
            }
        }
        Box::pin(async { Ok(()) })
    }
}

/// The same view for every viewer, in the form the test disclosed to it.
struct Fixed {
    owner: BareJid,
    view: Option<Arc<Element>>,
    disclosed: HashMap<BareJid, Option<Disclosure>>,
}

impl PresenceSnapshot for Fixed {
    fn for_viewer(&mut self, viewer: &BareJid) -> Option<Shown> {
        let disclosure = if *viewer == self.owner {
            Disclosure::Everything
        } else {
            self.disclosed
                .get(viewer)
                .copied()
                .unwrap_or(Some(Disclosure::Devices))?
        };
        Some(Shown {
            presence: Arc::clone(self.view.as_ref()?),
            disclosure,
        })
    }
}
