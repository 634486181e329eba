//! The node's side of the service: a cloneable handle that sends commands to the
//! swarm task, and the events the task delivers.
//!
//! Every call is a bounded channel send plus a oneshot answer, so the node never
//! touches the swarm and no lock is held across an await.

use libp2p::{Multiaddr, PeerId};
use tokio::sync::{mpsc, oneshot};

use crate::envelope::Verified;
use crate::error::FederationError;

/// Something the federation delivers to the node.
#[derive(Debug)]
pub enum Inbound {
    /// A verified, fresh gossip statement (already forwarded to the mesh).
    Gossip {
        /// Its payload type (= its topic).
        payload_type: String,
        /// Origin, sequence number, timestamp and payload.
        envelope: Verified,
    },
    /// A verified request from a connected organization; answer through `reply`.
    Request {
        /// The organization that asked, proven by its hello and by its signature.
        from_domain: String,
        /// What kind of request.
        payload_type: String,
        /// The request content.
        payload: Vec<u8>,
        /// Where the answer goes; dropping it refuses the request.
        reply: Reply,
    },
    /// A peer proved it belongs to `domain`: a good moment to resynchronize with it.
    PeerUp {
        /// The organization.
        domain: String,
        /// Its transport peer id.
        peer: PeerId,
    },
    /// The last connection to a peer of `domain` closed.
    PeerDown {
        /// The organization.
        domain: String,
        /// Its transport peer id.
        peer: PeerId,
    },
}

/// The answer slot of an inbound request. The answer is sealed by the service with
/// the organization key before it leaves.
#[derive(Debug)]
pub struct Reply(pub(crate) oneshot::Sender<Vec<u8>>);

impl Reply {
    /// Answer with `payload` (same payload type as the request).
    pub fn send(self, payload: Vec<u8>) {
        // The service may have given up (answer timeout); nothing to do then.
        let _ = self.0.send(payload);
    }
}

/// A connected peer as the service sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// Transport identity.
    pub peer: PeerId,
    /// Organization, once its hello was verified.
    pub domain: Option<String>,
}

/// Counters for tests, monitoring and the benchmark.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Envelopes this node published.
    pub published: u64,
    /// Gossip delivered to the node.
    pub gossip_accepted: u64,
    /// Gossip dropped without blame (overtaken, inbound queue full).
    pub gossip_ignored: u64,
    /// Gossip rejected (peer penalized).
    pub gossip_rejected: u64,
    /// Messages and requests refused because a peer exceeded its rate.
    pub rate_limited: u64,
    /// Hellos that failed verification.
    pub hellos_rejected: u64,
    /// Inbound requests delivered to the node.
    pub requests_in: u64,
    /// Inbound requests refused (unbound peer, bad envelope, unsupported, busy).
    pub requests_refused: u64,
    /// Peers banned.
    pub bans: u64,
    /// Events lost because the node's inbound channel was full.
    pub inbound_dropped: u64,
    /// TCP bytes read, all protocols, encrypted.
    pub bytes_read: u64,
    /// TCP bytes written, all protocols, encrypted.
    pub bytes_written: u64,
}

pub(crate) enum Command {
    Publish {
        payload_type: String,
        payload: Vec<u8>,
        done: oneshot::Sender<Result<u64, FederationError>>,
    },
    #[cfg(feature = "sim")]
    PublishRaw {
        payload_type: String,
        bytes: Vec<u8>,
        done: oneshot::Sender<Result<u64, FederationError>>,
    },
    Request {
        domain: String,
        payload_type: String,
        payload: Vec<u8>,
        done: oneshot::Sender<Result<Verified, FederationError>>,
    },
    Peers(oneshot::Sender<Vec<PeerInfo>>),
    ListenAddrs(oneshot::Sender<Vec<Multiaddr>>),
    Stats(oneshot::Sender<Stats>),
    Dial(Multiaddr, oneshot::Sender<Result<(), FederationError>>),
    Block(PeerId, bool, oneshot::Sender<()>),
    Shutdown(oneshot::Sender<()>),
}

/// The node's handle on a running federation service. Cheap to clone.
#[derive(Clone, Debug)]
pub struct FederationHandle {
    pub(crate) commands: mpsc::Sender<Command>,
    pub(crate) peer_id: PeerId,
    pub(crate) domain: String,
}

impl FederationHandle {
    async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, FederationError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(make(tx))
            .await
            .map_err(|_| FederationError::Stopped)?;
        rx.await.map_err(|_| FederationError::Stopped)
    }

    /// Seal `payload` as a statement of this organization and gossip it on the topic
    /// of `payload_type`. Returns the envelope's sequence number.
    pub async fn publish(
        &self,
        payload_type: &str,
        payload: Vec<u8>,
    ) -> Result<u64, FederationError> {
        let payload_type = payload_type.to_owned();
        self.call(|done| Command::Publish {
            payload_type,
            payload,
            done,
        })
        .await?
    }

    /// Gossip bytes exactly as given, unsealed: for simulating misbehaving nodes.
    #[cfg(feature = "sim")]
    pub async fn publish_raw(
        &self,
        payload_type: &str,
        bytes: Vec<u8>,
    ) -> Result<u64, FederationError> {
        let payload_type = payload_type.to_owned();
        self.call(|done| Command::PublishRaw {
            payload_type,
            bytes,
            done,
        })
        .await?
    }

    /// Ask organization `domain` (through a connected peer that proved it) and wait
    /// for its signed answer.
    pub async fn request(
        &self,
        domain: &str,
        payload_type: &str,
        payload: Vec<u8>,
    ) -> Result<Verified, FederationError> {
        let (domain, payload_type) = (domain.to_ascii_lowercase(), payload_type.to_owned());
        self.call(|done| Command::Request {
            domain,
            payload_type,
            payload,
            done,
        })
        .await?
    }

    /// Connected peers and the organizations they proved.
    pub async fn peers(&self) -> Result<Vec<PeerInfo>, FederationError> {
        self.call(Command::Peers).await
    }

    /// Domains of the connected, proven organizations.
    pub async fn connected_domains(&self) -> Result<Vec<String>, FederationError> {
        let mut d: Vec<String> = self
            .peers()
            .await?
            .into_iter()
            .filter_map(|p| p.domain)
            .collect();
        d.sort();
        d.dedup();
        Ok(d)
    }

    /// The addresses this node listens on (ports resolved).
    pub async fn listen_addrs(&self) -> Result<Vec<Multiaddr>, FederationError> {
        self.call(Command::ListenAddrs).await
    }

    /// Counters.
    pub async fn stats(&self) -> Result<Stats, FederationError> {
        self.call(Command::Stats).await
    }

    /// Dial an address (in addition to the configured bootstrap addresses).
    pub async fn dial(&self, addr: Multiaddr) -> Result<(), FederationError> {
        self.call(|done| Command::Dial(addr, done)).await?
    }

    /// Close every connection to `peer` and refuse new ones until unblocked.
    pub async fn block_peer(&self, peer: PeerId) -> Result<(), FederationError> {
        self.call(|done| Command::Block(peer, true, done)).await
    }

    /// Allow `peer` again (lifts a ban too); bootstrap redialing reconnects it.
    pub async fn unblock_peer(&self, peer: PeerId) -> Result<(), FederationError> {
        self.call(|done| Command::Block(peer, false, done)).await
    }

    /// This node's transport identity.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// This node's organization.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// Stop the service; returns once its connections and listeners are closed.
    pub async fn shutdown(&self) -> Result<(), FederationError> {
        self.call(Command::Shutdown).await
    }
}
