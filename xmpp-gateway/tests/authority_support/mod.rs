//! A presence authority for the gateway's tests: every viewer sees the user's last broadcast
//! presence as the client sent it (plain RFC 6121), with no access levels and no other source.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jid::{BareJid, FullJid};
use lampfield_xmpp::{PresenceAuthority, PresenceSnapshot};
use minidom::Element;
use xmpp_parsers::presence::Presence;

/// Each user's available resources with the view their last broadcast gives, oldest first.
#[derive(Default)]
pub struct Relay {
    users: Mutex<HashMap<BareJid, Vec<(FullJid, Arc<Element>)>>>,
}

impl Relay {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
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
        Box::new(Fixed(last))
    }
}

/// The same view for every viewer.
struct Fixed(Option<Arc<Element>>);

impl PresenceSnapshot for Fixed {
    fn for_viewer(&mut self, _: &BareJid) -> Option<Arc<Element>> {
        self.0.clone()
    }
}
