//! `[s2s]`: server-to-server XMPP, how accounts here reach contacts on other XMPP
//! servers (docs/OPERATIONS.md, "Server-to-server (s2s)").

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// `[s2s]`: off until `enabled = true`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct S2s {
    /// Accept and open server-to-server streams. Default: `false`.
    pub enabled: bool,
    /// Address to listen on for other servers; port 0 picks a free port.
    /// Default: `"127.0.0.1:5269"`.
    pub listen: SocketAddr,
    /// Refuse server streams that do not upgrade to TLS, both ways. Default: `true`.
    pub require_tls: bool,
    /// PEM file of the certificate authorities other servers' certificates are checked
    /// against. A server whose certificate is valid for its domain may authenticate
    /// with SASL EXTERNAL; the others must pass dialback. Default: none (dialback only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Silence after which a server stream is closed, in seconds. Default: `600`.
    pub idle_timeout_s: u64,
    /// Fixed `host:port` per remote domain, used instead of DNS (SRV
    /// `_xmpp-server._tcp`, then A/AAAA on port 5269). Default: none.
    pub routes: BTreeMap<String, String>,
}

impl Default for S2s {
    fn default() -> Self {
        Self {
            enabled: false,
            listen: SocketAddr::from(([127, 0, 0, 1], 5269)),
            require_tls: true,
            ca_file: None,
            idle_timeout_s: 600,
            routes: BTreeMap::new(),
        }
    }
}

impl S2s {
    /// Check what serde cannot: a usable timeout and well-formed routes.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, reason: String| ConfigError::Invalid { key, reason };
        if self.idle_timeout_s == 0 {
            return Err(invalid("s2s.idle_timeout_s", "must be at least 1".into()));
        }
        for (domain, target) in &self.routes {
            match jid::BareJid::new(domain) {
                Ok(j) if j.node().is_none() => {}
                _ => return Err(invalid("s2s.routes", format!("`{domain}` is not a domain"))),
            }
            let port = target
                .rsplit_once(':')
                .and_then(|(_, p)| p.parse::<u16>().ok());
            if !matches!(port, Some(p) if p > 0) {
                return Err(invalid(
                    "s2s.routes",
                    format!("`{target}` for `{domain}` is not host:port"),
                ));
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
    fn off_by_default_and_routes_parse() {
        let c = Config::builtin().unwrap();
        assert!(!c.s2s.enabled);
        assert_eq!(c.s2s.listen.to_string(), "127.0.0.1:5269");
        let c = Config::from_toml(
            "[s2s]\nenabled = true\nlisten = \"127.0.0.1:0\"\n\
             [s2s.routes]\n\"example.net\" = \"127.0.0.1:25269\"\n",
        )
        .unwrap();
        assert!(c.s2s.enabled);
        assert_eq!(c.s2s.routes["example.net"], "127.0.0.1:25269");
    }

    #[test]
    fn bad_s2s_values_are_refused() {
        for (text, key) in [
            ("[s2s]\nidle_timeout_s = 0", "s2s.idle_timeout_s"),
            ("[s2s.routes]\n\"a@b\" = \"127.0.0.1:1\"", "s2s.routes"),
            ("[s2s.routes]\n\"b.example\" = \"nowhere\"", "s2s.routes"),
            ("[s2s]\nlisten_on = 1", "listen_on"),
        ] {
            let err = Config::from_toml(text).unwrap_err().to_string();
            assert!(err.contains(key), "{text}: {err}");
        }
    }
}
