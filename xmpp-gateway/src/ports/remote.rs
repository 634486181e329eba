//! The port to other domains: the bounded queue the router hands every stanza for another
//! domain to, drained by the s2s layer or a node's dispatcher in front of it.

use minidom::Element;
use tokio::sync::mpsc;

/// The bounded queue from the router to whatever routes stanzas to other domains (the
/// s2s layer, or a node's dispatcher in front of it).
#[derive(Debug, Clone)]
pub struct RemoteSender(Option<mpsc::Sender<Element>>);

impl RemoteSender {
    /// A sender over `tx`; whoever routes to other domains drains its receiver.
    pub fn new(tx: mpsc::Sender<Element>) -> Self {
        Self(Some(tx))
    }

    /// No route to other domains: every stanza for one is refused
    /// (`remote-server-not-found`).
    pub fn none() -> Self {
        Self(None)
    }

    /// Queue without waiting; `false` when there is no route or the queue is full or closed.
    pub(crate) fn send(&self, stanza: Element) -> bool {
        match &self.0 {
            Some(tx) => tx.try_send(stanza).is_ok(),
            None => {
                tracing::trace!(to = ?stanza.attr("to"), "no route to remote domains");
                false
            }
        }
    }
}
