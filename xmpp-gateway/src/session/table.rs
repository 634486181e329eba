//! RFC 6120 §7: the table of bound resources, and delivery to their streams.
//!
//! The table is a plain map under a std lock owned by the router; it is never held
//! across an `.await`. Delivery is `try_send` on each session's bounded channel: a
//! session that cannot keep up is closed with `policy-violation` instead of buffering
//! without limit (RFC 6120 §4.9.3.14).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use jid::{BareJid, FullJid, Jid};
use minidom::Element;
use rand::RngExt;
use rand::distr::Alphanumeric;

use super::outbox::{Outbox, OutboxHandle, OutboxSender, outbox};
use super::{BindError, Outgoing};
use crate::presence::extensions::Extensions;

/// Length of a server-generated resource (RFC 6120 §7.6.2.1).
const GENERATED_RESOURCE_LEN: usize = 16;

/// One bound resource.
pub(crate) struct Session {
    tx: OutboxSender,
    /// It broadcast available presence (RFC 6121 §4.2, §4.4): it receives messages to the
    /// bare JID and its presence is published. The presence itself is the node's to keep.
    available: bool,
    /// Priority of that presence (RFC 6121 §4.7.2.3); 0 when unavailable.
    pub(crate) priority: i8,
    /// The extensions of that presence that viewers may get, by level; none when unavailable.
    pub(crate) extensions: Extensions,
    /// It requested the roster, so it receives roster pushes (RFC 6121 §2.1.6).
    pub(crate) interested: bool,
    /// XEP-0191 §3.2: the block list as this session last heard it, once it asked for it; it
    /// then gets a push for every change (`None`: it never asked).
    pub(crate) blocklist: Option<Arc<BTreeSet<BareJid>>>,
    /// Entities that received directed available presence from it (RFC 6121 §4.6).
    pub(crate) directed: HashSet<Jid>,
    /// It enabled XEP-0280 message carbons; a new session of the same resource starts without.
    pub(crate) carbons: bool,
    /// Its connection dropped and it waits for XEP-0198 resumption (XEP-0357 wakes it).
    pub(crate) detached: bool,
    /// Older sessions of this resource that were replaced and will still unbind.
    replaced: u32,
}

impl Session {
    fn new(tx: OutboxSender) -> Self {
        Self {
            tx,
            available: false,
            priority: 0,
            extensions: Extensions::default(),
            interested: false,
            blocklist: None,
            directed: HashSet::new(),
            carbons: false,
            detached: false,
            replaced: 0,
        }
    }

    /// Whether it sent available presence and may receive messages to the bare JID.
    pub(crate) fn available(&self) -> bool {
        self.available
    }

    /// Record a broadcast: available with `priority` and `extensions`, or unavailable
    /// (priority 0, no extensions).
    pub(crate) fn set_available(&mut self, available: bool, priority: i8, extensions: Extensions) {
        self.available = available;
        self.priority = if available { priority } else { 0 };
        self.extensions = if available {
            extensions
        } else {
            Extensions::default()
        };
    }

    /// Queue a stanza; a full queue closes the session (`policy-violation`).
    pub(crate) fn send(&self, stanza: Element) {
        let _ = self.tx.try_send(Outgoing::Stanza(Box::new(stanza)));
    }

    /// Where a fan-out writes to this session once the table's lock is released.
    pub(crate) fn outbox(&self) -> OutboxHandle {
        OutboxHandle::clone(&self.tx)
    }

    /// Ask the writer to close the stream with `condition`, once. The notice always fits
    /// in the queue, even a full one.
    pub(crate) fn close(&self, condition: &'static str) {
        let _ = self.tx.close_with(condition);
    }
}

/// A session removed from the table, with what is needed to say goodbye.
pub(crate) struct Ended {
    /// Its full JID.
    pub(crate) jid: FullJid,
    /// Whether it had sent available presence.
    pub(crate) was_available: bool,
    /// Its directed-presence targets.
    pub(crate) directed: HashSet<Jid>,
}

/// Every bound session, by bare JID then resource: lookups are O(1).
pub(crate) struct Table {
    users: HashMap<BareJid, HashMap<String, Session>>,
    queue_len: usize,
    max_per_user: usize,
}

impl Table {
    /// An empty table whose sessions get queues of `queue_len` stanzas.
    pub(crate) fn new(queue_len: usize, max_per_user: usize) -> Self {
        Self {
            users: HashMap::new(),
            queue_len: queue_len.max(2),
            max_per_user,
        }
    }

    /// Ask every session of `user` to close with `condition`.
    pub(crate) fn close_user(&self, user: &BareJid, condition: &'static str) {
        for session in self.users.get(user).into_iter().flat_map(HashMap::values) {
            session.close(condition);
        }
    }

    /// Bind a resource (RFC 6120 §7.6, §7.7.2.2: a resource in use is taken over and
    /// the older session is closed with `conflict`). Returns the ended session if one
    /// was replaced.
    pub(crate) fn bind(
        &mut self,
        user: &BareJid,
        resource: Option<&str>,
    ) -> Result<(FullJid, Outbox, Option<Ended>), BindError> {
        let sessions = self.users.entry(user.clone()).or_default();
        let full = match resource.map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => user
                .with_resource_str(r)
                .map_err(|_| BindError::BadResource)?,
            None => loop {
                let r: String = rand::rng()
                    .sample_iter(Alphanumeric)
                    .take(GENERATED_RESOURCE_LEN)
                    .map(char::from)
                    .collect();
                if !sessions.contains_key(&r) {
                    break user
                        .with_resource_str(&r)
                        .map_err(|_| BindError::BadResource)?;
                }
            },
        };
        let key = full.resource().as_str().to_owned();
        if !sessions.contains_key(&key) && sessions.len() >= self.max_per_user {
            return Err(BindError::TooManySessions);
        }
        // The queue's last slot is the close notice's.
        let (tx, rx) = outbox(self.queue_len - 1);
        let mut session = Session::new(tx);
        let ended = sessions.remove(&key).map(|old| {
            old.close("conflict");
            session.replaced = old.replaced + 1;
            Ended {
                jid: full.clone(),
                was_available: old.available(),
                directed: old.directed,
            }
        });
        sessions.insert(key, session);
        Ok((full, rx, ended))
    }

    /// Remove a session whose stream ended. A call that belongs to a session already
    /// replaced by a newer one of the same resource removes nothing.
    pub(crate) fn unbind(&mut self, jid: &FullJid) -> Option<Ended> {
        let user = jid.to_bare();
        let sessions = self.users.get_mut(&user)?;
        let key = jid.resource().as_str();
        let session = sessions.get_mut(key)?;
        if session.replaced > 0 {
            session.replaced -= 1;
            return None;
        }
        let old = sessions.remove(key)?;
        if sessions.is_empty() {
            self.users.remove(&user);
        }
        Some(Ended {
            jid: jid.clone(),
            was_available: old.available(),
            directed: old.directed,
        })
    }

    /// One session by full JID.
    pub(crate) fn get(&self, jid: &FullJid) -> Option<&Session> {
        self.users.get(&jid.to_bare())?.get(jid.resource().as_str())
    }

    /// One session by full JID, to update its presence state.
    pub(crate) fn get_mut(&mut self, jid: &FullJid) -> Option<&mut Session> {
        self.users
            .get_mut(&jid.to_bare())?
            .get_mut(jid.resource().as_str())
    }

    /// Every session of one user, by resource.
    pub(crate) fn of(&self, user: &BareJid) -> Option<&HashMap<String, Session>> {
        self.users.get(user)
    }

    /// Every session of one user, by resource, to update them.
    pub(crate) fn of_mut(&mut self, user: &BareJid) -> Option<&mut HashMap<String, Session>> {
        self.users.get_mut(user)
    }

    /// Queue a stanza to one full JID if it is bound; returns whether it was.
    pub(crate) fn send_to(&self, jid: &FullJid, stanza: Element) -> bool {
        match self.get(jid) {
            Some(s) => {
                s.send(stanza);
                true
            }
            None => false,
        }
    }

    /// Forget `user` (bare or any of its full JIDs) as a target of every session's directed
    /// presence: it was removed, and an account re-created under the name must not hear when
    /// those sessions go away.
    pub(crate) fn forget_directed_to(&mut self, user: &BareJid) {
        for session in self.users.values_mut().flat_map(HashMap::values_mut) {
            session.directed.retain(|target| target.to_bare() != *user);
        }
    }

    /// Number of bound sessions, for tests and metrics.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.users.values().map(HashMap::len).sum()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn bare(s: &str) -> BareJid {
        BareJid::new(s).unwrap()
    }

    #[tokio::test]
    async fn generated_resources_are_distinct() {
        let mut t = Table::new(8, 10);
        let (a, _ra, _) = t.bind(&bare("u@d"), None).unwrap();
        let (b, _rb, _) = t.bind(&bare("u@d"), Some("  ")).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.resource().as_str().len(), GENERATED_RESOURCE_LEN);
        assert_eq!(t.len(), 2);
    }

    #[tokio::test]
    async fn conflict_closes_old_session_and_its_unbind_is_ignored() {
        let mut t = Table::new(8, 10);
        let (j, mut old_rx, _) = t.bind(&bare("u@d"), Some("r")).unwrap();
        let (j2, _new_rx, ended) = t.bind(&bare("u@d"), Some("r")).unwrap();
        assert_eq!(j, j2);
        assert!(ended.is_some());
        assert!(matches!(
            old_rx.recv().await,
            Some(Outgoing::Close("conflict"))
        ));
        assert!(t.unbind(&j).is_none(), "the replaced session's unbind");
        assert_eq!(t.len(), 1);
        assert!(t.unbind(&j).is_some(), "the new session's unbind");
        assert_eq!(t.len(), 0);
    }

    #[tokio::test]
    async fn a_removed_account_is_no_directed_presence_target_any_more() {
        let mut t = Table::new(8, 10);
        let (j, _rx, _) = t.bind(&bare("u@d"), Some("r")).unwrap();
        let targets = ["gone@d/phone", "gone@d", "stays@d", "gone@other/x"];
        t.get_mut(&j).unwrap().directed = targets.iter().map(|s| Jid::new(s).unwrap()).collect();
        t.forget_directed_to(&bare("gone@d"));
        let mut left: Vec<String> = t
            .get(&j)
            .unwrap()
            .directed
            .iter()
            .map(|j| j.to_string())
            .collect();
        left.sort();
        assert_eq!(left, ["gone@other/x", "stays@d"]);
    }

    #[tokio::test]
    async fn session_limit() {
        let mut t = Table::new(8, 1);
        let _a = t.bind(&bare("u@d"), Some("a")).unwrap();
        assert!(matches!(
            t.bind(&bare("u@d"), Some("b")),
            Err(BindError::TooManySessions)
        ));
        assert!(
            t.bind(&bare("u@d"), Some("a")).is_ok(),
            "taking over stays allowed"
        );
    }

    #[tokio::test]
    async fn full_queue_closes_with_policy_violation() {
        let mut t = Table::new(3, 10);
        let (j, mut rx, _) = t.bind(&bare("u@d"), Some("r")).unwrap();
        for _ in 0..10 {
            t.send_to(&j, Element::bare("message", "jabber:client"));
        }
        let mut got = Vec::new();
        while let Ok(m) = rx.try_recv() {
            got.push(m);
        }
        assert_eq!(got.len(), 3);
        assert!(matches!(
            got.last(),
            Some(Outgoing::Close("policy-violation"))
        ));
    }
}
