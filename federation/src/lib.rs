//! Lampfield's federation adapter: moving signed statements between organizations.
//!
//! Each organization signs what it publishes with its own ed25519 key (separate from
//! any transport key). A receiver accepts an envelope only when the origin domain is
//! on its [`TrustList`], the signature verifies against that domain's key, the payload
//! type is the one it expects, and the sequence number is newer than anything it has
//! accepted from that origin ([`Freshness`]). The crate is generic over the payload:
//! it moves bytes and knows nothing of presence.
//!
//! Layout:
//! - `encoding`: the length-prefixed byte layout that is signed and sent.
//! - [`envelope`]: sealing and opening signed envelopes.
//! - [`trust`]: which organization owns which key.
//! - [`freshness`]: replay and staleness rejection per origin.

mod encoding;
pub mod envelope;
pub mod error;
pub mod freshness;
pub mod trust;

pub use envelope::{SignedEnvelope, Verified};
pub use error::EnvelopeError;
pub use freshness::Freshness;
pub use trust::TrustList;
