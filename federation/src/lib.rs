//! Lampfield's federation adapter: moving signed statements between organizations.
//!
//! Each organization signs what it publishes with its own ed25519 key (separate from
//! any transport key). A receiver accepts an envelope only when the origin domain is
//! on its [`TrustList`], the signature verifies against that domain's key, the payload
//! type is the one it expects, and the sequence number is newer than anything it has
//! accepted from that origin ([`Freshness`]). The crate is generic over the payload:
//! it moves bytes and knows nothing of presence.
//!
//! The transport is libp2p (TCP + noise + yamux): gossipsub carries change notices
//! (one topic per payload type, validated before forwarding), and the request/response
//! protocol `/lampfield/federation/1` carries hellos (which bind a peer to its
//! organization), requests and signed answers. [`start`] spawns the service and returns
//! a [`FederationHandle`] and the stream of [`Inbound`] events.
//!
//! Wiring it into a node (payloads are opaque bytes; the node gives them meaning):
//!
//! ```no_run
//! # async fn wire(config: lampfield_federation::FederationConfig) -> Result<(), lampfield_federation::FederationError> {
//! use lampfield_federation::Inbound;
//!
//! let (federation, mut inbound) = lampfield_federation::start(config).await?;
//! federation.publish("presence", b"alice: available".to_vec()).await?;
//! while let Some(event) = inbound.recv().await {
//!     match event {
//!         Inbound::Gossip { payload_type, envelope } => { /* apply envelope.payload from envelope.origin */ }
//!         Inbound::Request { from_domain, payload_type, payload, reply } => {
//!             // Answer with the view from_domain is entitled to.
//!             reply.send(b"alice: available".to_vec());
//!         }
//!         Inbound::PeerUp { domain, .. } => {
//!             // Resynchronize what we watch at `domain`.
//!             let state = federation.request(&domain, "resync", b"alice bob".to_vec()).await?;
//!         }
//!         Inbound::PeerDown { .. } => {}
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! (In a real node, do not await a request inside the event loop: spawn it, so events
//! keep flowing while the answer travels.)
//!
//! Layout:
//! - `encoding`: the length-prefixed byte layout that is signed and sent.
//! - [`envelope`]: sealing and opening signed envelopes.
//! - [`trust`]: which organization owns which key.
//! - [`freshness`]: replay and staleness rejection per origin.
//! - `accept`: acceptance rules for gossip, hellos, requests and answers.
//! - `frame`: the request/response wire frames and their bounded codec.
//! - `rate`, `strikes`: per-peer flood limits and bans.
//! - `swarm`: the libp2p transport and behaviours.
//! - `service`: the task that owns the swarm; [`handle`]: the node's side of it.
//! - [`config`]: identity, trust, bounds and timing.
//! - `sim` (feature `sim`): many services in one process, for tests and the benchmark.

mod accept;
pub mod config;
mod encoding;
pub mod envelope;
pub mod error;
mod frame;
pub mod freshness;
pub mod handle;
mod rate;
mod service;
#[cfg(feature = "sim")]
pub mod sim;
mod strikes;
mod swarm;
pub mod trust;

pub use accept::HELLO_TYPE;
pub use config::{FederationConfig, Limits, Timing};
pub use envelope::{SignedEnvelope, Verified};
pub use error::{EnvelopeError, FederationError, PeerProofError};
pub use frame::Refusal;
pub use freshness::Freshness;
pub use handle::{FederationHandle, Inbound, PeerInfo, Reply, Stats};
pub use libp2p::{Multiaddr, PeerId, identity::Keypair};
pub use service::start;
pub use trust::TrustList;
