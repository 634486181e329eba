//! The session table and stanza dispatch: every stanza a bound session sends, and
//! every stanza addressed to a local account, passes through here.
//!
//! Contract with the c2s layer (`c2s/`): after resource binding the session calls
//! [`Router::bind`] and gets the full JID it was given plus a bounded receiver of
//! elements to write to its stream; it hands every stanza it reads to
//! [`Router::handle`]; when the stream ends for any reason (clean close, error, TCP
//! drop, shutdown) it calls [`Router::unbind`] exactly once.

// Implemented in the features step; the signatures below are the contract.

use std::sync::Arc;

use jid::{BareJid, FullJid};
use minidom::Element;
use tokio::sync::mpsc;

use crate::backend::Backend;

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

struct Inner<B> {
    backend: Arc<B>,
}

impl<B: Backend> Clone for Router<B> {
    fn clone(&self) -> Self {
        Self { inner: Arc::clone(&self.inner) }
    }
}

impl<B: Backend> Router<B> {
    /// A router for the local domain of `backend`'s accounts.
    pub fn new(domain: &str, backend: Arc<B>) -> Self {
        let _ = domain;
        Self { inner: Arc::new(Inner { backend }) }
    }

    /// Bind a resource for an authenticated `user`; `None` asks the server to pick one.
    /// Returns the full JID and the receiver the session writes from.
    pub async fn bind(&self, user: &BareJid, resource: Option<&str>) -> Result<(FullJid, mpsc::Receiver<Outgoing>), BindError> {
        let _ = (user, resource, &self.inner.backend);
        todo!("features step")
    }

    /// Handle one stanza a bound session sent. `from` is the session's full JID; the
    /// stanza's own `from` is ignored and rewritten (RFC 6120 §8.1.2.1).
    pub async fn handle(&self, from: &FullJid, stanza: Element) {
        let _ = (from, stanza);
        todo!("features step")
    }

    /// The session's stream ended; broadcast unavailable if it had sent available presence.
    pub async fn unbind(&self, jid: &FullJid) {
        let _ = jid;
        todo!("features step")
    }
}
