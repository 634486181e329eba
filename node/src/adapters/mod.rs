//! Adapters: the protocol crates' ports implemented on top of the node's core.
//! Only this module and `main.rs` name `lampfield_xmpp` types.

pub mod adhoc;
pub mod blocking;
pub mod c2s;
pub mod components;
pub mod presence;
pub mod presence_xml;
pub mod s2s;
pub mod xmpp;
