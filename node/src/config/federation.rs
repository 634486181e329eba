//! `[federation]`: presence between Lampfield organizations over libp2p (docs/PROTOCOL.md,
//! "Presence between Lampfield organizations"; README, "Federate two organizations").

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// `[federation]`: off until `enabled = true`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Federation {
    /// Run the federation service. Default: `false`.
    pub enabled: bool,
    /// libp2p addresses to listen on. Default: `["/ip4/127.0.0.1/tcp/5290"]`.
    pub listen: Vec<String>,
    /// The organization key (ed25519 secret, base64). Default: `federation-org.key` in the
    /// data folder, created on first start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_key_file: Option<PathBuf>,
    /// The libp2p peer key (ed25519 secret, base64), separate from the organization key.
    /// Default: `federation-peer.key` in the data folder, created on first start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_key_file: Option<PathBuf>,
    /// How often an organization whose nodes are unreachable is dialed again, in
    /// milliseconds. Default: `10000`.
    pub redial_interval_ms: u64,
    /// The organizations this one federates with.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub organizations: Vec<Organization>,
}

/// `[[federation.organizations]]`: one trusted organization, as its admin's
/// `lampfield identity` printed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    /// Its XMPP domain.
    pub domain: String,
    /// Its organization public key (ed25519, 32 bytes, base64 or hex).
    pub public_key: String,
    /// libp2p addresses of its node, e.g. `/ip4/192.0.2.7/tcp/5290/p2p/12D3Koo...`.
    #[serde(default)]
    pub addresses: Vec<String>,
}

impl Default for Federation {
    fn default() -> Self {
        Self {
            enabled: false,
            listen: vec!["/ip4/127.0.0.1/tcp/5290".to_owned()],
            org_key_file: None,
            peer_key_file: None,
            redial_interval_ms: 10_000,
            organizations: Vec::new(),
        }
    }
}

impl Federation {
    /// Check what serde cannot: domains, keys and addresses that parse, no domain twice.
    pub fn validate(&self, own_domain: &str) -> Result<(), ConfigError> {
        let invalid = |key, reason: String| ConfigError::Invalid { key, reason };
        if self.redial_interval_ms == 0 {
            return Err(invalid(
                "federation.redial_interval_ms",
                "must be at least 1".into(),
            ));
        }
        for addr in &self.listen {
            if addr.parse::<lampfield_federation::Multiaddr>().is_err() {
                return Err(invalid(
                    "federation.listen",
                    format!("`{addr}` is not a multiaddr"),
                ));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for org in &self.organizations {
            let key = "federation.organizations";
            match jid::BareJid::new(&org.domain) {
                Ok(j) if j.node().is_none() => {}
                _ => return Err(invalid(key, format!("`{}` is not a domain", org.domain))),
            }
            let domain = org.domain.to_ascii_lowercase();
            if domain == own_domain.to_ascii_lowercase() {
                return Err(invalid(
                    key,
                    format!("`{domain}` is this node's own domain"),
                ));
            }
            if !seen.insert(domain.clone()) {
                return Err(invalid(key, format!("`{domain}` is listed twice")));
            }
            if decode_key(&org.public_key).is_none() {
                return Err(invalid(
                    key,
                    format!("public_key of `{domain}` is not 32 bytes of base64 or hex"),
                ));
            }
            for addr in &org.addresses {
                if addr.parse::<lampfield_federation::Multiaddr>().is_err() {
                    return Err(invalid(
                        key,
                        format!("`{addr}` of `{domain}` is not a multiaddr"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Whether `domain` is a configured organization (reached over libp2p, not s2s).
    pub fn is_organization(&self, domain: &str) -> bool {
        self.organizations
            .iter()
            .any(|o| o.domain.eq_ignore_ascii_case(domain))
    }
}

/// 32 key bytes from base64 (standard, padded or not) or 64 hex digits.
pub fn decode_key(text: &str) -> Option<[u8; 32]> {
    use base64::Engine as _;
    let text = text.trim();
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..32)
            .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok())
            .collect::<Option<Vec<u8>>>()?
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
            .ok()?
    };
    bytes.try_into().ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::Config;
    use super::decode_key;

    const KEY: &str = "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=";

    #[test]
    fn off_by_default_with_a_fixed_port() {
        let c = Config::builtin().unwrap();
        assert!(!c.federation.enabled);
        assert_eq!(c.federation.listen, ["/ip4/127.0.0.1/tcp/5290"]);
    }

    #[test]
    fn organizations_parse_and_are_checked() {
        let text = format!(
            "domain = \"a.example\"\n[federation]\nenabled = true\n\
             [[federation.organizations]]\ndomain = \"b.example\"\npublic_key = \"{KEY}\"\n\
             addresses = [\"/ip4/127.0.0.1/tcp/5291\"]\n"
        );
        let c = Config::from_toml(&text).unwrap();
        assert!(c.federation.is_organization("B.example"));
        assert!(!c.federation.is_organization("c.example"));
        let bad_key = text.replace(KEY, "abc");
        let err = Config::from_toml(&bad_key).unwrap_err().to_string();
        assert!(err.contains("public_key"), "{err}");
        let own = text.replace("\"b.example\"", "\"a.example\"");
        let err = Config::from_toml(&own).unwrap_err().to_string();
        assert!(err.contains("own domain"), "{err}");
        let bad_addr = text.replace("/ip4/127.0.0.1/tcp/5291", "127.0.0.1:5291");
        let err = Config::from_toml(&bad_addr).unwrap_err().to_string();
        assert!(err.contains("multiaddr"), "{err}");
    }

    #[test]
    fn the_three_example_organizations_parse_and_trust_each_other() {
        let texts = [
            include_str!("../../../configs/a.example.toml"),
            include_str!("../../../configs/b.example.toml"),
            include_str!("../../../configs/c.example.toml"),
        ];
        let configs: Vec<Config> = texts
            .iter()
            .map(|t| Config::from_toml(t).unwrap())
            .collect();
        for c in &configs {
            assert!(c.federation.enabled);
            for other in configs.iter().filter(|o| o.domain != c.domain) {
                assert!(
                    c.federation.is_organization(&other.domain),
                    "{} -> {}",
                    c.domain,
                    other.domain
                );
            }
        }
    }

    #[test]
    fn keys_decode_from_base64_or_hex() {
        let k = decode_key(KEY).unwrap();
        let hex: String = k.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(decode_key(&hex), Some(k));
        assert_eq!(decode_key(KEY.trim_end_matches('=')), Some(k));
        assert!(decode_key("AAAA").is_none());
    }
}
