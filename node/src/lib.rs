//! The Lampfield presence node: the domain (pure), storage, the engine, and the
//! adapters that connect them to XMPP and federation.

pub mod access;
pub mod adapters;
pub mod admin;
pub mod calendar;
pub mod config;
pub mod presence;
pub mod profiles;
pub mod store;
pub mod tls;
pub mod users;
