//! Many federation services in one process, on loopback TCP: the harness behind the
//! federation tests and the propagation benchmark (feature `sim`).
//!
//! One node per organization. The harness wires organizations by a [`Topology`] of
//! bootstrap addresses, and can partition and heal them (block lists on both sides,
//! then bootstrap redialing), crash and restart a node with the same keys and port,
//! and add extra nodes with any configuration (bad actors). Every wait is bounded.

use std::time::Duration;

use ed25519_dalek::SigningKey;
use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout_at};

use crate::config::{FederationConfig, Limits, Timing};
use crate::error::FederationError;
use crate::handle::{FederationHandle, Inbound};
use crate::trust::TrustList;

/// The gossip payload type the harness subscribes every node to.
pub const GOSSIP: &str = "presence";
/// The request payload types every node serves.
pub const REQUESTS: [&str; 2] = ["resync", "probe"];

/// An organization's identity: domain, organization key, transport key.
#[derive(Clone)]
pub struct Org {
    /// `org<i>.example`.
    pub domain: String,
    /// Signs envelopes.
    pub org_key: SigningKey,
    /// The libp2p identity.
    pub peer_key: Keypair,
}

impl Org {
    /// Deterministic keys for organization `i`, so restarts reuse them.
    pub fn new(i: usize) -> Self {
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&(i as u64).to_be_bytes());
        seed[8] = 0x0f;
        let org_key = SigningKey::from_bytes(&seed);
        seed[8] = 0x70;
        let peer_key =
            Keypair::ed25519_from_bytes(seed).unwrap_or_else(|_| Keypair::generate_ed25519());
        Self {
            domain: format!("org{i}.example"),
            org_key,
            peer_key,
        }
    }

    /// The transport identity.
    pub fn peer_id(&self) -> PeerId {
        self.peer_key.public().to_peer_id()
    }
}

/// Which organizations dial which at start.
#[derive(Debug, Clone, Copy)]
pub enum Topology {
    /// Everyone knows everyone.
    Full,
    /// Each node dials the `degree` nodes before it and one pseudo-random earlier node:
    /// connected, with about `2 * degree + 2` links per node.
    Sparse {
        /// Links to preceding nodes.
        degree: usize,
    },
}

impl Topology {
    fn targets(self, i: usize) -> Vec<usize> {
        match self {
            Self::Full => (0..i).collect(),
            Self::Sparse { degree } => {
                let mut t: Vec<usize> = (i.saturating_sub(degree)..i).collect();
                if i > degree {
                    let chord = (i * 7 + 3) % (i - degree);
                    t.push(chord);
                }
                t
            }
        }
    }
}

/// A running node of the simulation.
pub struct Node {
    /// Its service.
    pub handle: FederationHandle,
    /// Its events; take them (`Option::take`) to drain them elsewhere.
    pub events: Option<mpsc::Receiver<Inbound>>,
}

/// A simulated federation.
pub struct Net {
    /// Identities, by node index.
    pub orgs: Vec<Org>,
    /// Listen addresses, by node index (kept across restarts).
    pub addrs: Vec<Multiaddr>,
    /// Running nodes; `None` while crashed.
    pub nodes: Vec<Option<Node>>,
    trust: TrustList,
    timing: Timing,
    limits: Limits,
    bootstrap: Vec<Vec<usize>>,
}

/// The trust list of organizations `orgs`.
pub fn trust_of(orgs: &[Org]) -> TrustList {
    let mut t = TrustList::default();
    for o in orgs {
        t.insert(&o.domain, o.org_key.verifying_key());
    }
    t
}

fn loopback() -> Multiaddr {
    "/ip4/127.0.0.1/tcp/0"
        .parse()
        .unwrap_or_else(|_| Multiaddr::empty())
}

impl Net {
    /// Start `n` organizations wired by `topology`, with fast timing.
    pub async fn start(n: usize, topology: Topology) -> Result<Self, FederationError> {
        Self::start_with(n, topology, Timing::fast(), Limits::default()).await
    }

    /// Start `n` organizations with the given timing and limits.
    pub async fn start_with(
        n: usize,
        topology: Topology,
        timing: Timing,
        limits: Limits,
    ) -> Result<Self, FederationError> {
        let orgs: Vec<Org> = (0..n).map(Org::new).collect();
        let mut net = Self {
            trust: trust_of(&orgs),
            orgs,
            addrs: Vec::new(),
            nodes: Vec::new(),
            timing,
            limits,
            bootstrap: (0..n).map(|i| topology.targets(i)).collect(),
        };
        for i in 0..n {
            let (node, addr) = net.launch(i, loopback()).await?;
            net.addrs.push(addr);
            net.nodes.push(Some(node));
        }
        Ok(net)
    }

    /// The configuration node `i` runs with (listening on `listen`).
    pub fn config(&self, i: usize, listen: Multiaddr) -> FederationConfig {
        let org = &self.orgs[i];
        FederationConfig {
            domain: org.domain.clone(),
            org_key: org.org_key.clone(),
            peer_key: org.peer_key.clone(),
            listen: vec![listen],
            bootstrap: self.bootstrap[i]
                .iter()
                .filter_map(|&j| {
                    Some(
                        self.addrs
                            .get(j)?
                            .clone()
                            .with(Protocol::P2p(self.orgs[j].peer_id())),
                    )
                })
                .collect(),
            trust: self.trust.clone(),
            allowed_peers: None,
            gossip_types: vec![GOSSIP.to_owned()],
            request_types: REQUESTS.iter().map(|s| (*s).to_owned()).collect(),
            limits: self.limits.clone(),
            timing: self.timing.clone(),
        }
    }

    async fn launch(
        &self,
        i: usize,
        listen: Multiaddr,
    ) -> Result<(Node, Multiaddr), FederationError> {
        let (handle, events) = crate::start(self.config(i, listen)).await?;
        let addr = handle
            .listen_addrs()
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| FederationError::Setup("no listen address".into()))?;
        Ok((
            Node {
                handle,
                events: Some(events),
            },
            addr,
        ))
    }

    /// Start an extra node with any configuration (a bad actor, say); it is not part of
    /// the trust lists of the others unless its organization already is.
    pub async fn add(&mut self, config: FederationConfig) -> Result<usize, FederationError> {
        let (handle, events) = crate::start(config).await?;
        let addr = handle
            .listen_addrs()
            .await?
            .into_iter()
            .next()
            .unwrap_or_else(Multiaddr::empty);
        self.addrs.push(addr);
        self.nodes.push(Some(Node {
            handle,
            events: Some(events),
        }));
        self.bootstrap.push(Vec::new());
        Ok(self.nodes.len() - 1)
    }

    /// The handle of running node `i`.
    pub fn handle(&self, i: usize) -> Result<&FederationHandle, FederationError> {
        self.nodes
            .get(i)
            .and_then(Option::as_ref)
            .map(|n| &n.handle)
            .ok_or(FederationError::Stopped)
    }

    /// The domain of node `i`.
    pub fn domain(&self, i: usize) -> &str {
        &self.orgs[i].domain
    }

    /// Wait until every running node has proven connections to all organizations it
    /// dials, then a few heartbeats for the gossip mesh to form.
    pub async fn wait_linked(&self, within: Duration) -> Result<(), FederationError> {
        let deadline = Instant::now() + within;
        for (i, node) in self.nodes.iter().enumerate() {
            let Some(node) = node else { continue };
            let wanted: Vec<&str> = self.bootstrap[i]
                .iter()
                .filter(|&&j| self.nodes.get(j).is_some_and(Option::is_some))
                .map(|&j| self.orgs[j].domain.as_str())
                .collect();
            loop {
                let have = node.handle.connected_domains().await?;
                if wanted.iter().all(|w| have.iter().any(|h| h == w)) {
                    break;
                }
                if Instant::now() >= deadline {
                    return Err(FederationError::Timeout);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        tokio::time::sleep(self.timing.heartbeat * 3).await;
        Ok(())
    }

    /// Cut every link between groups `a` and `b` (both sides block the other).
    pub async fn partition(&self, a: &[usize], b: &[usize]) -> Result<(), FederationError> {
        for &i in a {
            for &j in b {
                self.handle(i)?.block_peer(self.orgs[j].peer_id()).await?;
                self.handle(j)?.block_peer(self.orgs[i].peer_id()).await?;
            }
        }
        Ok(())
    }

    /// Undo [`Self::partition`]; bootstrap redialing reconnects the groups.
    pub async fn heal(&self, a: &[usize], b: &[usize]) -> Result<(), FederationError> {
        for &i in a {
            for &j in b {
                self.handle(i)?.unblock_peer(self.orgs[j].peer_id()).await?;
                self.handle(j)?.unblock_peer(self.orgs[i].peer_id()).await?;
            }
        }
        Ok(())
    }

    /// Stop node `i` abruptly (its state is gone; its keys and port are kept).
    pub async fn crash(&mut self, i: usize) -> Result<(), FederationError> {
        if let Some(node) = self.nodes.get_mut(i).and_then(Option::take) {
            node.handle.shutdown().await?;
        }
        Ok(())
    }

    /// Start node `i` again with the same keys, on the same address.
    pub async fn restart(&mut self, i: usize) -> Result<(), FederationError> {
        let (node, _) = self.launch(i, self.addrs[i].clone()).await?;
        self.nodes[i] = Some(node);
        Ok(())
    }

    /// The next event of node `i` that `pick` selects, skipping others, until `within`.
    pub async fn next_event<T>(
        &mut self,
        i: usize,
        within: Duration,
        mut pick: impl FnMut(Inbound) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + within;
        let events = self.nodes.get_mut(i)?.as_mut()?.events.as_mut()?;
        loop {
            let event = timeout_at(deadline, events.recv()).await.ok()??;
            if let Some(t) = pick(event) {
                return Some(t);
            }
        }
    }

    /// Wait until every running node except `except` has received gossip from `origin`
    /// with sequence number `seq` or newer; returns the payloads, by node index.
    pub async fn gossip_reached(
        &mut self,
        origin: &str,
        seq: u64,
        except: &[usize],
        within: Duration,
    ) -> Vec<Option<Vec<u8>>> {
        let deadline = Instant::now() + within;
        let waits = self.nodes.iter_mut().enumerate().map(|(i, node)| {
            let skip = except.contains(&i);
            async move {
                let events = node.as_mut()?.events.as_mut()?;
                if skip {
                    return None;
                }
                loop {
                    match timeout_at(deadline, events.recv()).await.ok()?? {
                        Inbound::Gossip { envelope, .. }
                            if envelope.origin == origin && envelope.seq >= seq =>
                        {
                            return Some(envelope.payload);
                        }
                        Inbound::Request { reply, .. } => drop(reply),
                        _ => {}
                    }
                }
            }
        });
        futures::future::join_all(waits).await
    }

    /// Publish from node `i`, retrying while gossipsub has no subscribed peer yet.
    pub async fn publish(
        &self,
        i: usize,
        payload: Vec<u8>,
        within: Duration,
    ) -> Result<u64, FederationError> {
        let deadline = Instant::now() + within;
        loop {
            match self.handle(i)?.publish(GOSSIP, payload.clone()).await {
                Err(FederationError::NoPeers(_)) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                other => return other,
            }
        }
    }

    /// Shut every node down.
    pub async fn stop(mut self) {
        for i in 0..self.nodes.len() {
            let _ = self.crash(i).await;
        }
    }
}
