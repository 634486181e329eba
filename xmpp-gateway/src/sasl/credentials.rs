//! SCRAM key derivation (RFC 5802 §3, RFC 7677): what the server stores of a password.
//!
//! The same primitives serve the SCRAM exchange itself, PLAIN verification against
//! stored SCRAM keys, and the indistinguishable fake credentials of unknown accounts.

use std::borrow::Cow;

use hmac::{KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::ports::backend::{ScramCredentials, ScramHash};

/// PBKDF2 iterations for new SCRAM-SHA-1 credentials: the RFC 5802 example value,
/// which every SHA-1 client accepts.
pub const SHA1_ITERATIONS: u32 = 4096;

/// PBKDF2 iterations for new SCRAM-SHA-256 credentials.
///
/// RFC 7677 asks for at least 4096. A SCRAM login costs the server only a few HMACs
/// whatever the count (the client runs PBKDF2), and PLAIN logins cost the server one
/// derivation of a few milliseconds at this count; 10,000 is the value common servers
/// ship with, so clients handle it and offline guessing from a leaked store is slower.
pub const SHA256_ITERATIONS: u32 = 10_000;

/// Length of the random salt of new credentials, in bytes.
pub const SALT_LEN: usize = 16;

/// Why a password cannot be used as a SCRAM password.
#[derive(Debug, thiserror::Error)]
#[error("password rejected by SASLprep (RFC 4013): {0}")]
pub struct PasswordError(#[from] stringprep::Error);

/// Check that a password passes SASLprep (RFC 4013), so that every client can
/// derive the same keys from it. `lampfield user add` should refuse one that does not.
pub fn check_password(password: &str) -> Result<(), PasswordError> {
    stringprep::saslprep(password)?;
    Ok(())
}

/// The SASLprep'd form of a password; a password SASLprep rejects is used as its raw
/// UTF-8 bytes, which clients that skip SASLprep still match.
pub(crate) fn prepare(password: &str) -> Cow<'_, str> {
    stringprep::saslprep(password).unwrap_or(Cow::Borrowed(password))
}

/// Derive the stored SCRAM keys of `password` for one hash, salt and iteration count.
///
/// The password is SASLprep'd first (see [`check_password`] for passwords it rejects).
pub fn derive_credentials(
    password: &str,
    hash: ScramHash,
    salt: &[u8],
    iterations: u32,
) -> ScramCredentials {
    let salted = salted_password(hash, prepare(password).as_bytes(), salt, iterations);
    let (stored_key, server_key) = keys_from_salted(hash, &salted);
    ScramCredentials {
        salt: salt.to_vec(),
        iterations,
        stored_key,
        server_key,
    }
}

/// Fresh credentials with a random [`SALT_LEN`]-byte salt and the default iteration
/// count of the hash ([`SHA1_ITERATIONS`], [`SHA256_ITERATIONS`]).
pub fn new_credentials(password: &str, hash: ScramHash) -> ScramCredentials {
    let mut salt = [0u8; SALT_LEN];
    rand::fill(&mut salt[..]);
    derive_credentials(password, hash, &salt, default_iterations(hash))
}

/// The iteration count new credentials of `hash` get.
pub fn default_iterations(hash: ScramHash) -> u32 {
    match hash {
        ScramHash::Sha1 => SHA1_ITERATIONS,
        ScramHash::Sha256 => SHA256_ITERATIONS,
    }
}

/// SaltedPassword := Hi(password, salt, i), i.e. PBKDF2 with HMAC of the hash.
pub(crate) fn salted_password(
    hash: ScramHash,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
) -> Vec<u8> {
    let mut out = vec![0u8; output_len(hash)];
    match hash {
        ScramHash::Sha1 => pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, iterations, &mut out),
        ScramHash::Sha256 => pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out),
    }
    out
}

/// (StoredKey, ServerKey) from a SaltedPassword.
pub(crate) fn keys_from_salted(hash: ScramHash, salted: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let client_key = hmac(hash, salted, b"Client Key");
    let stored_key = digest(hash, &client_key);
    let server_key = hmac(hash, salted, b"Server Key");
    (stored_key, server_key)
}

/// Output length of the hash, in bytes.
pub(crate) fn output_len(hash: ScramHash) -> usize {
    match hash {
        ScramHash::Sha1 => 20,
        ScramHash::Sha256 => 32,
    }
}

/// HMAC(key, data) with the hash.
pub(crate) fn hmac(hash: ScramHash, key: &[u8], data: &[u8]) -> Vec<u8> {
    fn run<M: Mac + KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
        // HMAC accepts keys of any length, so this never fails.
        match <M as KeyInit>::new_from_slice(key) {
            Ok(mut mac) => {
                mac.update(data);
                mac.finalize().into_bytes().to_vec()
            }
            Err(_) => Vec::new(),
        }
    }
    match hash {
        ScramHash::Sha1 => run::<hmac::Hmac<Sha1>>(key, data),
        ScramHash::Sha256 => run::<hmac::Hmac<Sha256>>(key, data),
    }
}

/// H(data) with the hash.
pub(crate) fn digest(hash: ScramHash, data: &[u8]) -> Vec<u8> {
    match hash {
        ScramHash::Sha1 => Sha1::digest(data).to_vec(),
        ScramHash::Sha256 => Sha256::digest(data).to_vec(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn salt_and_iterations_are_kept() {
        let c = derive_credentials("pencil", ScramHash::Sha256, b"0123456789abcdef", 4096);
        assert_eq!(c.salt, b"0123456789abcdef");
        assert_eq!(c.iterations, 4096);
        assert_eq!(c.stored_key.len(), 32);
        assert_eq!(c.server_key.len(), 32);
    }

    #[test]
    fn new_credentials_are_salted_randomly() {
        let a = new_credentials("pencil", ScramHash::Sha1);
        let b = new_credentials("pencil", ScramHash::Sha1);
        assert_eq!(a.salt.len(), SALT_LEN);
        assert_eq!(a.iterations, SHA1_ITERATIONS);
        assert_ne!(a.salt, b.salt);
        assert_ne!(a.stored_key, b.stored_key);
        assert_eq!(
            new_credentials("x", ScramHash::Sha256).iterations,
            SHA256_ITERATIONS
        );
    }

    #[test]
    fn saslprep_maps_equivalent_passwords_together() {
        // RFC 4013 §3: U+00AD (soft hyphen) is mapped to nothing, U+00A0 to a space.
        let salt = b"salt-salt-salt-s";
        let plain = derive_credentials("IX", ScramHash::Sha256, salt, 10);
        let soft = derive_credentials("I\u{00AD}X", ScramHash::Sha256, salt, 10);
        assert_eq!(plain, soft);
        assert!(check_password("pencil").is_ok());
        assert!(check_password("a\u{0007}b").is_err());
    }
}
