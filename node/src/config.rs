//! The node's TOML configuration, with the built-in default embedded in the binary.
//!
//! Every section rejects unknown keys, so a typo fails at start with the key's name
//! and line instead of being silently ignored. A key left out keeps its built-in
//! value; `configs/default.toml` documents each one, and a test checks that file and
//! the values below agree.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::tokens::HttpToken;

mod components;
mod connector;
mod federation;
mod profiles;
mod s2s;
pub use components::{Components, Secret as ComponentSecret};
mod sip;
pub use connector::{ConnectorConfig, ConnectorKind};
pub use federation::{Federation, Organization, decode_key};
pub use profiles::{ProfilesConfig, SystemProfile};
pub use s2s::S2s;
pub use sip::{SipConfig, TrustedNet};

/// The built-in configuration, documented key by key.
pub const DEFAULT_TOML: &str = include_str!("../../configs/default.toml");

/// RFC 6120 §13.12: a server must accept stanzas of at least 10,000 bytes.
const MIN_STANZA_BYTES: usize = 10_000;

/// Most offline messages a user may have kept: they are all queued to the client at once when
/// it comes online, into a session queue of 2048 stanzas that the roster's presences share.
const MAX_OFFLINE_MESSAGES: usize = 1024;

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The TOML is malformed, has an unknown key or a value of the wrong type; the
    /// message names the key and its line.
    #[error("{0}")]
    Parse(#[from] toml::de::Error),
    /// A value parsed but is not acceptable.
    #[error("invalid value for `{key}`: {reason}")]
    Invalid {
        /// The dotted key, e.g. `c2s.max_stanza_bytes`.
        key: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// The whole node configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The XMPP domain this node serves. Default: `"localhost"`.
    pub domain: String,
    /// Folder for the database, the generated certificate and the admin socket.
    /// Default: `"./lampfield-data"`.
    pub data_dir: PathBuf,
    /// Client-to-server XMPP.
    pub c2s: C2s,
    /// The certificate offered on STARTTLS.
    pub tls: Tls,
    /// Server-to-server XMPP (off by default).
    pub s2s: S2s,
    /// How presence is aggregated.
    pub presence: PresenceConfig,
    /// The node-wide defaults and ceilings of access levels (docs/ACCESS.md).
    pub access: lampfield_domain::access::NodePolicy,
    /// The integration API (docs/API.md).
    pub http: HttpConfig,
    /// Presence profiles: system-wide profiles and per-user defaults (docs/PROFILES.md).
    pub profiles: ProfilesConfig,
    /// Where profile actions go (docs/PROFILES.md).
    pub connector: ConnectorConfig,
    /// Presence between Lampfield organizations over libp2p (off by default).
    pub federation: Federation,
    /// XEP-0114 external components (off while none is configured).
    pub components: Components,
    /// XEP-0357 push notifications to mobile clients' app servers.
    pub push: PushConfig,
    /// SIP: PBX line state in, busy lamps out (off by default; docs/SIP.md).
    pub sip: SipConfig,
    /// The organization directory: every account sees every other (docs/DIRECTORY.md).
    pub directory: DirectoryConfig,
}

/// `[push]`: what XEP-0357 notifications may tell the app server, a third party outside the
/// organization whose notifications cross Google's or Apple's push services. Both off: a
/// notification says only how many messages wait (docs/ACCESS.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PushConfig {
    /// Name the sender (bare JID) of the last message. Default: `false`.
    pub include_sender: bool,
    /// Include the start of the last message's body (at most 256 bytes). Default: `false`.
    pub include_body: bool,
}

/// `[directory]`: the organization directory, a shared roster of every account of the domain
/// (docs/DIRECTORY.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DirectoryConfig {
    /// Show every account to every other, without subscription requests. Default: `true`.
    pub enabled: bool,
    /// Roster group of accounts without a department. Default: `"Colleagues"`.
    pub group: String,
}

impl Default for DirectoryConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            group: "Colleagues".to_owned(),
        }
    }
}

/// `[http]`: the integration API for PBXs, queues, external presence sources and dashboards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Serve the API at all. Default: `true`.
    pub enabled: bool,
    /// Address to listen on; port 0 picks a free port. Default: `"127.0.0.1:5280"`.
    pub listen: SocketAddr,
    /// Most HTTP connections held at once. Default: `256`.
    pub max_connections: usize,
    /// Most open change streams (`GET /v1/events`) at once. Default: `32`.
    pub max_event_streams: usize,
    /// Tokens written in the configuration (`lampfield token add` stores more in the database).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tokens: Vec<HttpToken>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: SocketAddr::from(([127, 0, 0, 1], 5280)),
            max_connections: 256,
            max_event_streams: 32,
            tokens: Vec::new(),
        }
    }
}

/// `[presence]`: node-wide presence settings (docs/PRESENCE.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PresenceConfig {
    /// Idle time after which a user shows as inactive, in seconds; a user may set their own.
    /// Default: `300`.
    pub idle_threshold_s: u64,
}

impl Default for PresenceConfig {
    fn default() -> Self {
        Self {
            idle_threshold_s: 300,
        }
    }
}

/// `[c2s]`: client-to-server XMPP (RFC 6120).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct C2s {
    /// Address to listen on; port 0 picks a free port. Default: `"127.0.0.1:5222"`.
    pub listen: SocketAddr,
    /// A second address for clients that start with the TLS handshake (XEP-0368, "direct TLS",
    /// usually port 5223), with the same certificate. Default: none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direct_tls_listen: Option<SocketAddr>,
    /// Refuse authentication before STARTTLS. Default: `true`.
    pub require_tls: bool,
    /// Largest stanza a client may send, in bytes. Default: `262144`.
    pub max_stanza_bytes: usize,
    /// Most client connections held at once. Default: `20000`.
    pub max_connections: usize,
    /// Failed authentication attempts allowed per connection before it is closed.
    /// Default: `3`.
    pub max_auth_failures: u32,
    /// Time from accepting a connection to a bound resource, in seconds. Default: `30`.
    pub negotiation_timeout_s: u64,
    /// Silence after which a bound session is pinged (XEP-0199), in seconds.
    /// Default: `300`.
    pub idle_timeout_s: u64,
    /// Time a pinged client has to answer or send anything, in seconds. Default: `60`.
    pub ping_timeout_s: u64,
    /// Most messages kept per user while no client of theirs takes them (XEP-0160); one more
    /// is refused with `service-unavailable`. Default: `1000`; at most 1024.
    pub offline_max_messages: usize,
    /// Most bytes of messages kept per user, as stored. Default: `1048576` (1 MiB).
    pub offline_max_bytes: usize,
    /// XEP-0198: seconds a session whose connection dropped stays resumable (presence
    /// unchanged, stanzas for it queued). `0` offers no resumption. Default: `300`.
    pub resume_window_s: u64,
    /// XEP-0198: most stanzas a client may leave unacknowledged (or have queued while it is
    /// away); more ends its stream. Default: `500`.
    pub sm_max_unacked_stanzas: usize,
    /// XEP-0198: most bytes of those stanzas. Default: `524288` (512 KiB).
    pub sm_max_unacked_bytes: usize,
}

/// `[tls]`: the certificate offered on STARTTLS. Both files or neither: with neither,
/// a self-signed certificate for the domain is generated in `data_dir` on first start.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Tls {
    /// PEM certificate chain, leaf first. Default: none.
    pub cert_file: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1). Default: none.
    pub key_file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            domain: "localhost".to_owned(),
            data_dir: PathBuf::from("./lampfield-data"),
            c2s: C2s::default(),
            tls: Tls::default(),
            s2s: S2s::default(),
            presence: PresenceConfig::default(),
            access: lampfield_domain::access::NodePolicy::default(),
            http: HttpConfig::default(),
            profiles: ProfilesConfig::default(),
            connector: ConnectorConfig::default(),
            federation: Federation::default(),
            components: Components::default(),
            push: PushConfig::default(),
            sip: SipConfig::default(),
            directory: DirectoryConfig::default(),
        }
    }
}

impl Default for C2s {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 5222)),
            direct_tls_listen: None,
            require_tls: true,
            max_stanza_bytes: 262_144,
            max_connections: 20_000,
            max_auth_failures: 3,
            negotiation_timeout_s: 30,
            idle_timeout_s: 300,
            ping_timeout_s: 60,
            offline_max_messages: 1000,
            offline_max_bytes: 1 << 20,
            resume_window_s: 300,
            sm_max_unacked_stanzas: 500,
            sm_max_unacked_bytes: 512 * 1024,
        }
    }
}

impl Config {
    /// The built-in configuration (`configs/default.toml`).
    pub fn builtin() -> Result<Self, ConfigError> {
        Self::from_toml(DEFAULT_TOML)
    }

    /// Read a TOML file; keys it leaves out keep their built-in values.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text)
    }

    /// Parse and check a TOML text.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Check what serde cannot: a usable domain, sane limits, both TLS files or none.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, reason: &str| ConfigError::Invalid {
            key,
            reason: reason.to_owned(),
        };
        match jid::BareJid::new(&self.domain) {
            Ok(j) if j.node().is_none() => {}
            _ => return Err(invalid("domain", "not a valid XMPP domain")),
        }
        if self.c2s.max_stanza_bytes < MIN_STANZA_BYTES {
            return Err(invalid(
                "c2s.max_stanza_bytes",
                "must be at least 10000 (RFC 6120 §13.12)",
            ));
        }
        if self.c2s.max_connections == 0 {
            return Err(invalid("c2s.max_connections", "must be at least 1"));
        }
        let group = &self.directory.group;
        if group.trim().is_empty() || group.len() > 256 || group.chars().any(char::is_control) {
            return Err(invalid(
                "directory.group",
                "must be a name of 1 to 256 bytes without control characters",
            ));
        }
        let seconds = [
            ("c2s.negotiation_timeout_s", self.c2s.negotiation_timeout_s),
            ("c2s.idle_timeout_s", self.c2s.idle_timeout_s),
            ("c2s.ping_timeout_s", self.c2s.ping_timeout_s),
            ("presence.idle_threshold_s", self.presence.idle_threshold_s),
        ];
        for (key, value) in seconds {
            if value == 0 {
                return Err(invalid(key, "must be at least 1"));
            }
        }
        if !(1..=MAX_OFFLINE_MESSAGES).contains(&self.c2s.offline_max_messages) {
            return Err(invalid(
                "c2s.offline_max_messages",
                "must be between 1 and 1024",
            ));
        }
        if self.c2s.offline_max_bytes == 0 {
            return Err(invalid("c2s.offline_max_bytes", "must be at least 1"));
        }
        if self.c2s.sm_max_unacked_stanzas == 0 || self.c2s.sm_max_unacked_bytes == 0 {
            return Err(invalid(
                "c2s.sm_max_unacked_stanzas",
                "both XEP-0198 bounds must be at least 1",
            ));
        }
        if self.c2s.max_auth_failures == 0 {
            return Err(invalid("c2s.max_auth_failures", "must be at least 1"));
        }
        if self.http.max_connections == 0 || self.http.max_event_streams == 0 {
            return Err(invalid(
                "http",
                "max_connections and max_event_streams must be at least 1",
            ));
        }
        crate::tokens::from_config(&self.http.tokens, &self.domain).map_err(|reason| {
            ConfigError::Invalid {
                key: "http.tokens",
                reason,
            }
        })?;
        if self.tls.cert_file.is_some() != self.tls.key_file.is_some() {
            return Err(invalid(
                "tls",
                "give both cert_file and key_file, or neither",
            ));
        }
        self.s2s.validate()?;
        self.components.validate(&self.domain)?;
        self.sip.validate()?;
        self.federation.validate(&self.domain)?;
        self.profiles.validate()?;
        self.connector
            .check()
            .map_err(|reason| ConfigError::Invalid {
                key: "connector",
                reason,
            })?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_matches_the_documented_values() {
        let builtin = Config::builtin().unwrap();
        assert_eq!(builtin, Config::default());
        assert_eq!(builtin.domain, "localhost");
        assert_eq!(builtin.data_dir, PathBuf::from("./lampfield-data"));
        assert_eq!(builtin.c2s.listen.to_string(), "127.0.0.1:5222");
        assert!(builtin.c2s.require_tls);
        assert_eq!(builtin.tls, Tls::default());
    }

    #[test]
    fn embedded_default_sets_every_key() {
        // Every key of the defaults (other than optional ones) is written out in the
        // documented file, so the file never falls behind the code.
        let written: toml::Table = toml::from_str(DEFAULT_TOML).unwrap();
        let all = toml::Table::try_from(Config::default()).unwrap();
        for (key, value) in &all {
            let section = written
                .get(key)
                .unwrap_or_else(|| panic!("`{key}` missing"));
            if let toml::Value::Table(t) = value {
                for inner in t.keys() {
                    assert!(
                        section.get(inner).is_some(),
                        "`{key}.{inner}` missing from default.toml"
                    );
                }
            }
        }
    }

    #[test]
    fn missing_keys_keep_their_defaults() {
        let c = Config::from_toml("domain = \"example.org\"\n[c2s]\nlisten = \"127.0.0.1:0\"\n")
            .unwrap();
        assert_eq!(c.domain, "example.org");
        assert_eq!(c.c2s.listen.port(), 0);
        assert!(c.c2s.require_tls);
        assert_eq!(c.data_dir, Config::default().data_dir);
    }

    #[test]
    fn unknown_top_level_key_is_named() {
        let err = Config::from_toml("domian = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("domian"), "{err}");
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn unknown_nested_key_is_named() {
        let err = Config::from_toml("[c2s]\nlisten = \"127.0.0.1:1\"\nmax_stanzas = 3\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("max_stanzas"), "{err}");
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn unknown_section_is_named() {
        let err = Config::from_toml("[federatoin]\nenabled = true\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("federatoin"), "{err}");
    }

    #[test]
    fn bad_values_are_refused() {
        let cases = [
            ("domain = \"a@b\"", "domain"),
            ("[c2s]\nmax_stanza_bytes = 100", "c2s.max_stanza_bytes"),
            ("[c2s]\nmax_connections = 0", "c2s.max_connections"),
            ("[c2s]\nping_timeout_s = 0", "c2s.ping_timeout_s"),
            (
                "[c2s]\noffline_max_messages = 0",
                "c2s.offline_max_messages",
            ),
            (
                "[c2s]\noffline_max_messages = 5000",
                "c2s.offline_max_messages",
            ),
            ("[c2s]\noffline_max_bytes = 0", "c2s.offline_max_bytes"),
            ("[tls]\ncert_file = \"c.pem\"", "tls"),
        ];
        for (text, key) in cases {
            let err = Config::from_toml(text).unwrap_err().to_string();
            assert!(err.contains(key), "{text}: {err}");
        }
        let err = Config::from_toml("[c2s]\nlisten = \"nowhere\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("listen"), "{err}");
    }

    #[test]
    fn http_tokens_are_checked() {
        let good = "[[http.tokens]]\nname = \"pbx\"\ntoken_sha256 = \"".to_owned()
            + &"ab".repeat(32)
            + "\"\n";
        let c = Config::from_toml(&good).unwrap();
        assert_eq!(
            c.http.tokens[0].level,
            lampfield_domain::access::Level::Team
        );
        let short = good.replace(&"ab".repeat(32), "abc");
        let err = Config::from_toml(&short).unwrap_err().to_string();
        assert!(err.contains("http.tokens") && err.contains("pbx"), "{err}");
        let twice = good.clone() + &good;
        let err = Config::from_toml(&twice).unwrap_err().to_string();
        assert!(err.contains("twice"), "{err}");
        let scoped = good.clone() + "users = [\"alice@localhost\"]\ncan = [\"read\"]\nrate = 5\n";
        let c = Config::from_toml(&scoped).unwrap();
        assert_eq!(c.http.tokens[0].rate, Some(5));
        let err = Config::from_toml(&scoped.replace("read", "write"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("write"), "{err}");
        let err = Config::from_toml(&scoped.replace("alice@localhost", "alice@elsewhere"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("http.tokens") && err.contains("localhost"),
            "{err}"
        );
    }

    #[test]
    fn example_config_parses() {
        let text = include_str!("../../configs/single-node.toml");
        let c = Config::from_toml(text).unwrap();
        assert_eq!(c.domain, "example.org");
    }
}
