//! Stored records: what sled holds, kept apart from wire and domain types.
//!
//! Each value is one version byte followed by the record as JSON. A new layout gets
//! a new version byte and a decoder for the old one, so a database written by an
//! older node stays readable.

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use super::StoreError;

/// Version byte of the current record layouts.
const V1: u8 = 1;

/// A local account: SCRAM credentials for each supported hash, never a password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Credentials for SCRAM-SHA-1 (RFC 5802).
    pub scram_sha1: Scram,
    /// Credentials for SCRAM-SHA-256 (RFC 7677).
    pub scram_sha256: Scram,
}

/// Salted SCRAM credentials (RFC 5802 §3): enough to verify a login, not to log in.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scram {
    /// Random salt.
    pub salt: Vec<u8>,
    /// PBKDF2 iteration count.
    pub iterations: u32,
    /// H(ClientKey).
    pub stored_key: Vec<u8>,
    /// HMAC(SaltedPassword, "Server Key").
    pub server_key: Vec<u8>,
}

impl std::fmt::Debug for Scram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The keys allow offline guessing of the password: keep them out of logs.
        f.debug_struct("Scram")
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

/// One contact of one user; the contact's JID is in the key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// The handle the user gave the contact.
    pub name: Option<String>,
    /// Roster groups, in the user's order.
    pub groups: Vec<String>,
    /// RFC 6121 subscription state, seen from the user.
    pub subscription: Subscription,
    /// Whether the contact shows in the user's roster (false: only a pending request
    /// or a pre-approval is remembered).
    pub in_roster: bool,
}

/// RFC 6121 subscription state flags, seen from the user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// The user receives the contact's presence.
    pub to: bool,
    /// The contact receives the user's presence.
    pub from: bool,
    /// The user's request to the contact is pending.
    pub pending_out: bool,
    /// The contact's request to the user is pending.
    pub pending_in: bool,
    /// The user approved a request from the contact in advance.
    pub preapproved: bool,
}

/// Encode a record in the current layout.
pub(super) fn encode<T: Serialize>(tree: &'static str, record: &T) -> Result<Vec<u8>, StoreError> {
    let mut bytes = vec![V1];
    serde_json::to_writer(&mut bytes, record).map_err(|e| StoreError::Decode {
        tree,
        reason: format!("cannot encode: {e}"),
    })?;
    Ok(bytes)
}

/// Decode a record of any known layout.
pub(super) fn decode<T: DeserializeOwned>(
    tree: &'static str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&V1, json)) => serde_json::from_slice(json).map_err(|e| StoreError::Decode {
            tree,
            reason: e.to_string(),
        }),
        Some((version, _)) => Err(StoreError::Decode {
            tree,
            reason: format!("unknown record version {version} (written by a newer node?)"),
        }),
        None => Err(StoreError::Decode {
            tree,
            reason: "empty value".to_owned(),
        }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_with_a_version_byte() {
        let c = Contact {
            name: Some("Bob".into()),
            groups: vec!["Friends".into()],
            subscription: Subscription {
                to: true,
                pending_in: true,
                ..Subscription::default()
            },
            in_roster: true,
        };
        let bytes = encode("t", &c).unwrap();
        assert_eq!(bytes[0], V1);
        assert_eq!(decode::<Contact>("t", &bytes).unwrap(), c);
    }

    #[test]
    fn unknown_versions_and_garbage_are_errors() {
        assert!(matches!(
            decode::<Contact>("t", b"\x09{}"),
            Err(StoreError::Decode { .. })
        ));
        assert!(decode::<Contact>("t", b"").is_err());
        assert!(decode::<Contact>("t", b"\x01not json").is_err());
    }
}
