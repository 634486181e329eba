//! The Lampfield presence node: the domain (pure), storage, the engine, and the
//! adapters that connect them to XMPP and federation.

pub mod adapters;
pub mod admin;
pub mod config;
pub mod presence;
pub mod store;
pub mod tls;
pub mod users;
