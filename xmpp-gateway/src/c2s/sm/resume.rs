//! XEP-0198 §5 resumption: the sessions that may be resumed, by id, and the hand-over of one
//! to the new connection that resumes it.
//!
//! A resumable session registers when it sends `<enabled resume='true'/>` and holds a
//! [`Ticket`]. A new connection that authenticated as the same user and sends `<resume/>`
//! takes the entry out and asks the session's task for it; that task, live (the old TCP
//! connection is still open) or detached (it dropped), answers with a [`Handover`]: the
//! full JID, the router's queue for it and the stream management state. The session itself
//! never leaves the router's table, so contacts see no change of presence. Taking an entry
//! and asking happen under one lock, so a session whose window runs out at the same moment
//! either withdraws first (the resume fails) or finds the request waiting.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use jid::{BareJid, FullJid};
use tokio::sync::oneshot;

use super::Sm;
use crate::session::Outbox;

/// What a resumed session carries over to its new connection.
#[derive(Debug)]
pub(crate) struct Handover {
    /// The session's full JID, kept.
    pub(crate) jid: FullJid,
    /// The router's queue to the session.
    pub(crate) rx: Outbox,
    /// Counts and the stanzas the client has not acknowledged.
    pub(crate) sm: Sm,
}

/// Where a session sends its [`Handover`].
pub(crate) type Reply = oneshot::Sender<Handover>;

/// The resumable sessions of the c2s listeners that share it.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    entries: Mutex<HashMap<String, Entry>>,
    next: AtomicU64,
}

#[derive(Debug)]
struct Entry {
    user: BareJid,
    token: u64,
    takeover: oneshot::Sender<Reply>,
}

/// A session's registration: where a take-over request reaches it.
#[derive(Debug)]
pub(crate) struct Ticket {
    pub(crate) id: String,
    token: u64,
    /// The request of the connection that resumes this session.
    pub(crate) takeover: oneshot::Receiver<Reply>,
}

impl Registry {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Register `user`'s session under `id` (a fresh one, or the id it was resumed by).
    pub(crate) fn register(&self, id: String, user: BareJid) -> Ticket {
        let token = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.entries().insert(
            id.clone(),
            Entry {
                user,
                token,
                takeover: tx,
            },
        );
        Ticket {
            id,
            token,
            takeover: rx,
        }
    }

    /// Take the session out of the registry: it ends. `false` when a resume took it first:
    /// its request is then waiting in the ticket.
    pub(crate) fn withdraw(&self, ticket: &Ticket) -> bool {
        let mut entries = self.entries();
        match entries.get(&ticket.id) {
            Some(e) if e.token == ticket.token => {
                entries.remove(&ticket.id);
                true
            }
            _ => false,
        }
    }

    /// A new connection of `user` resumes `id`: where the session's hand-over will come, or
    /// `None` when there is no such session of this user (unknown, expired, someone else's).
    pub(crate) fn take_over(
        &self,
        id: &str,
        user: &BareJid,
    ) -> Option<oneshot::Receiver<Handover>> {
        let mut entries = self.entries();
        if entries.get(id).is_none_or(|e| e.user != *user) {
            return None;
        }
        let entry = entries.remove(id)?;
        let (tx, rx) = oneshot::channel();
        entry.takeover.send(tx).ok()?;
        Some(rx)
    }

    /// Resumable sessions now, for tests.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries().len()
    }
}

/// A fresh resumption id: 128 random bits, so ids cannot be guessed.
pub(crate) fn new_id() -> String {
    crate::stream::new_stream_id()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::c2s::sm::Bounds;

    fn bare(s: &str) -> BareJid {
        BareJid::new(s).unwrap()
    }

    #[tokio::test]
    async fn only_the_same_user_takes_a_session_over_and_only_once() {
        let reg = Registry::default();
        let mut ticket = reg.register("id1".into(), bare("u@d"));
        assert!(reg.take_over("id1", &bare("other@d")).is_none());
        assert!(reg.take_over("nope", &bare("u@d")).is_none());
        let handed = reg.take_over("id1", &bare("u@d")).unwrap();
        assert!(
            reg.take_over("id1", &bare("u@d")).is_none(),
            "taken already"
        );
        assert!(!reg.withdraw(&ticket), "the request is waiting");
        let reply = (&mut ticket.takeover).await.unwrap();
        let (_tx, rx) = crate::session::outbox::outbox(4);
        let sm = Sm::new(Bounds {
            stanzas: 1,
            bytes: 1,
        });
        let jid = FullJid::new("u@d/r").unwrap();
        reply
            .send(Handover {
                jid: jid.clone(),
                rx,
                sm,
            })
            .unwrap();
        assert_eq!(handed.await.unwrap().jid, jid);
    }

    #[test]
    fn a_withdrawn_session_cannot_be_resumed_and_a_new_registration_wins() {
        let reg = Registry::default();
        let old = reg.register("id1".into(), bare("u@d"));
        let new = reg.register("id1".into(), bare("u@d"));
        assert!(
            !reg.withdraw(&old),
            "the old registration is not the entry any more"
        );
        assert_eq!(reg.len(), 1);
        assert!(reg.withdraw(&new));
        assert!(reg.take_over("id1", &bare("u@d")).is_none());
    }
}
