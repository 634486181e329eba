//! What a federation service is told at start: who it is, whom it trusts, where to
//! listen and dial, and the bounds it enforces on everything a peer can make it do.

use std::time::Duration;

use ed25519_dalek::SigningKey;
use libp2p::{Multiaddr, PeerId, identity::Keypair};

use crate::trust::TrustList;

/// Everything [`crate::start`] needs.
#[derive(Clone)]
pub struct FederationConfig {
    /// This organization's domain; it signs every envelope as this origin.
    pub domain: String,
    /// The organization key (ed25519): the identity peers trust.
    pub org_key: SigningKey,
    /// The libp2p transport key, separate from the organization key so that it can be
    /// rotated or kept on another machine without touching the trust lists of peers.
    pub peer_key: Keypair,
    /// Addresses to listen on, e.g. `/ip4/127.0.0.1/tcp/0`.
    pub listen: Vec<Multiaddr>,
    /// Addresses of other organizations' nodes, dialed at start and redialed while down.
    pub bootstrap: Vec<Multiaddr>,
    /// Organizations whose statements are believed, with their keys.
    pub trust: TrustList,
    /// If set, only these transport peers may connect at all (the peer ids in the
    /// `/p2p/...` part of the addresses organizations exchange); others are refused
    /// before any protocol runs. If `None`, anyone may connect but must prove a trusted
    /// organization with its hello within `hello_timeout`.
    pub allowed_peers: Option<Vec<PeerId>>,
    /// Payload types gossiped (one topic each) that this node subscribes to.
    pub gossip_types: Vec<String>,
    /// Payload types this node answers requests for; others are refused.
    pub request_types: Vec<String>,
    /// Bounds on sizes, rates and waits.
    pub limits: Limits,
    /// Gossip and maintenance timing.
    pub timing: Timing,
}

impl std::fmt::Debug for FederationConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The keys stay out of logs.
        f.debug_struct("FederationConfig")
            .field("domain", &self.domain)
            .field("peer_id", &self.peer_key.public().to_peer_id())
            .field("listen", &self.listen)
            .field("bootstrap", &self.bootstrap)
            .field("allowed_peers", &self.allowed_peers)
            .field("gossip_types", &self.gossip_types)
            .field("request_types", &self.request_types)
            .field("limits", &self.limits)
            .field("timing", &self.timing)
            .finish_non_exhaustive()
    }
}

/// Bounds on what peers (and the local node) can make the service hold or do.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest encoded envelope accepted or sent (gossip message, request or answer).
    pub max_envelope_bytes: usize,
    /// How long an outbound request waits for its answer.
    pub request_timeout: Duration,
    /// How long the local node may take to answer an inbound request.
    pub answer_timeout: Duration,
    /// Requests in flight at once, in each direction.
    pub max_inflight: usize,
    /// Sustained gossip messages plus requests accepted per second from one peer. A
    /// peer forwards every organization's gossip, so this bounds the whole federation's
    /// message rate as seen through one neighbour: nodes should batch many changes into
    /// one envelope rather than publish one envelope per change under load.
    pub rate_per_peer: u32,
    /// Burst allowance on top of the sustained rate.
    pub burst_per_peer: u32,
    /// Rejected messages from one peer, within `strike_window`, that get it banned.
    pub strikes_to_ban: u32,
    /// Window over which strikes count.
    pub strike_window: Duration,
    /// How long a banned peer stays blocked.
    pub ban_duration: Duration,
    /// Capacity of the inbound event channel to the node.
    pub inbound_capacity: usize,
    /// Established connections in total.
    pub max_connections: u32,
    /// Oldest envelope timestamp accepted, relative to the local clock.
    pub max_age: Duration,
    /// Furthest-ahead envelope timestamp accepted (clock skew between organizations).
    pub max_future: Duration,
    /// An out-of-order envelope this much older than the newest one accepted from its
    /// origin counts as a replay (rejected, peer penalized); a younger one is taken for
    /// honest reordering across mesh paths (dropped silently).
    pub reorder_slack: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_envelope_bytes: 16 * 1024,
            request_timeout: Duration::from_secs(10),
            answer_timeout: Duration::from_secs(5),
            max_inflight: 64,
            rate_per_peer: 1000,
            burst_per_peer: 2000,
            strikes_to_ban: 20,
            strike_window: Duration::from_secs(60),
            ban_duration: Duration::from_secs(300),
            inbound_capacity: 1024,
            max_connections: 256,
            max_age: Duration::from_secs(300),
            max_future: Duration::from_secs(30),
            reorder_slack: Duration::from_secs(2),
        }
    }
}

/// Timing of gossip and of the service's own maintenance.
#[derive(Debug, Clone)]
pub struct Timing {
    /// Gossipsub heartbeat (mesh repair, IHAVE/IWANT); propagation itself is eager push.
    pub heartbeat: Duration,
    /// Delay before the first heartbeat.
    pub heartbeat_initial_delay: Duration,
    /// Gossipsub mesh degree (target, low, high).
    pub mesh: (usize, usize, usize),
    /// How often bootstrap addresses that are down are redialed.
    pub redial_interval: Duration,
    /// A connected peer that has not proven its organization by then is dropped.
    pub hello_timeout: Duration,
    /// Connections with no traffic are closed after this long.
    pub idle_timeout: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_millis(700),
            heartbeat_initial_delay: Duration::from_millis(500),
            mesh: (6, 4, 12),
            redial_interval: Duration::from_secs(10),
            hello_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(3600),
        }
    }
}

impl Timing {
    /// Fast timing for tests and simulations on loopback.
    pub fn fast() -> Self {
        Self {
            heartbeat: Duration::from_millis(100),
            heartbeat_initial_delay: Duration::from_millis(100),
            mesh: (4, 2, 8),
            redial_interval: Duration::from_millis(300),
            hello_timeout: Duration::from_secs(3),
            idle_timeout: Duration::from_secs(3600),
        }
    }
}
