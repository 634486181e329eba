//! Which domains are components (XEP-0114), and the outgoing queue of the one connection
//! each holds: stanzas are serialised once, into the component's namespace, when queued,
//! so the queue is bounded in bytes and the connection task only writes.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use minidom::Element;
use tokio::sync::mpsc;

use crate::ns::{COMPONENT_ACCEPT, JABBER_CLIENT};
use crate::stream::rewrite_ns;

/// What a component's connection task is told.
#[derive(Debug)]
pub(crate) enum Out {
    /// A stanza, already serialised in `jabber:component:accept`.
    Xml(String),
    /// A newer connection authenticated for the same domain: this one ends with `conflict`.
    Replaced,
}

/// One connected component's end of the queue.
struct Link {
    id: u64,
    tx: mpsc::UnboundedSender<Out>,
    queued: Arc<AtomicUsize>,
    max_bytes: usize,
}

/// The connection task's end of the queue.
pub(crate) struct Attached {
    pub(crate) id: u64,
    pub(crate) rx: mpsc::UnboundedReceiver<Out>,
    /// Bytes queued and not yet written; the task subtracts what it writes.
    pub(crate) queued: Arc<AtomicUsize>,
}

/// Where a stanza for a component went.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Queued {
    /// Its domain is no component's.
    NotComponent,
    /// Queued to the component's connection.
    Sent,
    /// The component is configured but not connected, or its queue is full.
    Unavailable,
}

#[derive(Default)]
struct State {
    configured: HashSet<String>,
    links: HashMap<String, Link>,
}

/// The components the router knows: configured domains and their live connections.
#[derive(Default)]
pub(crate) struct Registry {
    state: RwLock<State>,
    ids: AtomicU64,
}

impl Registry {
    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Declare the component domains (lowercase) before their listener accepts anyone.
    pub(crate) fn configure<'a>(&self, domains: impl IntoIterator<Item = &'a str>) {
        let mut state = self.write();
        state
            .configured
            .extend(domains.into_iter().map(str::to_ascii_lowercase));
    }

    /// Whether `domain` is a configured component's, connected or not.
    pub(crate) fn is_component(&self, domain: &str) -> bool {
        let state = self.read();
        // Most nodes have no component: no lowercase copy for them.
        !state.configured.is_empty() && state.configured.contains(&domain.to_ascii_lowercase())
    }

    /// The domains of the components connected now, sorted (XEP-0030 §4 items of the server).
    pub(crate) fn connected(&self) -> Vec<String> {
        let mut out: Vec<String> = self.read().links.keys().cloned().collect();
        out.sort();
        out
    }

    /// A connection authenticated for `domain`: it takes the domain over, and an earlier
    /// connection for it is told to end.
    pub(crate) fn attach(&self, domain: &str, max_bytes: usize) -> Attached {
        let (tx, rx) = mpsc::unbounded_channel();
        let id = self.ids.fetch_add(1, Ordering::Relaxed);
        let queued = Arc::new(AtomicUsize::new(0));
        let link = Link {
            id,
            tx,
            queued: Arc::clone(&queued),
            max_bytes,
        };
        let old = self.write().links.insert(domain.to_owned(), link);
        if let Some(old) = old {
            let _ = old.tx.send(Out::Replaced);
        }
        Attached { id, rx, queued }
    }

    /// The connection `id` for `domain` ended; a newer one that replaced it stays.
    pub(crate) fn detach(&self, domain: &str, id: u64) {
        let mut state = self.write();
        if state.links.get(domain).is_some_and(|l| l.id == id) {
            state.links.remove(domain);
        }
    }

    /// Queue `stanza` (in `jabber:client`) to the component its `to` names, if any.
    pub(crate) fn send(&self, stanza: &Element) -> Queued {
        let state = self.read();
        // Every stanza for another domain passes here: a node without components parses
        // no address for it.
        if state.configured.is_empty() {
            return Queued::NotComponent;
        }
        let Some(domain) = to_domain(stanza).filter(|d| state.configured.contains(d)) else {
            return Queued::NotComponent;
        };
        let Some(link) = state.links.get(&domain) else {
            return Queued::Unavailable;
        };
        let xml = serialise(stanza);
        let len = xml.len();
        // Reserve the bytes first, so that two senders at once cannot both pass the bound.
        let before = link.queued.fetch_add(len, Ordering::AcqRel);
        if before + len > link.max_bytes {
            link.queued.fetch_sub(len, Ordering::AcqRel);
            tracing::debug!(component = %domain, "component queue full; stanza refused");
            return Queued::Unavailable;
        }
        if link.tx.send(Out::Xml(xml)).is_err() {
            link.queued.fetch_sub(len, Ordering::AcqRel);
            return Queued::Unavailable;
        }
        Queued::Sent
    }
}

/// The lowercase domain of a stanza's `to`.
pub(crate) fn to_domain(stanza: &Element) -> Option<String> {
    let to = jid::Jid::new(stanza.attr("to")?).ok()?;
    Some(to.domain().as_str().to_ascii_lowercase())
}

/// A stanza as the component's stream carries it.
fn serialise(stanza: &Element) -> String {
    let el = rewrite_ns(stanza.clone(), JABBER_CLIENT, COMPONENT_ACCEPT);
    let mut out = Vec::new();
    if el.write_to(&mut out).is_err() {
        tracing::error!(
            name = el.name(),
            "could not serialise a stanza for a component"
        );
        return String::new();
    }
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn msg(to: &str) -> Element {
        format!("<message xmlns='jabber:client' to='{to}' from='u@d/r'><body>hi</body></message>")
            .parse()
            .unwrap()
    }

    #[test]
    fn only_configured_domains_are_components() {
        let r = Registry::default();
        assert_eq!(r.send(&msg("room@muc.d")), Queued::NotComponent);
        r.configure(["MUC.d"]);
        assert!(r.is_component("muc.d"));
        assert!(!r.is_component("d"));
        assert_eq!(r.send(&msg("room@muc.d")), Queued::Unavailable);
        assert_eq!(r.send(&msg("x@other.d")), Queued::NotComponent);
    }

    #[test]
    fn queued_in_the_component_namespace_and_bounded_in_bytes() {
        let r = Registry::default();
        r.configure(["muc.d"]);
        let mut a = r.attach("muc.d", 250);
        assert_eq!(r.send(&msg("room@muc.d/n")), Queued::Sent);
        let Ok(Out::Xml(xml)) = a.rx.try_recv() else {
            panic!()
        };
        assert!(xml.contains("jabber:component:accept"), "{xml}");
        assert!(!xml.contains("jabber:client"), "{xml}");
        assert_eq!(a.queued.load(Ordering::Acquire), xml.len());
        // Nothing written: the second does not fit in 250 bytes with the first.
        assert_eq!(r.send(&msg("room@muc.d")), Queued::Sent);
        assert_eq!(r.send(&msg("room@muc.d")), Queued::Unavailable);
        assert_eq!(r.connected(), vec!["muc.d".to_owned()]);
    }

    #[test]
    fn a_second_connection_replaces_the_first() {
        let r = Registry::default();
        r.configure(["muc.d"]);
        let mut first = r.attach("muc.d", 1 << 20);
        let second = r.attach("muc.d", 1 << 20);
        assert!(matches!(first.rx.try_recv(), Ok(Out::Replaced)));
        // The first one's end does not take the domain from the second.
        r.detach("muc.d", first.id);
        assert_eq!(r.connected(), vec!["muc.d".to_owned()]);
        r.detach("muc.d", second.id);
        assert!(r.connected().is_empty());
        assert_eq!(r.send(&msg("muc.d")), Queued::Unavailable);
    }
}
