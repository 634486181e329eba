//! PLAIN (RFC 4616), verified against the stored SCRAM keys: we never store the
//! password, so we derive the StoredKey from the offered one and compare.

use subtle::ConstantTimeEq;

use super::SaslError;
use super::credentials::{digest, hmac, prepare, salted_password};
use crate::ports::backend::{ScramCredentials, ScramHash};

/// Longest PLAIN message we accept (authzid, authcid, password and two NULs).
const MAX_PLAIN_LEN: usize = 3 * 1024;

/// A parsed PLAIN message: `[authzid] NUL authcid NUL passwd`.
pub struct PlainRequest {
    /// The authorization identity, empty when none was given.
    pub authzid: String,
    /// The authentication identity (the username).
    pub authcid: String,
    /// The password, as sent.
    pub password: String,
}

impl std::fmt::Debug for PlainRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlainRequest")
            .field("authzid", &self.authzid)
            .field("authcid", &self.authcid)
            .finish_non_exhaustive()
    }
}

impl PlainRequest {
    /// Parse the decoded initial response.
    pub fn parse(msg: &[u8]) -> Result<Self, SaslError> {
        if msg.len() > MAX_PLAIN_LEN {
            return Err(SaslError::MalformedRequest);
        }
        let msg = std::str::from_utf8(msg).map_err(|_| SaslError::IncorrectEncoding)?;
        let mut parts = msg.split('\0');
        let (Some(authzid), Some(authcid), Some(password), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(SaslError::MalformedRequest);
        };
        if authcid.is_empty() || password.is_empty() {
            return Err(SaslError::MalformedRequest);
        }
        Ok(Self {
            authzid: authzid.to_owned(),
            authcid: authcid.to_owned(),
            password: password.to_owned(),
        })
    }
}

/// Whether `password` matches the stored keys; `real` false (fake keys of an unknown
/// account) fails after the same work.
pub fn verify_plain(password: &str, hash: ScramHash, creds: &ScramCredentials, real: bool) -> bool {
    let salted = salted_password(
        hash,
        prepare(password).as_bytes(),
        &creds.salt,
        creds.iterations,
    );
    let stored = digest(hash, &hmac(hash, &salted, b"Client Key"));
    bool::from(stored.ct_eq(&creds.stored_key)) && real
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::sasl::derive_credentials;

    #[test]
    fn parses_the_three_parts() {
        let r = PlainRequest::parse(b"\0user\0pencil").unwrap();
        assert_eq!(
            (r.authzid.as_str(), r.authcid.as_str(), r.password.as_str()),
            ("", "user", "pencil")
        );
        let r = PlainRequest::parse(b"user@example.com\0user\0pencil").unwrap();
        assert_eq!(r.authzid, "user@example.com");
        assert!(PlainRequest::parse(b"user\0pencil").is_err());
        assert!(PlainRequest::parse(b"\0\0pencil").is_err());
        assert!(PlainRequest::parse(b"\0u\0p\0x").is_err());
        assert_eq!(
            PlainRequest::parse(b"\0u\0\xff").unwrap_err(),
            SaslError::IncorrectEncoding
        );
    }

    #[test]
    fn verifies_against_scram_keys() {
        let creds = derive_credentials("pencil", ScramHash::Sha256, b"0123456789abcdef", 64);
        assert!(verify_plain("pencil", ScramHash::Sha256, &creds, true));
        assert!(!verify_plain("pencil", ScramHash::Sha256, &creds, false));
        assert!(!verify_plain("pen", ScramHash::Sha256, &creds, true));
        let sha1 = derive_credentials("pencil", ScramHash::Sha1, b"0123456789abcdef", 64);
        assert!(verify_plain("pencil", ScramHash::Sha1, &sha1, true));
    }
}
