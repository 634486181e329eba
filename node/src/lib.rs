//! The Lampfield presence node: the domain (pure), storage, the engine, and the
//! adapters that connect them to XMPP and federation.
//!
//! Layout:
//! - [`config`]: the TOML configuration and its embedded default.
//! - [`presence`]: presence states and their aggregation (pure).
//! - [`engine`]: live sources per user, aggregation, change notification.
//! - [`users`]: which JIDs name local accounts (pure).
//! - [`store`]: sled trees and records; the only module that names sled.
//! - [`tls`]: the STARTTLS certificate, configured or self-signed.
//! - [`http`]: the integration API (JSON over HTTP, server-sent events).
//! - [`tokens`]: the integration API's bearer tokens (configured, generated, presented).
//! - [`profiles`] / [`calendar`]: presence profiles, triggers and appointments (pure).
//! - [`switching`]: the profile runtime (stored per user, driven by the API, the engine's change
//!   feed and a timer); [`connector`]: where profile actions go (webhook, log).
//! - [`federation`]: presence between organizations over libp2p, and the router's path to
//!   other domains (federation or s2s).
//! - [`admin`]: account management, directly or over the running node's socket.
//! - [`adapters`]: the gateway's `Backend` port over the store, and the c2s wiring.
//! - [`start`] / [`RunningNode`]: a whole node, for `lampfield run` and for tests.

pub mod adapters;
pub mod admin;
pub mod config;
pub mod connector;
pub mod engine;
pub mod federation;
pub mod files;
pub mod http;
mod node;
pub mod store;
pub mod switching;
pub mod tls;
pub mod tokens;

pub use config::Config;
pub use node::{DB_DIR, RunningNode, StartError, create_data_dir, start};
