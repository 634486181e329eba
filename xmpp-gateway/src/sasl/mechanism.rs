//! The mechanisms we offer (RFC 6120 §6.3.3) and the fake keys of unknown accounts.

use super::credentials::{default_iterations, hmac, output_len};
use crate::ports::backend::{ScramCredentials, ScramHash};

/// A SASL mechanism the server implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// SCRAM-SHA-256-PLUS (RFC 7677) with `tls-exporter` channel binding (RFC 9266).
    ScramSha256Plus,
    /// SCRAM-SHA-1-PLUS (RFC 5802) with `tls-exporter` channel binding (RFC 9266).
    ScramSha1Plus,
    /// SCRAM-SHA-256 (RFC 7677).
    ScramSha256,
    /// SCRAM-SHA-1 (RFC 5802).
    ScramSha1,
    /// PLAIN (RFC 4616), only over TLS.
    Plain,
}

impl Mechanism {
    /// Every mechanism, strongest first (the order we advertise).
    pub const ALL: [Mechanism; 5] = [
        Self::ScramSha256Plus,
        Self::ScramSha1Plus,
        Self::ScramSha256,
        Self::ScramSha1,
        Self::Plain,
    ];

    /// The IANA name.
    pub fn name(self) -> &'static str {
        match self {
            Self::ScramSha256Plus => "SCRAM-SHA-256-PLUS",
            Self::ScramSha1Plus => "SCRAM-SHA-1-PLUS",
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::ScramSha1 => "SCRAM-SHA-1",
            Self::Plain => "PLAIN",
        }
    }

    /// Parse an IANA name as sent in `<auth mechanism='...'>`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The SCRAM hash, for SCRAM mechanisms.
    pub fn scram_hash(self) -> Option<ScramHash> {
        match self {
            Self::ScramSha256 | Self::ScramSha256Plus => Some(ScramHash::Sha256),
            Self::ScramSha1 | Self::ScramSha1Plus => Some(ScramHash::Sha1),
            Self::Plain => None,
        }
    }

    /// Whether this is a -PLUS mechanism, which binds to the TLS channel.
    pub fn binds_channel(self) -> bool {
        matches!(self, Self::ScramSha256Plus | Self::ScramSha1Plus)
    }

    /// Whether the mechanism may be offered on a stream: PLAIN needs TLS, a -PLUS
    /// mechanism channel binding data (TLS 1.3).
    pub fn offered(self, tls: bool, channel_binding: bool) -> bool {
        match self {
            Self::Plain => tls,
            Self::ScramSha256Plus | Self::ScramSha1Plus => tls && channel_binding,
            Self::ScramSha256 | Self::ScramSha1 => true,
        }
    }
}

/// Credentials for an account that does not exist, derived from the username and a
/// server secret: the same username always gets the same salt and iteration count, so
/// an attacker cannot tell an unknown account from a known one by asking twice, and
/// without the secret cannot predict them. The keys match no password.
pub fn fake_credentials(secret: &[u8], username: &str, hash: ScramHash) -> ScramCredentials {
    let tag = match hash {
        ScramHash::Sha1 => "sha1",
        ScramHash::Sha256 => "sha256",
    };
    let derive = |what: &str| {
        hmac(
            ScramHash::Sha256,
            secret,
            format!("{what}\0{tag}\0{username}").as_bytes(),
        )
    };
    let mut salt = derive("salt");
    salt.truncate(super::SALT_LEN);
    let mut stored_key = derive("stored-key");
    stored_key.truncate(output_len(hash));
    let mut server_key = derive("server-key");
    server_key.truncate(output_len(hash));
    ScramCredentials {
        salt,
        iterations: default_iterations(hash),
        stored_key,
        server_key,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn fake_credentials_are_stable_per_user_and_secret() {
        let a = fake_credentials(b"k", "alice", ScramHash::Sha256);
        assert_eq!(a, fake_credentials(b"k", "alice", ScramHash::Sha256));
        assert_ne!(
            a.salt,
            fake_credentials(b"k", "bob", ScramHash::Sha256).salt
        );
        assert_ne!(
            a.salt,
            fake_credentials(b"other", "alice", ScramHash::Sha256).salt
        );
        assert_eq!(a.salt.len(), crate::sasl::SALT_LEN);
        assert_eq!(
            fake_credentials(b"k", "a", ScramHash::Sha1)
                .stored_key
                .len(),
            20
        );
    }

    #[test]
    fn plain_needs_tls_and_plus_needs_channel_binding() {
        assert!(!Mechanism::Plain.offered(false, false));
        assert!(Mechanism::Plain.offered(true, false));
        assert!(Mechanism::ScramSha1.offered(false, false));
        assert!(!Mechanism::ScramSha256Plus.offered(true, false));
        assert!(Mechanism::ScramSha256Plus.offered(true, true));
        assert_eq!(
            Mechanism::from_name("SCRAM-SHA-256"),
            Some(Mechanism::ScramSha256)
        );
        assert_eq!(
            Mechanism::from_name("SCRAM-SHA-256-PLUS"),
            Some(Mechanism::ScramSha256Plus)
        );
        assert_eq!(Mechanism::from_name("SCRAM-SHA-512-PLUS"), None);
    }
}
