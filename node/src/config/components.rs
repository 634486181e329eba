//! `[components]`: XEP-0114 external components, e.g. a group chat (MUC) or file upload
//! service under a domain of its own (docs/OPERATIONS.md, "Components").

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// `[components]`: off while `domains` is empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Components {
    /// Address components connect to; keep it on a private interface: a component's secret
    /// travels in no TLS. Default: `"127.0.0.1:5347"`.
    pub listen: SocketAddr,
    /// Each component's domain and the secret it proves in its handshake. Default: none.
    pub domains: BTreeMap<String, Secret>,
}

/// A component's shared secret: shown as `***` when the configuration is debug-printed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl Default for Components {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 5347)),
            domains: BTreeMap::new(),
        }
    }
}

impl Components {
    /// Whether the component listener runs.
    pub fn enabled(&self) -> bool {
        !self.domains.is_empty()
    }

    /// Each domain a plain domain other than the server's, each secret non-empty.
    pub fn validate(&self, server: &str) -> Result<(), ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid {
            key: "components.domains",
            reason,
        };
        let mut seen = std::collections::HashSet::new();
        for (domain, secret) in &self.domains {
            match jid::BareJid::new(domain) {
                Ok(j) if j.node().is_none() => {}
                _ => return Err(invalid(format!("`{domain}` is not a domain"))),
            }
            if domain.eq_ignore_ascii_case(server) {
                return Err(invalid(format!("`{domain}` is the server's own domain")));
            }
            if !seen.insert(domain.to_ascii_lowercase()) {
                return Err(invalid(format!("`{domain}` is given twice")));
            }
            if secret.0.is_empty() {
                return Err(invalid(format!("the secret of `{domain}` is empty")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::Config;

    #[test]
    fn off_by_default_and_domains_parse() {
        let c = Config::builtin().unwrap();
        assert!(!c.components.enabled());
        assert_eq!(c.components.listen.to_string(), "127.0.0.1:5347");
        let c = Config::from_toml(
            "[components]\nlisten = \"127.0.0.1:0\"\n\
             [components.domains]\n\"muc.localhost\" = \"s3cret\"\n",
        )
        .unwrap();
        assert!(c.components.enabled());
        assert_eq!(c.components.domains["muc.localhost"].0, "s3cret");
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn bad_component_values_are_refused() {
        for text in [
            "[components.domains]\n\"a@b\" = \"x\"",
            "[components.domains]\n\"localhost\" = \"x\"",
            "[components.domains]\n\"muc.localhost\" = \"\"",
            "[components.domains]\n\"muc.localhost\" = \"x\"\n\"MUC.localhost\" = \"y\"",
        ] {
            let err = Config::from_toml(text).unwrap_err().to_string();
            assert!(err.contains("components.domains"), "{text}: {err}");
        }
    }
}
