//! Personal eventing (XEP-0163 over XEP-0060, persisted as XEP-0223 asks): `usernode_pep`, one
//! record per user and node holding the node's configuration and its items, newest last. The
//! gateway decides what a publish or retract makes of a node; the store keeps the result within
//! the per-user bounds below and acknowledges once it is on disk.

use jid::BareJid;
use serde::{Deserialize, Serialize};

use super::records;
use super::schema::{self, USERNODE_PEP};
use super::{Store, StoreError};

/// Most nodes one user keeps.
pub const MAX_PEP_NODES: usize = 64;
/// Most items one node keeps (`pubsub#max_items` `max` means this).
pub const MAX_PEP_ITEMS: usize = 256;
/// Most bytes of one item's payload as serialized. XEP-0084 avatar data is base64 in the item:
/// Conversations sends a 192 px picture of some tens of KiB, desktop clients larger ones.
pub const MAX_PEP_ITEM_BYTES: usize = 128 * 1024;
/// Most bytes one user keeps over all nodes, as stored.
pub const MAX_PEP_BYTES: usize = 4 * 1024 * 1024;

/// One node of one user, its name in the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PepNode {
    /// `pubsub#access_model`: `open`, `presence`, `roster` or `whitelist`.
    pub access_model: String,
    /// `pubsub#persist_items`.
    pub persist_items: bool,
    /// `pubsub#max_items`, at most [`MAX_PEP_ITEMS`].
    pub max_items: usize,
    /// `pubsub#send_last_published_item`: `never`, `on_sub` or `on_sub_and_presence`.
    pub send_last: String,
    /// The items, oldest first.
    pub items: Vec<PepItem>,
}

/// One published item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PepItem {
    /// The item id.
    pub id: String,
    /// The payload as the gateway serialized it; empty for an item without one.
    pub xml: String,
}

/// Why a node was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PepLimit {
    /// One item is larger than [`MAX_PEP_ITEM_BYTES`].
    ItemTooLarge,
    /// More than [`MAX_PEP_ITEMS`] items.
    TooManyItems,
    /// The user would have more than [`MAX_PEP_NODES`] nodes.
    TooManyNodes,
    /// The user would keep more than [`MAX_PEP_BYTES`].
    TooManyBytes,
}

impl Store {
    /// `user`'s node `name`, if it exists.
    pub fn pep_node(&self, user: &BareJid, name: &str) -> Result<Option<PepNode>, StoreError> {
        match self.pep.get(schema::pep_key(user, name))? {
            Some(value) => Ok(Some(records::decode(USERNODE_PEP, &value)?)),
            None => Ok(None),
        }
    }

    /// Every node of `user` with its name, in byte order of the names.
    pub fn pep_nodes(&self, user: &BareJid) -> Result<Vec<(String, PepNode)>, StoreError> {
        let prefix = schema::pep_prefix(user);
        let mut nodes = Vec::new();
        for entry in self.pep.scan_prefix(&prefix) {
            let (key, value) = entry?;
            let name = key
                .get(prefix.len()..)
                .and_then(|n| std::str::from_utf8(n).ok())
                .ok_or_else(|| StoreError::Decode {
                    tree: USERNODE_PEP,
                    reason: "node name is not UTF-8".to_owned(),
                })?
                .to_owned();
            nodes.push((name, records::decode(USERNODE_PEP, &value)?));
        }
        Ok(nodes)
    }

    /// Store `node` as `user`'s node `name`, replacing what was there; `Ok(Err(limit))` when it
    /// would break a bound (nothing is stored), `Ok(Ok(()))` once it is on disk. Refused for a
    /// user without an account.
    pub async fn put_pep_node(
        &self,
        user: &BareJid,
        name: &str,
        node: &PepNode,
    ) -> Result<Result<(), PepLimit>, StoreError> {
        if node.items.len() > MAX_PEP_ITEMS {
            return Ok(Err(PepLimit::TooManyItems));
        }
        if node.items.iter().any(|i| i.xml.len() > MAX_PEP_ITEM_BYTES) {
            return Ok(Err(PepLimit::ItemTooLarge));
        }
        let value = records::encode(USERNODE_PEP, node)?;
        let key = schema::pep_key(user, name);
        let _writer = self.pep_writers.lock(user).await;
        let (mut count, mut bytes) = (0, 0);
        for entry in self.pep.scan_prefix(schema::pep_prefix(user)) {
            let (k, stored) = entry?;
            if k.as_ref() != key.as_slice() {
                count += 1;
                bytes += stored.len();
            }
        }
        if count + 1 > MAX_PEP_NODES {
            return Ok(Err(PepLimit::TooManyNodes));
        }
        if bytes + value.len() > MAX_PEP_BYTES {
            return Ok(Err(PepLimit::TooManyBytes));
        }
        self.pep.insert(&key, value)?;
        // As for private XML: a removal that ran before this insert is seen here; one that
        // runs after it removes the node with the account.
        if !self.account_exists(user)? {
            self.pep.remove(&key)?;
            return Err(StoreError::NoAccount(user.to_string()));
        }
        self.flush().await?;
        Ok(Ok(()))
    }

    /// Delete `user`'s node `name`; whether it existed. Durable when it returns.
    pub async fn remove_pep_node(&self, user: &BareJid, name: &str) -> Result<bool, StoreError> {
        let existed = {
            let _writer = self.pep_writers.lock(user).await;
            self.pep.remove(schema::pep_key(user, name))?.is_some()
        };
        self.flush().await?;
        Ok(existed)
    }

    /// Forget every node of a removed account (not flushed: the caller flushes).
    pub(super) fn remove_pep_of(&self, user: &BareJid) -> Result<(), StoreError> {
        super::remove_under(&self.pep, &schema::pep_prefix(user))
    }
}
