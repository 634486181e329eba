//! Why an envelope was refused. Each variant is a cause the caller can act on (for
//! example by penalizing the peer that forwarded it).

/// An envelope that must not be accepted or forwarded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    /// The bytes do not follow the envelope layout.
    #[error("malformed envelope: {0}")]
    Malformed(&'static str),
    /// A field is longer than the protocol allows.
    #[error("envelope field too large: {0}")]
    TooLarge(&'static str),
    /// The origin domain is not a trusted organization.
    #[error("unknown organization {0}")]
    UnknownOrigin(String),
    /// The signature does not verify with the origin's key.
    #[error("bad signature from {0}")]
    BadSignature(String),
    /// The payload is not of the type the caller expects.
    #[error("unexpected payload type {0}")]
    WrongType(String),
    /// The sequence number is not newer than one already accepted from this origin.
    #[error("replayed envelope from {origin} (seq {seq}, last accepted {last})")]
    Replayed {
        /// Origin domain.
        origin: String,
        /// The envelope's sequence number.
        seq: u64,
        /// The newest sequence number accepted before.
        last: u64,
    },
    /// The timestamp is too far in the past or the future.
    #[error("stale envelope from {origin}: timestamp {timestamp_ms} ms, now {now_ms} ms")]
    Stale {
        /// Origin domain.
        origin: String,
        /// The envelope's timestamp.
        timestamp_ms: u64,
        /// The receiver's clock.
        now_ms: u64,
    },
}
