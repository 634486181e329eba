//! Server side of SCRAM-SHA-1 (RFC 5802) and SCRAM-SHA-256 (RFC 7677), and of their
//! -PLUS variants with `tls-exporter` channel binding (RFC 9266), the one type offered.
//! The gs2 flag must agree with the mechanism and with what the stream advertised
//! (RFC 5802 §6): `p=tls-exporter` for -PLUS, `n` or `y` otherwise, and `y` ("I could
//! bind but the server cannot") is a downgrade when -PLUS was advertised.
//!
//! Pure state machine: [`ClientFirst::parse`] reads the client-first-message and names
//! the user; the caller fetches that user's stored keys (or fake ones for an unknown
//! user, so both paths look the same); [`ClientFirst::challenge`] produces the
//! server-first-message; [`AwaitingFinal::finish`] checks the proof and yields the
//! server-final-message.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use subtle::ConstantTimeEq;

use super::SaslError;
use super::credentials::{digest, hmac, output_len};
use crate::ports::backend::{ScramCredentials, ScramHash};

/// Random bytes of the server's nonce part (base64-encoded on the wire).
const SERVER_NONCE_BYTES: usize = 18;
/// Longest client nonce we accept; real clients send 16-48 characters.
const MAX_NONCE_LEN: usize = 256;

/// The channel binding type we implement (RFC 9266).
const TLS_EXPORTER: &str = "tls-exporter";

/// Channel binding as the stream offers it to one SCRAM exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding<'a> {
    /// A -PLUS mechanism was chosen: the client must bind to this `tls-exporter` data.
    Plus(&'a [u8]),
    /// A mechanism without channel binding; `plus_offered` says whether a -PLUS one was
    /// advertised on this stream.
    Without {
        /// A -PLUS mechanism was advertised: a client that could bind must have.
        plus_offered: bool,
    },
}

/// A parsed client-first-message.
#[derive(Debug)]
pub struct ClientFirst {
    hash: ScramHash,
    /// The gs2 header exactly as sent (e.g. `n,,`), echoed by the client in `c=`.
    gs2_header: String,
    /// The channel binding data the client must echo after the gs2 header in `c=`.
    binding: Vec<u8>,
    /// The authorization identity from the gs2 header, when one was given.
    authzid: Option<String>,
    /// The decoded username (`=2C` / `=3D` unescaped).
    username: String,
    client_nonce: String,
    /// client-first-message-bare, part of the AuthMessage.
    bare: String,
}

/// The exchange after the server-first-message, waiting for the client's proof.
#[derive(Debug)]
pub struct AwaitingFinal {
    hash: ScramHash,
    gs2_header: String,
    binding: Vec<u8>,
    nonce: String,
    /// client-first-message-bare "," server-first-message.
    auth_prefix: String,
    stored_key: Vec<u8>,
    server_key: Vec<u8>,
    /// False when the keys are fake (unknown account): the proof check then fails
    /// after the same work as a real one.
    real: bool,
}

impl ClientFirst {
    /// Parse a client-first-message (RFC 5802 §7) for a mechanism with `binding`.
    pub fn parse(hash: ScramHash, msg: &[u8], binding: Binding<'_>) -> Result<Self, SaslError> {
        let msg = std::str::from_utf8(msg).map_err(|_| SaslError::IncorrectEncoding)?;
        let (flag, rest) = msg.split_once(',').ok_or(SaslError::MalformedRequest)?;
        let bound = match (flag, binding) {
            ("n", Binding::Without { .. }) => Vec::new(),
            ("y", Binding::Without { plus_offered }) => {
                if plus_offered {
                    return Err(SaslError::BindingDowngrade);
                }
                Vec::new()
            }
            (f, Binding::Plus(data)) if f.strip_prefix("p=") == Some(TLS_EXPORTER) => data.to_vec(),
            (f, Binding::Plus(_)) if f.starts_with("p=") => {
                return Err(SaslError::UnsupportedBindingType);
            }
            // A -PLUS mechanism without binding, or binding without a -PLUS mechanism.
            ("n" | "y", Binding::Plus(_)) => return Err(SaslError::MalformedRequest),
            (f, Binding::Without { .. }) if f.starts_with("p=") => {
                return Err(SaslError::ChannelBindingNotSupported);
            }
            _ => return Err(SaslError::MalformedRequest),
        };
        let (authz, bare) = rest.split_once(',').ok_or(SaslError::MalformedRequest)?;
        let authzid = match authz {
            "" => None,
            a => Some(decode_name(
                a.strip_prefix("a=").ok_or(SaslError::MalformedRequest)?,
            )?),
        };
        let gs2_header = format!("{flag},{authz},");
        let mut parts = bare.split(',');
        if bare.starts_with("m=") {
            // Mandatory extensions we do not know (RFC 5802 §5.1).
            return Err(SaslError::MalformedRequest);
        }
        let username = parts
            .next()
            .and_then(|p| p.strip_prefix("n="))
            .ok_or(SaslError::MalformedRequest)?;
        let username = decode_name(username)?;
        let client_nonce = parts
            .next()
            .and_then(|p| p.strip_prefix("r="))
            .ok_or(SaslError::MalformedRequest)?;
        if username.is_empty() || !valid_nonce(client_nonce) {
            return Err(SaslError::MalformedRequest);
        }
        Ok(Self {
            hash,
            gs2_header,
            binding: bound,
            authzid,
            username,
            client_nonce: client_nonce.to_owned(),
            bare: bare.to_owned(),
        })
    }

    /// The username the client authenticates as.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The authorization identity the client asked for, if any.
    pub fn authzid(&self) -> Option<&str> {
        self.authzid.as_deref()
    }

    /// Answer with the server-first-message for these stored keys. `real` is false when
    /// `creds` are the fake keys of an unknown account.
    pub fn challenge(self, creds: &ScramCredentials, real: bool) -> (Vec<u8>, AwaitingFinal) {
        let mut raw = [0u8; SERVER_NONCE_BYTES];
        rand::fill(&mut raw[..]);
        self.challenge_with_nonce(creds, real, &B64.encode(raw))
    }

    /// [`Self::challenge`] with a chosen server nonce part (test vectors).
    pub(crate) fn challenge_with_nonce(
        self,
        creds: &ScramCredentials,
        real: bool,
        server_nonce: &str,
    ) -> (Vec<u8>, AwaitingFinal) {
        let nonce = format!("{}{}", self.client_nonce, server_nonce);
        let server_first = format!(
            "r={nonce},s={},i={}",
            B64.encode(&creds.salt),
            creds.iterations
        );
        let auth_prefix = format!("{},{server_first}", self.bare);
        let next = AwaitingFinal {
            hash: self.hash,
            gs2_header: self.gs2_header,
            binding: self.binding,
            nonce,
            auth_prefix,
            stored_key: creds.stored_key.clone(),
            server_key: creds.server_key.clone(),
            real,
        };
        (server_first.into_bytes(), next)
    }
}

impl AwaitingFinal {
    /// Check the client-final-message (RFC 5802 §7) and return the server-final-message
    /// (`v=` ServerSignature) when the proof is right.
    pub fn finish(self, msg: &[u8]) -> Result<Vec<u8>, SaslError> {
        let msg = std::str::from_utf8(msg).map_err(|_| SaslError::IncorrectEncoding)?;
        let (without_proof, proof) = msg.rsplit_once(",p=").ok_or(SaslError::MalformedRequest)?;
        let mut parts = without_proof.split(',');
        let binding = parts
            .next()
            .and_then(|p| p.strip_prefix("c="))
            .ok_or(SaslError::MalformedRequest)?;
        let nonce = parts
            .next()
            .and_then(|p| p.strip_prefix("r="))
            .ok_or(SaslError::MalformedRequest)?;
        let binding = B64
            .decode(binding)
            .map_err(|_| SaslError::IncorrectEncoding)?;
        // RFC 5802 §7: `c=` is the gs2 header followed by the channel binding data.
        let (header, data) = binding.split_at(binding.len().min(self.gs2_header.len()));
        if header != self.gs2_header.as_bytes() {
            return Err(SaslError::MalformedRequest);
        }
        if !bool::from(data.ct_eq(&self.binding)) {
            return Err(SaslError::NotAuthorized);
        }
        if nonce != self.nonce {
            return Err(SaslError::MalformedRequest);
        }
        let proof = B64
            .decode(proof)
            .map_err(|_| SaslError::IncorrectEncoding)?;
        if proof.len() != output_len(self.hash) {
            return Err(SaslError::MalformedRequest);
        }
        let auth_message = format!("{},{without_proof}", self.auth_prefix);
        let client_signature = hmac(self.hash, &self.stored_key, auth_message.as_bytes());
        let client_key: Vec<u8> = proof
            .iter()
            .zip(&client_signature)
            .map(|(p, s)| p ^ s)
            .collect();
        let matches = digest(self.hash, &client_key).ct_eq(&self.stored_key);
        if !(bool::from(matches) && self.real) {
            return Err(SaslError::NotAuthorized);
        }
        let server_signature = hmac(self.hash, &self.server_key, auth_message.as_bytes());
        Ok(format!("v={}", B64.encode(server_signature)).into_bytes())
    }
}

/// Decode a saslname (RFC 5802 §5.1): `=2C` is `,`, `=3D` is `=`, any other `=` is an error.
fn decode_name(s: &str) -> Result<String, SaslError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('=') {
        out.push_str(&rest[..i]);
        let esc = rest.get(i..i + 3).ok_or(SaslError::MalformedRequest)?;
        out.push(match esc {
            "=2C" => ',',
            "=3D" => '=',
            _ => return Err(SaslError::MalformedRequest),
        });
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A nonce is printable ASCII except `,` (RFC 5802 §5.1), and bounded.
fn valid_nonce(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= MAX_NONCE_LEN
        && n.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b',')
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
#[path = "scram_tests.rs"]
mod tests;
