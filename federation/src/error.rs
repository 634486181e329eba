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

/// Why a federation operation failed.
#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    /// The swarm could not be built or could not listen.
    #[error("federation setup: {0}")]
    Setup(String),
    /// The service has stopped.
    #[error("federation service stopped")]
    Stopped,
    /// No connected peer has proven to belong to this organization.
    #[error("no connected peer of {0}")]
    NotConnected(String),
    /// Too many requests in flight.
    #[error("too many requests in flight")]
    Busy,
    /// Nobody subscribed to the topic is connected yet.
    #[error("no peer subscribed to {0}")]
    NoPeers(String),
    /// A payload type reserved by the protocol.
    #[error("payload type {0} is reserved")]
    Reserved(String),
    /// The envelope could not be sealed (too large, for example).
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// The sealed envelope exceeds the configured maximum.
    #[error("envelope of {0} bytes exceeds the limit")]
    TooLarge(usize),
    /// The remote organization refused the request.
    #[error("refused by the remote organization: {0:?}")]
    Refused(crate::frame::Refusal),
    /// The answer failed verification.
    #[error("answer refused: {0}")]
    BadAnswer(#[from] PeerProofError),
    /// No answer within the request timeout.
    #[error("request timed out")]
    Timeout,
    /// The transport failed (connection closed, protocol not supported, ...).
    #[error("transport: {0}")]
    Transport(String),
    /// Gossipsub refused to publish.
    #[error("publish: {0}")]
    Publish(String),
}

/// Why a hello, request or answer was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PeerProofError {
    /// The envelope itself failed (parse, trust, signature, type, clock).
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// A hello signed for another peer id: someone else's hello, replayed.
    #[error("hello bound to another peer")]
    WrongPeer,
    /// The envelope's origin is not the organization this connection proved.
    #[error("statement from {claimed} on a connection of {proven}")]
    WrongOrigin {
        /// Origin in the envelope.
        claimed: String,
        /// Organization proven by the connection's hello (or the one asked).
        proven: String,
    },
    /// A request of a payload type this node does not serve.
    #[error("unsupported payload type {0}")]
    Unsupported(String),
}
