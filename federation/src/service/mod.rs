//! The federation service: one tokio task owning the libp2p swarm.
//!
//! The task multiplexes swarm events, commands from [`FederationHandle`]s, answers the
//! node gives to inbound requests, delivery of queued events to the node, and a
//! maintenance tick (unbanning, hello deadline, bootstrap redial). Nothing else touches
//! the swarm, so no state is shared across tasks.
//!
//! - `gossip`: validation of gossip before it is forwarded.
//! - `rpc`: hellos, requests and answers over `/lampfield/federation/1`.
//! - `peers`: connections, bans and bootstrap redialing.

mod gossip;
mod peers;
mod rpc;

use std::collections::{HashMap, HashSet, VecDeque};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm, gossipsub, ping, request_response};
use tokio::sync::{mpsc, oneshot};

use crate::accept::HELLO_TYPE;
use crate::config::{FederationConfig, Limits, Timing};
use crate::envelope::{SignedEnvelope, Verified};
use crate::error::FederationError;
use crate::frame::Frame;
use crate::freshness::Freshness;
use crate::handle::{Command, FederationHandle, Inbound, PeerInfo, Stats};
use crate::rate::RateLimiter;
use crate::strikes::Strikes;
use crate::swarm::{ByteCounters, FedBehaviour, FedBehaviourEvent};
use crate::trust::TrustList;

/// Commands queued from handles before senders wait.
const COMMAND_CAPACITY: usize = 256;
/// How long `start` waits for its listeners to report their addresses.
const LISTEN_WAIT: Duration = Duration::from_secs(5);

/// The topic name of a payload type.
pub(crate) fn topic_of(payload_type: &str) -> gossipsub::IdentTopic {
    gossipsub::IdentTopic::new(format!("lampfield/1/{payload_type}"))
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Sequence numbers that keep increasing across restarts: the next number is the
/// current time in microseconds, or the previous number plus one if that is larger.
#[derive(Debug, Default)]
pub(crate) struct SeqCounter {
    last: u64,
}

impl SeqCounter {
    pub(crate) fn next(&mut self, now_us: u64) -> u64 {
        self.last = now_us.max(self.last.saturating_add(1));
        self.last
    }
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// An answer the node owes to an inbound request.
type PendingAnswer = Pin<Box<dyn Future<Output = (u64, Option<Vec<u8>>)> + Send>>;

/// An outbound request waiting for its answer.
struct Outbound {
    domain: String,
    payload_type: String,
    done: oneshot::Sender<Result<Verified, FederationError>>,
}

pub(crate) struct Service {
    swarm: Swarm<FedBehaviour>,
    domain: String,
    org_key: ed25519_dalek::SigningKey,
    trust: TrustList,
    limits: Limits,
    timing: Timing,
    request_types: Vec<String>,
    /// Topic hash -> payload type, for the topics we subscribed to.
    topics: HashMap<gossipsub::TopicHash, String>,
    freshness: Freshness,
    seq: SeqCounter,
    rate: RateLimiter<PeerId>,
    strikes: Strikes<PeerId>,
    bans: HashMap<PeerId, Instant>,
    /// Peers that proved their organization, and when each peer connected.
    bound: HashMap<PeerId, String>,
    connected_at: HashMap<PeerId, Instant>,
    hellos_out: HashSet<request_response::OutboundRequestId>,
    outbound: HashMap<request_response::OutboundRequestId, Outbound>,
    answers: FuturesUnordered<PendingAnswer>,
    answer_slots: HashMap<u64, (request_response::ResponseChannel<Frame>, String)>,
    next_answer: u64,
    bootstrap: Vec<peers::Bootstrap>,
    next_redial: Instant,
    events: VecDeque<Inbound>,
    inbound: mpsc::Sender<Inbound>,
    node_gone: bool,
    stats: Stats,
    counters: Arc<ByteCounters>,
}

/// Start a federation service: build the swarm, listen, subscribe, dial the bootstrap
/// addresses, and spawn the task. Returns the handle and the node's event stream.
pub async fn start(
    config: FederationConfig,
) -> Result<(FederationHandle, mpsc::Receiver<Inbound>), FederationError> {
    let topics: HashMap<gossipsub::TopicHash, String> = config
        .gossip_types
        .iter()
        .map(|t| (topic_of(t).hash(), t.clone()))
        .collect();
    let counters = Arc::new(ByteCounters::default());
    let hashes: Vec<_> = topics.keys().cloned().collect();
    let mut swarm = crate::swarm::build(&config, &hashes, counters.clone())?;
    for t in &config.gossip_types {
        if t == HELLO_TYPE {
            return Err(FederationError::Reserved(t.clone()));
        }
        swarm
            .behaviour_mut()
            .gossipsub
            .subscribe(&topic_of(t))
            .map_err(|e| FederationError::Setup(format!("subscribe {t}: {e}")))?;
    }
    for addr in &config.listen {
        swarm
            .listen_on(addr.clone())
            .map_err(|e| FederationError::Setup(format!("listen on {addr}: {e}")))?;
    }
    wait_for_listeners(&mut swarm, config.listen.len()).await?;

    let (inbound_tx, inbound_rx) = mpsc::channel(config.limits.inbound_capacity.max(1));
    let (cmd_tx, cmd_rx) = mpsc::channel(COMMAND_CAPACITY);
    let peer_id = *swarm.local_peer_id();
    let handle = FederationHandle {
        commands: cmd_tx,
        peer_id,
        domain: config.domain.to_ascii_lowercase(),
    };
    let limits = config.limits.clone();
    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let mut service = Service {
        swarm,
        domain: config.domain.to_ascii_lowercase(),
        org_key: config.org_key,
        trust: config.trust,
        freshness: Freshness::new(ms(limits.max_age), ms(limits.max_future)),
        rate: RateLimiter::new(limits.rate_per_peer, limits.burst_per_peer),
        strikes: Strikes::new(limits.strikes_to_ban, limits.strike_window),
        limits,
        timing: config.timing,
        request_types: config.request_types,
        topics,
        seq: SeqCounter::default(),
        bans: HashMap::new(),
        bound: HashMap::new(),
        connected_at: HashMap::new(),
        hellos_out: HashSet::new(),
        outbound: HashMap::new(),
        answers: FuturesUnordered::new(),
        answer_slots: HashMap::new(),
        next_answer: 0,
        bootstrap: config
            .bootstrap
            .into_iter()
            .map(peers::Bootstrap::new)
            .collect(),
        next_redial: Instant::now(),
        events: VecDeque::new(),
        inbound: inbound_tx,
        node_gone: false,
        stats: Stats::default(),
        counters,
    };
    service.redial(Instant::now());
    let span = tracing::info_span!("federation", domain = %service.domain, peer = %peer_id);
    tokio::spawn(tracing::Instrument::instrument(
        async move {
            let ack = service.run(cmd_rx).await;
            drop(service);
            if let Some(ack) = ack {
                let _ = ack.send(());
            }
        },
        span,
    ));
    Ok((handle, inbound_rx))
}

async fn wait_for_listeners(
    swarm: &mut Swarm<FedBehaviour>,
    wanted: usize,
) -> Result<(), FederationError> {
    let deadline = tokio::time::Instant::now() + LISTEN_WAIT;
    let mut seen = 0;
    while seen < wanted {
        let event = tokio::time::timeout_at(deadline, swarm.select_next_some())
            .await
            .map_err(|_| FederationError::Setup("listeners did not come up".into()))?;
        match event {
            SwarmEvent::NewListenAddr { .. } => seen += 1,
            SwarmEvent::ListenerError { error, .. }
            | SwarmEvent::ListenerClosed {
                reason: Err(error), ..
            } => {
                return Err(FederationError::Setup(format!("listener: {error}")));
            }
            _ => {}
        }
    }
    Ok(())
}

impl Service {
    /// The main loop; returns the shutdown acknowledgement to send once the swarm is gone.
    async fn run(&mut self, mut commands: mpsc::Receiver<Command>) -> Option<oneshot::Sender<()>> {
        let tick_every = self
            .timing
            .redial_interval
            .min(self.timing.hello_timeout / 2)
            .min(Duration::from_secs(1));
        let mut tick = tokio::time::interval(tick_every.max(Duration::from_millis(20)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let inbound = self.inbound.clone();
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                command = commands.recv() => match command {
                    None => return None,
                    Some(Command::Shutdown(ack)) => return Some(ack),
                    Some(command) => self.on_command(command),
                },
                Some((slot, answer)) = self.answers.next(), if !self.answers.is_empty() => self.answer(slot, answer),
                permit = inbound.reserve(), if !self.events.is_empty() && !self.node_gone => match permit {
                    Ok(permit) => if let Some(ev) = self.events.pop_front() { permit.send(ev) },
                    Err(_) => { self.node_gone = true; self.events.clear(); }
                },
                _ = tick.tick() => self.maintain(Instant::now()),
            }
        }
    }

    /// Queue a control event for the node (peer up/down). The queue is bounded by the
    /// inbound capacity; beyond it, events are counted as dropped.
    fn emit(&mut self, event: Inbound) {
        if self.node_gone {
            return;
        }
        if self.events.len() >= self.limits.inbound_capacity.max(1) {
            self.stats.inbound_dropped += 1;
            tracing::warn!("inbound queue full, event dropped");
            return;
        }
        self.events.push_back(event);
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<FedBehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(FedBehaviourEvent::Gossipsub(e)) => self.on_gossip(e),
            SwarmEvent::Behaviour(FedBehaviourEvent::Rpc(e)) => self.on_rpc(e),
            SwarmEvent::Behaviour(FedBehaviourEvent::Ping(ping::Event {
                peer,
                connection,
                result: Err(error),
            })) => {
                // A connection that stops answering pings is dead even if TCP has not
                // noticed; closing it lets the peer-down/redial/resync path run.
                tracing::info!(%peer, %error, "ping failed; closing the connection");
                self.swarm.close_connection(connection);
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                num_established,
                ..
            } => {
                self.on_connected(peer_id, connection_id, num_established.get());
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established,
                ..
            } => {
                self.on_disconnected(peer_id, num_established);
            }
            SwarmEvent::OutgoingConnectionError {
                connection_id,
                peer_id,
                error,
            } => {
                tracing::debug!(?peer_id, %error, "dial failed");
                self.on_dial_failed(connection_id);
            }
            SwarmEvent::NewListenAddr { address, .. } => tracing::info!(%address, "listening"),
            _ => {}
        }
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Publish {
                payload_type,
                payload,
                done,
            } => {
                let _ = done.send(self.publish(&payload_type, payload));
            }
            #[cfg(feature = "sim")]
            Command::PublishRaw {
                payload_type,
                bytes,
                done,
            } => {
                let _ = done.send(self.gossip_bytes(&payload_type, bytes).map(|()| 0));
            }
            Command::Request {
                domain,
                payload_type,
                payload,
                done,
            } => {
                self.request(domain, payload_type, payload, done);
            }
            Command::Peers(done) => {
                let peers = self
                    .swarm
                    .connected_peers()
                    .map(|p| PeerInfo {
                        peer: *p,
                        domain: self.bound.get(p).cloned(),
                    })
                    .collect();
                let _ = done.send(peers);
            }
            Command::ListenAddrs(done) => {
                let _ = done.send(self.swarm.listeners().cloned().collect::<Vec<Multiaddr>>());
            }
            Command::Stats(done) => {
                let mut stats = self.stats.clone();
                stats.bytes_read = self.counters.read.load(Ordering::Relaxed);
                stats.bytes_written = self.counters.written.load(Ordering::Relaxed);
                let _ = done.send(stats);
            }
            Command::Dial(addr, done) => {
                let _ = done.send(
                    self.swarm
                        .dial(addr)
                        .map_err(|e| FederationError::Transport(e.to_string())),
                );
            }
            Command::Block(peer, block, done) => {
                if block {
                    self.swarm.behaviour_mut().blocked.block_peer(peer);
                } else {
                    self.bans.remove(&peer);
                    self.swarm.behaviour_mut().blocked.unblock_peer(peer);
                }
                let _ = done.send(());
            }
            Command::Shutdown(_) => {}
        }
    }

    /// Seal a statement of this organization.
    fn seal(
        &mut self,
        payload_type: &str,
        payload: Vec<u8>,
    ) -> Result<SignedEnvelope, FederationError> {
        if payload_type == HELLO_TYPE {
            return Err(FederationError::Reserved(payload_type.to_owned()));
        }
        let seq = self.seq.next(now_us());
        let env = SignedEnvelope::seal(
            &self.org_key,
            &self.domain,
            payload_type,
            seq,
            now_ms(),
            payload,
        )?;
        Ok(env)
    }

    fn publish(&mut self, payload_type: &str, payload: Vec<u8>) -> Result<u64, FederationError> {
        let env = self.seal(payload_type, payload)?;
        let seq = env.seq();
        self.gossip_bytes(payload_type, env.to_bytes())?;
        self.stats.published += 1;
        Ok(seq)
    }

    fn gossip_bytes(&mut self, payload_type: &str, bytes: Vec<u8>) -> Result<(), FederationError> {
        if bytes.len() > self.limits.max_envelope_bytes {
            return Err(FederationError::TooLarge(bytes.len()));
        }
        match self
            .swarm
            .behaviour_mut()
            .gossipsub
            .publish(topic_of(payload_type), bytes)
        {
            Ok(_) => Ok(()),
            Err(gossipsub::PublishError::NoPeersSubscribedToTopic) => {
                Err(FederationError::NoPeers(payload_type.to_owned()))
            }
            Err(e) => Err(FederationError::Publish(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_follow_the_clock_and_never_repeat() {
        let mut s = SeqCounter::default();
        assert_eq!(s.next(1_000), 1_000);
        assert_eq!(s.next(1_000), 1_001);
        assert_eq!(s.next(900), 1_002);
        // After a restart the clock has moved on, so numbers stay above the old ones.
        let mut restarted = SeqCounter::default();
        assert_eq!(restarted.next(5_000), 5_000);
    }
}
