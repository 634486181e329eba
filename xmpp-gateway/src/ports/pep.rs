//! What the node keeps for XEP-0163 personal eventing: one user's nodes with the configuration
//! the gateway supports and their items. The gateway decides what a publish, retract or
//! configure makes of a node and hands the whole node to [`crate::Backend::put_pep_node`].

use minidom::Element;

/// XEP-0060 §4.5 access models a node may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessModel {
    /// Anyone (here: anyone at the level the node's class needs).
    Open,
    /// Those subscribed to the owner's presence (the default of XEP-0163 §4.1).
    Presence,
    /// Those in the owner's roster (here: the same as presence, by the class level).
    Roster,
    /// The owner alone (no whitelist beyond the owner is kept).
    Whitelist,
}

/// XEP-0060 `pubsub#send_last_published_item`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SendLast {
    /// Never.
    Never,
    /// When subscribing (for PEP: when the interest is first seen).
    OnSub,
    /// When subscribing and at each available presence (XEP-0163 §4.3.x default).
    OnSubAndPresence,
}

/// The configuration of a node, as far as it is supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NodeConfig {
    /// `pubsub#access_model`.
    pub access_model: AccessModel,
    /// `pubsub#persist_items`.
    pub persist_items: bool,
    /// `pubsub#max_items`, within the node's cap.
    pub max_items: usize,
    /// `pubsub#send_last_published_item`.
    pub send_last: SendLast,
}

/// One item of a node.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The item id.
    pub id: String,
    /// Its payload; `None` for an item published without one.
    pub payload: Option<Element>,
}

/// One node: its configuration and its items, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The configuration.
    pub config: NodeConfig,
    /// The items, oldest first.
    pub items: Vec<Item>,
}

/// Why the node refused to keep a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NodeRefused {
    /// One item is larger than the node keeps.
    #[error("item too large (at most {0} bytes)")]
    ItemTooLarge(usize),
    /// The node would have more items than the node keeps.
    #[error("too many items (at most {0})")]
    TooManyItems(usize),
    /// The user would have more nodes than the node keeps.
    #[error("too many nodes (at most {0})")]
    TooManyNodes(usize),
    /// The user would keep more bytes than the node allows.
    #[error("personal eventing storage full (at most {0} bytes)")]
    StorageFull(usize),
    /// The node keeps no personal eventing data.
    #[error("personal eventing is not stored here")]
    NotKept,
}
