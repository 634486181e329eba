//! Settings of the c2s listener (RFC 6120 client streams; the limits advertised per
//! XEP-0478, the idle probe an XEP-0199 ping, resumption per XEP-0198); the node maps its own
//! configuration onto them.

use std::sync::Arc;
use std::time::Duration;

use super::sm::Bounds;
use super::sm::resume::Registry;

use crate::sasl::Mechanism;
use crate::stream::ReadLimits;

/// Settings of the client-to-server listener. Build with [`C2sConfig::new`] and adjust
/// the fields; every default is documented on its field.
#[derive(Clone)]
pub struct C2sConfig {
    /// The domain we serve; a stream header `to` anything else gets `host-unknown`.
    pub domain: String,
    /// Refuse SASL before STARTTLS (default `true`). When `false`, SCRAM may run on a
    /// plain stream; PLAIN never does.
    pub require_tls: bool,
    /// SASL mechanisms offered, in order of preference (default: SCRAM-SHA-256-PLUS,
    /// SCRAM-SHA-1-PLUS, SCRAM-SHA-256, SCRAM-SHA-1, PLAIN). PLAIN is offered only over TLS
    /// and the -PLUS ones only over TLS 1.3, whatever this says.
    pub mechanisms: Vec<Mechanism>,
    /// Byte budget of one first-level element after authentication (default 256 KiB).
    pub max_stanza_bytes: usize,
    /// Byte budget before authentication (default 16 KiB).
    pub max_preauth_stanza_bytes: usize,
    /// Deepest nesting inside a stanza (default 32).
    pub max_depth: usize,
    /// Most elements in one stanza (default 8192).
    pub max_elements: usize,
    /// Bytes read from the transport at a time (default 1 KiB): this buffer lives as
    /// long as the connection, so it is small.
    pub read_chunk: usize,
    /// Simultaneous connections; more wait in the kernel's accept queue (default 20,000).
    pub max_connections: usize,
    /// Failed SASL attempts per connection before `not-authorized` closes it (default 3).
    pub max_auth_failures: u32,
    /// Time from TCP accept to a bound resource (default 30 s), then `connection-timeout`.
    pub negotiation_timeout: Duration,
    /// Silence after which a bound session is pinged with XEP-0199 (default 5 min).
    pub idle_timeout: Duration,
    /// Time the peer has to answer that ping, or send anything (default 60 s).
    pub ping_timeout: Duration,
    /// Time a write may stay blocked by a peer that does not read (default 30 s).
    pub write_timeout: Duration,
    /// Secret from which the fake SCRAM salts of unknown accounts are derived, so they
    /// stay the same across restarts. Random per process by default; the node should
    /// set a stable secret of at least 16 bytes.
    pub unknown_user_secret: Vec<u8>,
    /// XEP-0198: how long a session whose connection dropped stays resumable, its presence
    /// unchanged and stanzas for it queued (default 300 s). Zero offers no resumption.
    pub resume_window: Duration,
    /// XEP-0198: most stanzas sent and not acknowledged by the client, or queued while it is
    /// away (default 500); more ends the stream with `policy-violation`.
    pub sm_max_unacked_stanzas: usize,
    /// XEP-0198: most bytes of those stanzas, as written (default 512 KiB).
    pub sm_max_unacked_bytes: usize,
    /// XEP-0357: what push notifications may say beyond the message count (default: nothing).
    pub push: crate::push::PushPolicy,
    /// The resumable sessions, shared by the listeners given clones of this configuration
    /// (STARTTLS and direct TLS), so a client may resume on either.
    pub(crate) resumable: Arc<Registry>,
}

impl C2sConfig {
    /// Defaults for `domain`.
    pub fn new(domain: impl Into<String>) -> Self {
        let mut secret = vec![0u8; 32];
        rand::fill(&mut secret[..]);
        Self {
            domain: domain.into(),
            require_tls: true,
            mechanisms: Mechanism::ALL.to_vec(),
            max_stanza_bytes: 256 * 1024,
            max_preauth_stanza_bytes: 16 * 1024,
            max_depth: 32,
            max_elements: 8192,
            read_chunk: 1024,
            max_connections: 20_000,
            max_auth_failures: 3,
            negotiation_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(300),
            ping_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(30),
            unknown_user_secret: secret,
            resume_window: Duration::from_secs(300),
            sm_max_unacked_stanzas: 500,
            sm_max_unacked_bytes: 512 * 1024,
            push: crate::push::PushPolicy::default(),
            resumable: Arc::default(),
        }
    }

    /// Bounds of a session's unacknowledged stanzas (XEP-0198).
    pub(crate) fn sm_bounds(&self) -> Bounds {
        Bounds {
            stanzas: self.sm_max_unacked_stanzas,
            bytes: self.sm_max_unacked_bytes,
        }
    }

    /// Reader limits before authentication.
    pub(crate) fn preauth_limits(&self) -> ReadLimits {
        ReadLimits {
            max_stanza_bytes: self.max_preauth_stanza_bytes,
            max_depth: self.max_depth,
            max_elements: self.max_elements,
            read_chunk: self.read_chunk,
        }
    }
}

impl std::fmt::Debug for C2sConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("C2sConfig")
            .field("domain", &self.domain)
            .field("require_tls", &self.require_tls)
            .field("max_stanza_bytes", &self.max_stanza_bytes)
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}
