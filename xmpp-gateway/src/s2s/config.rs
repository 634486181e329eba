//! Settings of the server-to-server side (RFC 6120 server streams, XEP-0220 dialback
//! with XEP-0185 keys); the node maps its `[s2s]` section onto them.

use std::collections::HashMap;
use std::time::Duration;

use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::stream::ReadLimits;

/// Settings of s2s (RFC 6120 server streams, XEP-0220 dialback, SASL EXTERNAL).
/// Build with [`S2sConfig::new`] and adjust the fields.
pub struct S2sConfig {
    /// The domain we serve.
    pub domain: String,
    /// Our certificate chain (leaf first) and key: offered on STARTTLS when we
    /// receive, presented as client certificate when we connect out.
    pub cert_chain: Vec<CertificateDer<'static>>,
    /// The private key of `cert_chain`.
    pub key: PrivateKeyDer<'static>,
    /// Certificate authorities a peer's certificate is checked against. A peer with a
    /// certificate valid for its domain may authenticate with SASL EXTERNAL; any other
    /// peer must pass dialback. Empty: every peer uses dialback.
    pub ca: Vec<CertificateDer<'static>>,
    /// Fixed addresses per remote domain (`host:port` strings), tried before DNS.
    pub routes: HashMap<String, Vec<String>>,
    /// Refuse streams that do not upgrade to TLS, both ways (default `true`).
    pub require_tls: bool,
    /// Secret of our dialback keys (XEP-0185). Random per process by default, which
    /// is fine: a key only has to survive until the peer verified it.
    pub dialback_secret: Vec<u8>,
    /// Time to connect, negotiate and authenticate a stream (default 30 s).
    pub negotiation_timeout: Duration,
    /// Silence after which a stream is closed, either direction (default 10 min).
    pub idle_timeout: Duration,
    /// Time a write may stay blocked by a peer that does not read (default 30 s).
    pub write_timeout: Duration,
    /// Stanzas waiting for one remote domain's stream; beyond it they bounce with
    /// `resource-constraint` (default 512).
    pub queue_len: usize,
    /// Simultaneous inbound connections (default 1,000).
    pub max_connections: usize,
    /// Byte budget of one stanza from an authenticated peer (default 256 KiB).
    pub max_stanza_bytes: usize,
    /// Byte budget before authentication (default 16 KiB).
    pub max_preauth_stanza_bytes: usize,
}

impl S2sConfig {
    /// Defaults for `domain` with its certificate and key.
    pub fn new(
        domain: impl Into<String>,
        cert_chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Self {
        let mut secret = vec![0u8; 32];
        rand::fill(&mut secret[..]);
        Self {
            domain: domain.into(),
            cert_chain,
            key,
            ca: Vec::new(),
            routes: HashMap::new(),
            require_tls: true,
            dialback_secret: secret,
            negotiation_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(600),
            write_timeout: Duration::from_secs(30),
            queue_len: 512,
            max_connections: 1000,
            max_stanza_bytes: 256 * 1024,
            max_preauth_stanza_bytes: 16 * 1024,
        }
    }

    /// Whether the certificate, key and authorities make a usable TLS configuration.
    pub fn check(&self) -> Result<(), crate::tls::TlsError> {
        super::tls::TlsContext::new(&self.cert_chain, &self.key, &self.ca).map(|_| ())
    }

    /// Reader limits before authentication.
    pub(crate) fn preauth_limits(&self) -> ReadLimits {
        ReadLimits {
            max_stanza_bytes: self.max_preauth_stanza_bytes,
            ..ReadLimits::default()
        }
    }
}

impl std::fmt::Debug for S2sConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S2sConfig")
            .field("domain", &self.domain)
            .field("routes", &self.routes)
            .field("require_tls", &self.require_tls)
            .field("ca", &self.ca.len())
            .finish_non_exhaustive()
    }
}
