//! In-memory backend and session helpers shared by the `features_*` router tests.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jid::{BareJid, FullJid};
use lampfield_xmpp::router::{Outbox, Outgoing, RemoteSender};
use lampfield_xmpp::{
    Backend, BackendError, Contact, Kept, LastLogout, Ports, Router, ScramCredentials, ScramHash,
};
use minidom::Element;

#[path = "../authority_support/mod.rs"]
mod authority_support;
pub use authority_support::Relay;

pub const DOMAIN: &str = "example.org";

/// Most messages the fake keeps offline per user, small so that tests reach it.
pub const OFFLINE_MAX: usize = 3;

/// Most bytes of a vCard the fake keeps, small so that tests reach it.
pub const VCARD_MAX: usize = 4096;

/// Accounts, rosters and offline messages in memory; every write is "durable" at once.
#[derive(Default)]
pub struct FakeBackend {
    pub accounts: Mutex<HashSet<BareJid>>,
    pub rosters: Mutex<HashMap<BareJid, BTreeMap<String, Contact>>>,
    pub writes: Mutex<usize>,
    pub offline: Mutex<HashMap<BareJid, Vec<Element>>>,
    pub vcards: Mutex<HashMap<BareJid, Element>>,
    pub last_logouts: Mutex<HashMap<BareJid, LastLogout>>,
}

impl FakeBackend {
    pub fn with_accounts(names: &[&str]) -> Arc<Self> {
        let b = Self::default();
        for n in names {
            b.accounts.lock().unwrap().insert(bare(n));
        }
        Arc::new(b)
    }

    /// The messages kept offline for `user`, oldest first.
    pub fn kept(&self, user: &str) -> Vec<Element> {
        self.offline
            .lock()
            .unwrap()
            .get(&bare(user))
            .cloned()
            .unwrap_or_default()
    }

    pub fn stored(&self, user: &str, contact: &str) -> Option<Contact> {
        self.rosters
            .lock()
            .unwrap()
            .get(&bare(user))?
            .get(&bare(contact).to_string())
            .cloned()
    }
}

impl Backend for FakeBackend {
    async fn account_exists(&self, user: &BareJid) -> Result<bool, BackendError> {
        Ok(self.accounts.lock().unwrap().contains(user))
    }
    async fn credentials(
        &self,
        _: &BareJid,
        _: ScramHash,
    ) -> Result<Option<ScramCredentials>, BackendError> {
        Ok(None)
    }
    async fn contacts(&self, user: &BareJid) -> Result<Vec<Contact>, BackendError> {
        Ok(self
            .rosters
            .lock()
            .unwrap()
            .get(user)
            .map(|r| r.values().cloned().collect())
            .unwrap_or_default())
    }
    async fn contact(
        &self,
        user: &BareJid,
        contact: &BareJid,
    ) -> Result<Option<Contact>, BackendError> {
        Ok(self
            .rosters
            .lock()
            .unwrap()
            .get(user)
            .and_then(|r| r.get(&contact.to_string()).cloned()))
    }
    async fn put_contact(&self, user: &BareJid, contact: Contact) -> Result<(), BackendError> {
        *self.writes.lock().unwrap() += 1;
        self.rosters
            .lock()
            .unwrap()
            .entry(user.clone())
            .or_default()
            .insert(contact.jid.to_string(), contact);
        Ok(())
    }
    async fn remove_contact(&self, user: &BareJid, contact: &BareJid) -> Result<(), BackendError> {
        *self.writes.lock().unwrap() += 1;
        if let Some(r) = self.rosters.lock().unwrap().get_mut(user) {
            r.remove(&contact.to_string());
        }
        Ok(())
    }
    async fn keep_offline(&self, user: &BareJid, message: &Element) -> Result<Kept, BackendError> {
        let mut offline = self.offline.lock().unwrap();
        let kept = offline.entry(user.clone()).or_default();
        if kept.len() >= OFFLINE_MAX {
            return Ok(Kept::Full);
        }
        kept.push(message.clone());
        Ok(Kept::Stored)
    }
    async fn vcard(&self, user: &BareJid) -> Result<Option<Element>, BackendError> {
        Ok(self.vcards.lock().unwrap().get(user).cloned())
    }
    async fn put_vcard(&self, user: &BareJid, vcard: &Element) -> Result<Kept, BackendError> {
        if String::from(vcard).len() > VCARD_MAX {
            return Ok(Kept::Full);
        }
        self.vcards
            .lock()
            .unwrap()
            .insert(user.clone(), vcard.clone());
        Ok(Kept::Stored)
    }
    async fn last_logout(&self, user: &BareJid) -> Result<Option<LastLogout>, BackendError> {
        Ok(self.last_logouts.lock().unwrap().get(user).cloned())
    }
    async fn put_last_logout(
        &self,
        user: &BareJid,
        logout: &LastLogout,
    ) -> Result<(), BackendError> {
        self.last_logouts
            .lock()
            .unwrap()
            .insert(user.clone(), logout.clone());
        Ok(())
    }
    async fn take_offline(&self, user: &BareJid) -> Result<Vec<Element>, BackendError> {
        Ok(self
            .offline
            .lock()
            .unwrap()
            .remove(user)
            .unwrap_or_default())
    }
}

pub fn bare(local: &str) -> BareJid {
    if local.contains('@') {
        BareJid::new(local).unwrap()
    } else {
        BareJid::new(&format!("{local}@{DOMAIN}")).unwrap()
    }
}

pub fn xml(s: &str) -> Element {
    s.parse().unwrap()
}

/// Parse a stanza, putting its root in `jabber:client` unless it names a namespace.
pub fn client(s: &str) -> Element {
    let root_end = s.find('>').unwrap();
    if s[..root_end].contains("xmlns=") {
        return xml(s);
    }
    let name_end = s[1..].find([' ', '/', '>']).unwrap() + 1;
    xml(&format!(
        "{} xmlns='jabber:client'{}",
        &s[..name_end],
        &s[name_end..]
    ))
}

/// A bound session seen from its client.
pub struct Client {
    pub jid: FullJid,
    pub rx: Outbox,
    pub router: Router<FakeBackend>,
}

impl Client {
    pub async fn login(router: &Router<FakeBackend>, user: &str, resource: Option<&str>) -> Client {
        let (jid, rx) = router.bind(&bare(user), resource).await.unwrap();
        Client {
            jid,
            rx,
            router: router.clone(),
        }
    }

    /// Send a stanza written in the `jabber:client` namespace (added if missing).
    pub async fn send(&self, s: &str) {
        self.router.handle(&self.jid, client(s)).await;
    }

    /// Everything queued so far.
    pub fn drain(&mut self) -> Vec<Element> {
        let mut out = Vec::new();
        while let Ok(m) = self.rx.try_recv() {
            match m {
                Outgoing::Close(c) => panic!("unexpected close {c}"),
                m => out.push(m.stanza().expect("a well-formed stanza")),
            }
        }
        out
    }

    /// The next queued element, waiting a little.
    pub async fn next(&mut self) -> Outgoing {
        tokio::time::timeout(Duration::from_secs(2), self.rx.recv())
            .await
            .expect("timed out")
            .expect("closed")
    }

    pub async fn logout(self) {
        self.router.unbind(&self.jid).await;
    }
}

pub fn router(names: &[&str]) -> (Router<FakeBackend>, Arc<FakeBackend>) {
    let (router, backend, _) = router_with_relay(names);
    (router, backend)
}

/// A router whose authority the test steers: what each viewer may see of each user.
pub fn router_with_relay(names: &[&str]) -> (Router<FakeBackend>, Arc<FakeBackend>, Arc<Relay>) {
    let b = FakeBackend::with_accounts(names);
    let relay = Relay::new();
    let ports = Ports {
        authority: Arc::clone(&relay) as _,
        ..ports(&b, RemoteSender::none())
    };
    (Router::new(DOMAIN, ports), b, relay)
}

/// [`router_with_relay`] with a queue to other domains, whose receiving end the test reads.
pub fn router_with_remote(
    names: &[&str],
) -> (
    Router<FakeBackend>,
    Arc<FakeBackend>,
    Arc<Relay>,
    tokio::sync::mpsc::Receiver<Element>,
) {
    let backend = FakeBackend::with_accounts(names);
    let relay = Relay::new();
    let (tx, out) = tokio::sync::mpsc::channel(64);
    let router = Router::new(
        DOMAIN,
        ports_with(&backend, Arc::clone(&relay), RemoteSender::new(tx)),
    );
    (router, backend, relay, out)
}

/// What a test router is built with: `backend`, the relaying authority, no commands.
pub fn ports(backend: &Arc<FakeBackend>, remote: RemoteSender) -> Ports<FakeBackend> {
    ports_with(backend, Relay::new(), remote)
}

/// [`ports`] with an authority the test keeps a handle on.
pub fn ports_with(
    backend: &Arc<FakeBackend>,
    authority: Arc<Relay>,
    remote: RemoteSender,
) -> Ports<FakeBackend> {
    Ports {
        backend: Arc::clone(backend),
        authority,
        commands: None,
        remote,
    }
}

/// The stanzas of `kind` (and `type`, `None` for no type attribute) in `els`.
pub fn of<'a>(els: &'a [Element], kind: &str, type_: Option<&str>) -> Vec<&'a Element> {
    els.iter()
        .filter(|e| e.name() == kind && e.attr("type") == type_)
        .collect()
}

pub fn error_condition(e: &Element) -> Option<String> {
    let err = e.get_child("error", "jabber:client")?;
    err.children().next().map(|c| c.name().to_owned())
}

/// An error stanza with its `from`, `id` and `to` left out: two errors that differ only in these
/// are the same answer (the addressee, the request's own id, the asker).
pub fn error_shape(e: &Element) -> String {
    let xml = String::from(e);
    let mut out = String::new();
    let mut rest = xml.as_str();
    // The root's attributes, written in this order; a value never holds its own quote.
    for name in [" from=", " id=", " to="] {
        let Some(at) = rest.find(name) else { continue };
        let quote = &rest[at + name.len()..at + name.len() + 1];
        let end = rest[at + name.len() + 1..].find(quote).unwrap() + at + name.len() + 2;
        out.push_str(&rest[..at]);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Log in, ask for the roster and send initial presence; returns the drained client.
pub async fn online(
    router: &Router<FakeBackend>,
    user: &str,
    resource: &str,
    priority: i8,
) -> Client {
    let mut c = Client::login(router, user, Some(resource)).await;
    c.send("<iq type='get' id='roster1'><query xmlns='jabber:iq:roster'/></iq>")
        .await;
    c.send(&format!(
        "<presence><priority>{priority}</priority></presence>"
    ))
    .await;
    c.drain();
    c
}

/// The single roster item of a push, as (jid, subscription, ask).
pub fn pushed(e: &Element) -> Option<(String, String, Option<String>)> {
    if e.name() != "iq" || e.attr("type") != Some("set") {
        return None;
    }
    let item = e
        .get_child("query", "jabber:iq:roster")?
        .children()
        .next()?;
    Some((
        item.attr("jid")?.to_owned(),
        item.attr("subscription").unwrap_or("none").to_owned(),
        item.attr("ask").map(str::to_owned),
    ))
}

/// Make `a` and `b` (already online) subscribe to each other, then drain both.
pub async fn befriend(a: &mut Client, b: &mut Client) {
    let (aj, bj) = (a.jid.to_bare().to_string(), b.jid.to_bare().to_string());
    a.send(&format!("<presence type='subscribe' to='{bj}'/>"))
        .await;
    b.send(&format!("<presence type='subscribed' to='{aj}'/>"))
        .await;
    b.send(&format!("<presence type='subscribe' to='{aj}'/>"))
        .await;
    a.send(&format!("<presence type='subscribed' to='{bj}'/>"))
        .await;
    a.drain();
    b.drain();
}
