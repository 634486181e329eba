//! XEP-0114 Jabber Component Protocol (version 1.6): external components, such as a group
//! chat (MUC) or file upload (XEP-0363) service, attached to this server under domains of
//! their own.
//!
//! - `handshake`: the SHA-1 proof of the shared secret (§3), pure.
//! - `registry`: which domains are components, and the byte-bounded queue to each one's
//!   single connection (a newer connection for a domain replaces the older, which ends with
//!   `conflict`: a component that restarts is back at once).
//! - `routing`: what a component may send (from its own domain only) and where it goes;
//!   what reaches it from local users (no presence but directed presence).
//! - `listener`: the accept loop and one task per connection, with the limits c2s and s2s
//!   have (negotiation deadline, stanza size, write timeout, connections) and failed
//!   handshakes rate-limited per address.

mod handshake;
mod listener;
pub(crate) mod registry;
mod routing;

use std::collections::HashMap;
use std::time::Duration;

pub use listener::serve_components;

/// Settings of the component listener. Build with [`ComponentConfig::new`].
pub struct ComponentConfig {
    /// The domain this server serves (the router's).
    pub server_domain: String,
    /// Each component's domain (lowercase) and its shared secret. Secrets are never logged.
    pub secrets: HashMap<String, String>,
    /// Time from connecting to a proven handshake (default 10 s).
    pub negotiation_timeout: Duration,
    /// Time a write may stay blocked by a component that does not read (default 30 s).
    pub write_timeout: Duration,
    /// Byte budget of one stanza from a component (default 256 KiB).
    pub max_stanza_bytes: usize,
    /// Byte budget of the stream header and handshake (default 4 KiB).
    pub max_preauth_stanza_bytes: usize,
    /// Bytes queued to one component and not yet written; beyond it stanzas for it are
    /// refused as if it were not connected (default 4 MiB).
    pub max_queue_bytes: usize,
    /// Simultaneous connections, authenticated or not (default 64).
    pub max_connections: usize,
    /// Failed handshakes one address may make within [`ComponentConfig::failure_window`]
    /// before its connections are refused until the window passes (default 5).
    pub max_failures: u32,
    /// The window of [`ComponentConfig::max_failures`] (default 60 s).
    pub failure_window: Duration,
}

impl ComponentConfig {
    /// Defaults for the server `server_domain` with these components and secrets.
    pub fn new(server_domain: impl Into<String>, secrets: HashMap<String, String>) -> Self {
        Self {
            server_domain: server_domain.into(),
            secrets: secrets
                .into_iter()
                .map(|(d, s)| (d.to_ascii_lowercase(), s))
                .collect(),
            negotiation_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(30),
            max_stanza_bytes: 256 * 1024,
            max_preauth_stanza_bytes: 4 * 1024,
            max_queue_bytes: 4 * 1024 * 1024,
            max_connections: 64,
            max_failures: 5,
            failure_window: Duration::from_secs(60),
        }
    }
}

impl std::fmt::Debug for ComponentConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The domains only: a secret must never reach a log.
        let mut domains: Vec<&String> = self.secrets.keys().collect();
        domains.sort();
        f.debug_struct("ComponentConfig")
            .field("server_domain", &self.server_domain)
            .field("domains", &domains)
            .finish_non_exhaustive()
    }
}
