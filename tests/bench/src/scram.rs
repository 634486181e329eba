//! SCRAM client (RFC 5802 SCRAM-SHA-1, RFC 7677 SCRAM-SHA-256), without channel binding (`n,,`).
//!
//! The PBKDF2 step (`SaltedPassword`) is the expensive part of a SCRAM login and it runs on the
//! client. A benchmark that must measure the server keeps a [`SaltedKey`] per account from a warm-up
//! login and reuses it while the server keeps the same salt and iteration count.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sha1::Digest as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
pub enum Mechanism {
    #[value(name = "SCRAM-SHA-1")]
    #[serde(rename = "SCRAM-SHA-1")]
    ScramSha1,
    #[value(name = "SCRAM-SHA-256")]
    #[serde(rename = "SCRAM-SHA-256")]
    ScramSha256,
}

impl Mechanism {
    pub fn name(self) -> &'static str {
        match self {
            Self::ScramSha1 => "SCRAM-SHA-1",
            Self::ScramSha256 => "SCRAM-SHA-256",
        }
    }

    fn pbkdf2(self, password: &[u8], salt: &[u8], rounds: u32) -> Vec<u8> {
        match self {
            Self::ScramSha1 => {
                let mut out = [0u8; 20];
                pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, rounds, &mut out);
                out.to_vec()
            }
            Self::ScramSha256 => {
                let mut out = [0u8; 32];
                pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, rounds, &mut out);
                out.to_vec()
            }
        }
    }

    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        match self {
            Self::ScramSha1 => hmac_with::<hmac::Hmac<sha1::Sha1>>(key, data),
            Self::ScramSha256 => hmac_with::<hmac::Hmac<sha2::Sha256>>(key, data),
        }
    }

    fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::ScramSha1 => sha1::Sha1::digest(data).to_vec(),
            Self::ScramSha256 => sha2::Sha256::digest(data).to_vec(),
        }
    }
}

fn hmac_with<M: hmac::KeyInit + hmac::Mac>(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = <M as hmac::KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The result of PBKDF2 for one account, with the parameters it was computed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaltedKey {
    pub salt: Vec<u8>,
    pub iterations: u32,
    pub salted_password: Vec<u8>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScramError {
    #[error("server-first-message is malformed")]
    BadServerFirst,
    #[error("server nonce does not extend ours")]
    NonceMismatch,
    #[error("iteration count {0} is out of the accepted range")]
    Iterations(u32),
    #[error("server-final-message is malformed or reports an error")]
    BadServerFinal,
    #[error("server signature does not verify")]
    BadServerSignature,
}

/// Escapes a username for the `n=` attribute (RFC 5802 §5.1).
fn saslname(user: &str) -> String {
    user.replace('=', "=3D").replace(',', "=2C")
}

/// A SCRAM exchange in progress.
pub struct Client {
    mech: Mechanism,
    password: String,
    client_first_bare: String,
    nonce: String,
}

/// What the client sends after the server-first message, and what it expects back.
pub struct Final {
    pub message: String,
    pub key: SaltedKey,
    /// Whether a cached key was reused (no PBKDF2 on this login).
    pub cache_hit: bool,
    server_signature: Vec<u8>,
}

impl Client {
    pub fn new(mech: Mechanism, user: &str, password: &str, nonce: &str) -> Self {
        Self {
            mech,
            password: password.to_owned(),
            client_first_bare: format!("n={},r={}", saslname(user), nonce),
            nonce: nonce.to_owned(),
        }
    }

    /// A nonce from 18 random bytes.
    pub fn random_nonce() -> String {
        let mut bytes = [0u8; 18];
        rand::fill(&mut bytes);
        B64.encode(bytes)
    }

    /// `n,,n=user,r=nonce`
    pub fn first_message(&self) -> String {
        format!("n,,{}", self.client_first_bare)
    }

    /// Computes the client-final message from the server-first message, reusing `cached` when its
    /// salt and iteration count are the ones the server announces.
    pub fn final_message(
        &self,
        server_first: &str,
        cached: Option<&SaltedKey>,
    ) -> Result<Final, ScramError> {
        let (mut nonce, mut salt, mut iters) = (None, None, None);
        for attr in server_first.split(',') {
            match attr.split_once('=') {
                Some(("r", v)) => nonce = Some(v),
                Some(("s", v)) => salt = Some(v),
                Some(("i", v)) => iters = Some(v),
                Some(("m", _)) => return Err(ScramError::BadServerFirst),
                _ => {}
            }
        }
        let (Some(nonce), Some(salt), Some(iters)) = (nonce, salt, iters) else {
            return Err(ScramError::BadServerFirst);
        };
        if !nonce.starts_with(&self.nonce) || nonce.len() == self.nonce.len() {
            return Err(ScramError::NonceMismatch);
        }
        let salt = B64.decode(salt).map_err(|_| ScramError::BadServerFirst)?;
        let iterations: u32 = iters.parse().map_err(|_| ScramError::BadServerFirst)?;
        if !(1..=10_000_000).contains(&iterations) {
            return Err(ScramError::Iterations(iterations));
        }
        let (key, cache_hit) = match cached {
            Some(k) if k.salt == salt && k.iterations == iterations => (k.clone(), true),
            _ => {
                let salted_password = self
                    .mech
                    .pbkdf2(self.password.as_bytes(), &salt, iterations);
                (
                    SaltedKey {
                        salt,
                        iterations,
                        salted_password,
                    },
                    false,
                )
            }
        };
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!(
            "{},{},{}",
            self.client_first_bare, server_first, without_proof
        );
        let m = self.mech;
        let client_key = m.hmac(&key.salted_password, b"Client Key");
        let stored_key = m.hash(&client_key);
        let client_signature = m.hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&client_signature)
            .map(|(a, b)| a ^ b)
            .collect();
        let server_key = m.hmac(&key.salted_password, b"Server Key");
        let server_signature = m.hmac(&server_key, auth_message.as_bytes());
        Ok(Final {
            message: format!("{without_proof},p={}", B64.encode(proof)),
            key,
            cache_hit,
            server_signature,
        })
    }
}

impl Final {
    /// The server-final message a correct server sends for this exchange (`v=...`).
    pub fn expected_server_final(&self) -> String {
        format!("v={}", B64.encode(&self.server_signature))
    }

    /// Checks the server-final message `v=...` (RFC 5802 §3: the server proves it knows the key).
    pub fn verify(&self, server_final: &str) -> Result<(), ScramError> {
        let v = server_final
            .split(',')
            .find_map(|a| a.strip_prefix("v="))
            .ok_or(ScramError::BadServerFinal)?;
        let sig = B64.decode(v).map_err(|_| ScramError::BadServerFinal)?;
        if sig == self.server_signature {
            Ok(())
        } else {
            Err(ScramError::BadServerSignature)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5802 §5 example.
    #[test]
    fn rfc5802_sha1_vector() {
        let c = Client::new(
            Mechanism::ScramSha1,
            "user",
            "pencil",
            "fyko+d2lbbFgONRv9qkxdawL",
        );
        assert_eq!(c.first_message(), "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
        let sf = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
        let f = c.final_message(sf, None).unwrap();
        assert_eq!(
            f.message,
            "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
        );
        assert!(!f.cache_hit);
        f.verify("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=").unwrap();
        assert_eq!(f.verify("v=AAAA"), Err(ScramError::BadServerSignature));
        assert_eq!(f.verify("e=other-error"), Err(ScramError::BadServerFinal));
        // The cached key gives the same proof without PBKDF2.
        let again = c.final_message(sf, Some(&f.key)).unwrap();
        assert!(again.cache_hit);
        assert_eq!(again.message, f.message);
    }

    /// RFC 7677 §3 example.
    #[test]
    fn rfc7677_sha256_vector() {
        let c = Client::new(
            Mechanism::ScramSha256,
            "user",
            "pencil",
            "rOprNGfwEbeRWgbNEkqO",
        );
        let sf = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        let f = c.final_message(sf, None).unwrap();
        assert_eq!(
            f.message,
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
             p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        f.verify("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
            .unwrap();
    }

    #[test]
    fn stale_cache_is_recomputed() {
        let c = Client::new(
            Mechanism::ScramSha1,
            "user",
            "pencil",
            "fyko+d2lbbFgONRv9qkxdawL",
        );
        let sf = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
        let stale = SaltedKey {
            salt: b"other".to_vec(),
            iterations: 4096,
            salted_password: vec![0; 20],
        };
        let f = c.final_message(sf, Some(&stale)).unwrap();
        assert!(!f.cache_hit);
        f.verify("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=").unwrap();
    }

    #[test]
    fn bad_server_first() {
        let c = Client::new(Mechanism::ScramSha1, "us,e=r", "p", "abc");
        assert_eq!(c.first_message(), "n,,n=us=2Ce=3Dr,r=abc");
        assert_eq!(
            c.final_message("r=xyz1,s=AAAA,i=1", None).err(),
            Some(ScramError::NonceMismatch)
        );
        assert_eq!(
            c.final_message("r=abc,s=AAAA,i=1", None).err(),
            Some(ScramError::NonceMismatch)
        );
        assert_eq!(
            c.final_message("r=abcd,s=AAAA", None).err(),
            Some(ScramError::BadServerFirst)
        );
        assert_eq!(
            c.final_message("r=abcd,s=AAAA,i=0", None).err(),
            Some(ScramError::Iterations(0))
        );
        assert_eq!(
            c.final_message("m=ext,r=abcd,s=AAAA,i=1", None).err(),
            Some(ScramError::BadServerFirst)
        );
    }
}
