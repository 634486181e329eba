//! Which organization owns which key.
//!
//! The list is configured by the node's admin (domain, public key); an envelope from
//! a domain not on it is refused, and a domain is only ever believed when signed by
//! its own key, so no organization can speak for another.

use std::collections::HashMap;

use ed25519_dalek::VerifyingKey;

/// Trusted organization domains and their public keys.
#[derive(Debug, Clone, Default)]
pub struct TrustList {
    keys: HashMap<String, VerifyingKey>,
}

impl TrustList {
    /// Trust `key` for `domain` (lower-cased, as domains compare case-insensitively).
    pub fn insert(&mut self, domain: &str, key: VerifyingKey) {
        self.keys.insert(domain.to_ascii_lowercase(), key);
    }

    /// The key trusted for `domain`, if any.
    pub fn key_of(&self, domain: &str) -> Option<&VerifyingKey> {
        self.keys.get(&domain.to_ascii_lowercase())
    }

    /// Whether `domain` is a trusted organization.
    pub fn contains(&self, domain: &str) -> bool {
        self.key_of(domain).is_some()
    }

    /// The trusted domains.
    pub fn domains(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }
}
