//! A presence authority for the gateway's tests: every viewer sees the user's last broadcast
//! presence as the client sent it (plain RFC 6121), with no other source and one access level
//! besides "sees everything": a viewer the user hides from (blocked) sees nothing.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use jid::{BareJid, FullJid};
use lampfield_xmpp::{PresenceAuthority, PresenceSnapshot};
use minidom::Element;
use xmpp_parsers::presence::Presence;

/// Each user's available resources with the view their last broadcast gives, oldest first.
#[derive(Default)]
pub struct Relay {
    users: Mutex<HashMap<BareJid, Vec<(FullJid, Arc<Element>)>>>,
    /// (owner, viewer): the owner hides from the viewer.
    hidden: Mutex<HashSet<(BareJid, BareJid)>>,
}

impl Relay {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// From now on `owner` hides from `viewer`, as a rule at level blocked does.
    pub fn hide(&self, owner: &BareJid, viewer: &BareJid) {
        self.hidden
            .lock()
            .unwrap()
            .insert((owner.clone(), viewer.clone()));
    }

    fn hidden_from(&self, owner: &BareJid) -> HashSet<BareJid> {
        let hidden = self.hidden.lock().unwrap();
        hidden
            .iter()
            .filter(|(o, _)| o == owner)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// The client's stanza without its sender; a non-zero priority is left to the router, which
/// stamps each resource's own.
fn view(p: &Presence) -> Element {
    let mut p = p.clone();
    p.from = None;
    p.to = None;
    let nonzero = p.priority.0 != 0;
    let mut el = Element::from(p);
    if nonzero {
        el.remove_child("priority", xmpp_parsers::ns::DEFAULT_NS);
    }
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
        Box::new(Hiding {
            hidden: self.hidden_from(owner),
            shown: Fixed(last),
        })
    }

    fn hides_from(&self, owner: &BareJid, viewer: &BareJid) -> bool {
        self.hidden
            .lock()
            .unwrap()
            .contains(&(owner.clone(), viewer.clone()))
    }
}

/// What everyone else sees, and nothing for those the owner hides from.
struct Hiding {
    hidden: HashSet<BareJid>,
    shown: Fixed,
}

impl PresenceSnapshot for Hiding {
    fn for_viewer(&mut self, viewer: &BareJid) -> Option<Arc<Element>> {
        if self.hidden.contains(viewer) {
            return None;
        }
        self.shown.for_viewer(viewer)
    }
}

/// The same view for every viewer.
struct Fixed(Option<Arc<Element>>);

impl PresenceSnapshot for Fixed {
    fn for_viewer(&mut self, _: &BareJid) -> Option<Arc<Element>> {
        self.0.clone()
    }
}
