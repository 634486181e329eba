//! The Lampfield presence node: the runtime around the pure domain (`lampfield_domain`: presence,
//! access, profiles, calendar, the user record): storage, the presence engine, the profile
//! runtime, and the adapters that connect them to XMPP, HTTP and federation.
//!
//! Layout, lower layers first (a module imports only from those above it in this list):
//! - [`files`]: atomic file writes; [`tokens`]: the integration API's bearer tokens
//!   (configured, generated, presented).
//! - [`config`]: the TOML configuration and its embedded default, one submodule per section.
//! - [`store`]: sled trees and records; the only module that names sled.
//! - [`engine`]: the presence engine: live sources per user, aggregation, and the change feed
//!   every outgoing path follows ([`engine::ChangeFeed`]).
//! - [`connector`]: where profile actions go (webhook, log).
//! - [`profile_runtime`]: presence profiles and the calendar at run time (stored per user,
//!   driven by the API, the engine's change feed and a timer).
//! - [`tls`]: the STARTTLS certificate, configured or self-signed.
//! - [`adapters`]: the gateway's ports over the store and the engine, and the c2s and s2s wiring.
//! - [`http`]: the integration API (JSON over HTTP, server-sent events).
//! - [`federation`]: presence between organizations over libp2p, and the router's path to
//!   other domains (federation or s2s).
//! - [`sip`]: SIP for PBXs and desk phones: line state in (PUBLISH), busy lamps out
//!   (SUBSCRIBE/NOTIFY).
//! - [`admin`]: account management, directly or over the running node's socket.
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
pub mod profile_runtime;
pub mod sip;
pub mod store;
pub mod tls;
pub mod tokens;

pub use config::Config;
pub use node::{DB_DIR, RunningNode, StartError, create_data_dir, start};
