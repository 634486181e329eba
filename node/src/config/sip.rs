//! `[sip]`: the SIP listener for PBX line state in and busy lamps out (docs/SIP.md).

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use lampfield_domain::access::Level;
use serde::{Deserialize, Serialize};

use super::ConfigError;

/// Largest SIP message accepted on either transport, and the ceiling of `max_message_bytes`.
const MAX_MESSAGE_BYTES: usize = 65_535;

/// `[sip]`: off until `enabled = true`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SipConfig {
    /// Serve SIP at all. Default: `false`.
    pub enabled: bool,
    /// Address for both UDP and TCP; port 0 picks a free port (the same one for both).
    /// Default: `"127.0.0.1:5060"`.
    pub listen: SocketAddr,
    /// The PBXs, proxies and phones allowed to PUBLISH line state and to SUBSCRIBE, as
    /// addresses (`"192.0.2.7"`) or networks (`"192.0.2.0/24"`). Default: none.
    pub trusted: Vec<TrustedNet>,
    /// The access level a trusted source's subscriptions see the users at. Default: `business`.
    pub trusted_level: Level,
    /// Largest SIP message (a UDP datagram or one message on TCP), in bytes. Default: `65535`.
    pub max_message_bytes: usize,
    /// Shortest `Expires` accepted for a PUBLISH or SUBSCRIBE, in seconds; shorter is answered
    /// with 423 Interval Too Brief. Default: `60`.
    pub min_expires_s: u32,
    /// Longest `Expires` granted, in seconds; longer requests are granted this. Default: `3600`.
    pub max_expires_s: u32,
    /// Requests one source address may send per second (a short burst of five times that is
    /// allowed); more are dropped. Default: `50`.
    pub rate_per_s: u32,
    /// Most publications and most subscriptions held at once (each). Default: `10000`.
    pub max_entries: usize,
}

impl Default for SipConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            listen: SocketAddr::from(([127, 0, 0, 1], 5060)),
            trusted: Vec::new(),
            trusted_level: Level::Business,
            max_message_bytes: MAX_MESSAGE_BYTES,
            min_expires_s: 60,
            max_expires_s: 3600,
            rate_per_s: 50,
            max_entries: 10_000,
        }
    }
}

impl SipConfig {
    /// Check what serde cannot: sane bounds.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, reason: &str| ConfigError::Invalid {
            key,
            reason: reason.to_owned(),
        };
        if !(1024..=MAX_MESSAGE_BYTES).contains(&self.max_message_bytes) {
            return Err(invalid(
                "sip.max_message_bytes",
                "must be between 1024 and 65535",
            ));
        }
        if self.min_expires_s == 0 || self.min_expires_s > self.max_expires_s {
            return Err(invalid(
                "sip.min_expires_s",
                "must be at least 1 and at most sip.max_expires_s",
            ));
        }
        if self.rate_per_s == 0 || self.max_entries == 0 {
            return Err(invalid(
                "sip",
                "rate_per_s and max_entries must be at least 1",
            ));
        }
        Ok(())
    }

    /// Whether `addr` is one of the trusted sources.
    pub fn is_trusted(&self, addr: IpAddr) -> bool {
        self.trusted.iter().any(|net| net.contains(addr))
    }
}

/// An address or a network in CIDR notation, written as a string in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TrustedNet {
    addr: IpAddr,
    prefix: u8,
}

impl TrustedNet {
    /// Whether `ip` lies in this network (an IPv4-mapped IPv6 address counts as its IPv4 one).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for TrustedNet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}` is not an IP address or network (address/prefix)");
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.trim().parse::<u8>().map_err(|_| bad())?,
            None => max,
        };
        if prefix > max {
            return Err(bad());
        }
        Ok(TrustedNet { addr, prefix })
    }
}

impl TryFrom<String> for TrustedNet {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<TrustedNet> for String {
    fn from(net: TrustedNet) -> String {
        format!("{}/{}", net.addr, net.prefix)
    }
}

#[allow(clippy::unwrap_used, clippy::expect_used)]
#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;

    #[test]
    fn off_by_default_and_a_section_parses() {
        let config = Config::builtin().unwrap();
        assert!(!config.sip.enabled);
        assert_eq!(config.sip.listen.to_string(), "127.0.0.1:5060");
        assert_eq!(config.sip.trusted_level, Level::Business);
        let config = Config::from_toml(
            "[sip]\nenabled = true\ntrusted = [\"10.0.0.0/8\", \"::1\"]\ntrusted_level = \"team\"\n",
        )
        .unwrap();
        assert!(config.sip.enabled);
        assert_eq!(config.sip.trusted_level, Level::Team);
        assert!(config.sip.is_trusted("10.1.2.3".parse().unwrap()));
        assert!(config.sip.is_trusted("::1".parse().unwrap()));
        assert!(!config.sip.is_trusted("11.0.0.1".parse().unwrap()));
        assert!(!config.sip.is_trusted("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn networks_match_by_prefix_and_bad_ones_are_refused() {
        let net: TrustedNet = "192.0.2.0/24".parse().unwrap();
        assert!(net.contains("192.0.2.200".parse().unwrap()));
        assert!(net.contains("::ffff:192.0.2.9".parse().unwrap()));
        assert!(!net.contains("192.0.3.1".parse().unwrap()));
        let all: TrustedNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("203.0.113.5".parse().unwrap()));
        for bad in ["192.0.2.0/33", "pbx.example", "10.0.0.1/x", ""] {
            assert!(bad.parse::<TrustedNet>().is_err(), "{bad}");
        }
        let err = Config::from_toml("[sip]\ntrusted = [\"nope\"]\n").unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
        let err = Config::from_toml("[sip]\nmin_expires_s = 0\n").unwrap_err();
        assert!(err.to_string().contains("sip.min_expires_s"), "{err}");
    }
}
