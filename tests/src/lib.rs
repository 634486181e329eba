//! Lampfield integration tests: real nodes driven by real XMPP clients.
//!
//! - [`connector`]: a tokio-xmpp connector for a node on `127.0.0.1:<port>` with its
//!   self-signed certificate, and a kill switch for abrupt disconnects.
//! - [`client`]: a logged-in tokio-xmpp client with bounded waits for stanzas.
//! - [`node`]: `start_node()`, an in-process node with three accounts.
//! - [`federation`]: several organizations' nodes federated over loopback, with
//!   partitions, crashes and restarts.
//!
//! The scenarios are in `tests/*.rs`, one per file. The same scenarios, driven by
//! slixmpp against the `lampfield` binary, are in `tests/python/`.

pub mod client;
pub mod connector;
pub mod federation;
pub mod link;
pub mod node;

pub use client::{TestClient, befriend};
pub use node::{TestNode, start_node, start_node_with};
