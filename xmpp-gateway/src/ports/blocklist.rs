//! The port for XEP-0191 Blocking Command (1.3): a user's block list is the node's access rules
//! at level blocked (docs/ACCESS.md), so blocking from a client and a rule set elsewhere are one
//! truth.

use std::future::Future;
use std::pin::Pin;

use jid::{BareJid, Jid};

/// Why a block list change was refused; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    /// The block list (the rule set) would exceed its bounds.
    #[error("the block list is full")]
    Full,
    /// The node could not store the change.
    #[error("block list not stored: {0}")]
    Failed(String),
}

/// A boxed future, so the port can live behind `dyn`.
pub type BlockFuture<'a> = Pin<Box<dyn Future<Output = Result<(), BlockError>> + Send + 'a>>;

/// What the node keeps as a user's block list. Entries are bare JIDs (a contact) or domain-only
/// JIDs (every JID of that domain); a full JID a client blocks is taken as its bare JID.
pub trait Blocklist: Send + Sync + 'static {
    /// Every entry `user` blocks, in a stable order; `Err` when it cannot be read.
    fn blocked(&self, user: &BareJid) -> Result<Vec<BareJid>, BlockError>;

    /// Whether `user`'s block list names `target`'s bare JID or its domain, so that what the
    /// user sends there is refused (XEP-0191 §3.5). When the list cannot be read, nothing is
    /// refused: the block then still holds on the other side, where it matters for privacy.
    fn blocks(&self, user: &BareJid, target: &Jid) -> bool;

    /// Block every one of `jids`, replacing any other rule for it; all or nothing, durable and in
    /// effect when the future resolves.
    fn block<'a>(&'a self, user: &'a BareJid, jids: &'a [BareJid]) -> BlockFuture<'a>;

    /// Unblock `jids` (`None`: every entry); an entry of `jids` that is not blocked is left as it
    /// is, whatever other rule it has. Durable and in effect when the future resolves.
    fn unblock<'a>(&'a self, user: &'a BareJid, jids: Option<&'a [BareJid]>) -> BlockFuture<'a>;
}
