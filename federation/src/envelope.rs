//! Signed envelopes: an organization's statement, bound to its domain, a payload type,
//! a sequence number and a timestamp.
//!
//! The signature covers a domain-separation string first, so a signature made for an
//! envelope can never be replayed as a signature over anything else this key signs.
//! Fields are private: the only way to the payload of a received envelope is
//! [`SignedEnvelope::open`], which checks trust, signature and type first.

use ed25519_dalek::{Signature, Signer, SigningKey};

use crate::encoding::{Reader, put_field};
use crate::error::EnvelopeError;
use crate::trust::TrustList;

/// Domain-separation string of version 1 envelopes.
const SIGNING_CONTEXT: &[u8] = b"lampfield-envelope-v1";
/// First bytes of an encoded envelope.
const MAGIC: &[u8; 4] = b"LFE1";
/// Longest origin domain (RFC 7622 domainpart limit).
pub const MAX_ORIGIN_BYTES: usize = 1023;
/// Longest payload type name.
pub const MAX_TYPE_BYTES: usize = 64;
/// Largest payload; presence statements are a few hundred bytes.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;

/// A sealed envelope as it travels between nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedEnvelope {
    origin: String,
    payload_type: String,
    seq: u64,
    timestamp_ms: u64,
    payload: Vec<u8>,
    signature: [u8; 64],
}

/// The content of an envelope whose origin, signature and type were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The organization domain that signed it.
    pub origin: String,
    /// Strictly increasing per origin.
    pub seq: u64,
    /// The signer's clock, unix milliseconds.
    pub timestamp_ms: u64,
    /// The payload bytes.
    pub payload: Vec<u8>,
}

fn signed_bytes(
    origin: &str,
    payload_type: &str,
    seq: u64,
    timestamp_ms: u64,
    payload: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + origin.len() + payload_type.len() + payload.len());
    put_field(&mut out, SIGNING_CONTEXT);
    put_field(&mut out, origin.as_bytes());
    put_field(&mut out, payload_type.as_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&timestamp_ms.to_be_bytes());
    put_field(&mut out, payload);
    out
}

impl SignedEnvelope {
    /// Seal `payload` as a statement of `origin`, signed with the organization key.
    pub fn seal(
        key: &SigningKey,
        origin: &str,
        payload_type: &str,
        seq: u64,
        timestamp_ms: u64,
        payload: Vec<u8>,
    ) -> Result<Self, EnvelopeError> {
        if origin.len() > MAX_ORIGIN_BYTES {
            return Err(EnvelopeError::TooLarge("origin"));
        }
        if payload_type.len() > MAX_TYPE_BYTES {
            return Err(EnvelopeError::TooLarge("payload type"));
        }
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(EnvelopeError::TooLarge("payload"));
        }
        let signature = key.sign(&signed_bytes(
            origin,
            payload_type,
            seq,
            timestamp_ms,
            &payload,
        ));
        Ok(Self {
            origin: origin.to_owned(),
            payload_type: payload_type.to_owned(),
            seq,
            timestamp_ms,
            payload,
            signature: signature.to_bytes(),
        })
    }

    /// The domain the envelope claims to come from (unverified until [`Self::open`]).
    pub fn claimed_origin(&self) -> &str {
        &self.origin
    }

    /// The sequence number (unverified until [`Self::open`]).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The payload type the envelope claims (unverified until [`Self::open`]).
    pub fn claimed_type(&self) -> &str {
        &self.payload_type
    }

    /// Check origin, signature and payload type; only then hand out the payload.
    pub fn open(self, trust: &TrustList, expected_type: &str) -> Result<Verified, EnvelopeError> {
        let key = trust
            .key_of(&self.origin)
            .ok_or_else(|| EnvelopeError::UnknownOrigin(self.origin.clone()))?;
        let bytes = signed_bytes(
            &self.origin,
            &self.payload_type,
            self.seq,
            self.timestamp_ms,
            &self.payload,
        );
        let signature = Signature::from_bytes(&self.signature);
        key.verify_strict(&bytes, &signature)
            .map_err(|_| EnvelopeError::BadSignature(self.origin.clone()))?;
        if self.payload_type != expected_type {
            return Err(EnvelopeError::WrongType(self.payload_type));
        }
        Ok(Verified {
            origin: self.origin,
            seq: self.seq,
            timestamp_ms: self.timestamp_ms,
            payload: self.payload,
        })
    }

    /// The wire form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128 + self.payload.len());
        out.extend_from_slice(MAGIC);
        put_field(&mut out, self.origin.as_bytes());
        put_field(&mut out, self.payload_type.as_bytes());
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.timestamp_ms.to_be_bytes());
        put_field(&mut out, &self.payload);
        out.extend_from_slice(&self.signature);
        out
    }

    /// Parse the wire form; every length is checked before anything is allocated.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        let mut r = Reader::new(bytes);
        if r.take(MAGIC.len(), "magic")? != MAGIC {
            return Err(EnvelopeError::Malformed("magic"));
        }
        let origin = utf8(r.field(MAX_ORIGIN_BYTES, "origin")?, "origin")?;
        let payload_type = utf8(r.field(MAX_TYPE_BYTES, "payload type")?, "payload type")?;
        let seq = r.u64("seq")?;
        let timestamp_ms = r.u64("timestamp")?;
        let payload = r.field(MAX_PAYLOAD_BYTES, "payload")?.to_vec();
        let mut signature = [0u8; 64];
        signature.copy_from_slice(r.take(64, "signature")?);
        if !r.is_empty() {
            return Err(EnvelopeError::Malformed("trailing bytes"));
        }
        Ok(Self {
            origin,
            payload_type,
            seq,
            timestamp_ms,
            payload,
            signature,
        })
    }
}

fn utf8(bytes: &[u8], what: &'static str) -> Result<String, EnvelopeError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| EnvelopeError::Malformed(what))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn trust_a() -> TrustList {
        let mut t = TrustList::default();
        t.insert("a.example", key(1).verifying_key());
        t
    }

    fn sealed() -> SignedEnvelope {
        SignedEnvelope::seal(
            &key(1),
            "a.example",
            "presence",
            7,
            1_000,
            b"hello".to_vec(),
        )
        .unwrap()
    }

    #[test]
    fn sealed_envelope_opens_with_the_right_key_and_type() {
        let v = sealed().open(&trust_a(), "presence").unwrap();
        assert_eq!(
            (v.origin.as_str(), v.seq, v.timestamp_ms),
            ("a.example", 7, 1_000)
        );
        assert_eq!(v.payload, b"hello");
    }

    #[test]
    fn wire_round_trip_preserves_the_signature() {
        let bytes = sealed().to_bytes();
        let back = SignedEnvelope::from_bytes(&bytes).unwrap();
        assert_eq!(back, sealed());
        assert!(back.open(&trust_a(), "presence").is_ok());
    }

    #[test]
    fn unknown_origin_is_refused() {
        let env = SignedEnvelope::seal(&key(1), "z.example", "presence", 1, 1, vec![]).unwrap();
        assert_eq!(
            env.open(&trust_a(), "presence"),
            Err(EnvelopeError::UnknownOrigin("z.example".into()))
        );
    }

    #[test]
    fn domain_claimed_with_another_organizations_key_is_refused() {
        let forged =
            SignedEnvelope::seal(&key(2), "a.example", "presence", 8, 1, b"x".to_vec()).unwrap();
        assert_eq!(
            forged.open(&trust_a(), "presence"),
            Err(EnvelopeError::BadSignature("a.example".into()))
        );
    }

    #[test]
    fn every_tampered_field_breaks_the_signature() {
        let good = sealed();
        let mut tampered = vec![good.clone(), good.clone(), good.clone(), good.clone()];
        tampered[0].seq += 1;
        tampered[1].timestamp_ms += 1;
        tampered[2].payload.push(b'!');
        tampered[3].payload_type = "presencf".into();
        for env in tampered {
            assert!(matches!(
                env.open(&trust_a(), "presence"),
                Err(EnvelopeError::BadSignature(_))
            ));
        }
    }

    #[test]
    fn wrong_payload_type_is_refused_after_the_signature_check() {
        assert_eq!(
            sealed().open(&trust_a(), "roster"),
            Err(EnvelopeError::WrongType("presence".into()))
        );
    }

    #[test]
    fn truncated_or_padded_bytes_are_malformed() {
        let bytes = sealed().to_bytes();
        for cut in 0..bytes.len() {
            assert!(
                SignedEnvelope::from_bytes(&bytes[..cut]).is_err(),
                "prefix of {cut} bytes"
            );
        }
        let mut padded = bytes;
        padded.push(0);
        assert_eq!(
            SignedEnvelope::from_bytes(&padded),
            Err(EnvelopeError::Malformed("trailing bytes"))
        );
    }

    #[test]
    fn oversized_payload_cannot_be_sealed() {
        let big = vec![0u8; MAX_PAYLOAD_BYTES + 1];
        assert_eq!(
            SignedEnvelope::seal(&key(1), "a.example", "p", 1, 1, big),
            Err(EnvelopeError::TooLarge("payload"))
        );
    }
}
