//! Building the libp2p swarm: TCP (byte-counted) + noise + yamux, and the behaviours
//! the service drives: gossipsub with validation and peer scoring, the request/response
//! protocol of [`crate::frame`], ping, a block list and connection limits.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{AsyncRead, AsyncWrite};
use libp2p::core::Transport;
use libp2p::core::upgrade::Version;
use libp2p::swarm::NetworkBehaviour;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::{
    Swarm, SwarmBuilder, allow_block_list, connection_limits, gossipsub, noise, ping,
    request_response, tcp, yamux,
};
use sha2::{Digest, Sha256};

use crate::config::FederationConfig;
use crate::error::FederationError;
use crate::frame::{FrameCodec, PROTOCOL};

/// Room for gossipsub's own framing (topic, peer id, libp2p signature) around an envelope.
const GOSSIP_OVERHEAD: usize = 1024;

/// The behaviours of one federation node.
#[derive(NetworkBehaviour)]
pub(crate) struct FedBehaviour {
    pub(crate) allowed: Toggle<allow_block_list::Behaviour<allow_block_list::AllowedPeers>>,
    pub(crate) blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    pub(crate) limits: connection_limits::Behaviour,
    pub(crate) gossipsub: gossipsub::Behaviour,
    pub(crate) rpc: request_response::Behaviour<FrameCodec>,
    pub(crate) ping: ping::Behaviour,
}

/// Bytes read and written on this node's TCP connections (all protocols, encrypted),
/// for the benchmark's bytes-per-change figure.
#[derive(Debug, Default)]
pub(crate) struct ByteCounters {
    pub(crate) read: AtomicU64,
    pub(crate) written: AtomicU64,
}

/// A TCP stream that counts the bytes through it.
struct Counted<S> {
    inner: S,
    counters: Arc<ByteCounters>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(n)) = &polled {
            self.counters.read.fetch_add(*n as u64, Ordering::Relaxed);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &polled {
            self.counters
                .written
                .fetch_add(*n as u64, Ordering::Relaxed);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

/// Messages are named by a hash of their bytes: the same envelope arriving from several
/// peers is one message, and a byte-identical replay within the duplicate cache time is
/// dropped before it costs a signature check.
fn content_id(message: &gossipsub::Message) -> gossipsub::MessageId {
    gossipsub::MessageId::new(&Sha256::digest(&message.data))
}

fn gossip_config(cfg: &FederationConfig) -> Result<gossipsub::Config, FederationError> {
    let (n, lo, hi) = cfg.timing.mesh;
    gossipsub::ConfigBuilder::default()
        .heartbeat_interval(cfg.timing.heartbeat)
        .heartbeat_initial_delay(cfg.timing.heartbeat_initial_delay)
        .mesh_n(n)
        .mesh_n_low(lo)
        .mesh_n_high(hi)
        .mesh_outbound_min(2.min(lo).min(n / 2))
        .max_transmit_size(cfg.limits.max_envelope_bytes + GOSSIP_OVERHEAD)
        .validation_mode(gossipsub::ValidationMode::Anonymous)
        .message_id_fn(content_id)
        .validate_messages()
        .build()
        .map_err(|e| FederationError::Setup(format!("gossipsub config: {e}")))
}

/// Peer scoring: rejected messages (P4) weigh heavily; mesh delivery quotas (P3) are
/// off because presence topics are quiet for long stretches and silence is not a fault;
/// IP colocation is off because organizations may share a hosting provider (and the
/// simulation runs every node on loopback).
fn score_params(
    topics: &[gossipsub::TopicHash],
) -> (gossipsub::PeerScoreParams, gossipsub::PeerScoreThresholds) {
    let topic = gossipsub::TopicScoreParams {
        topic_weight: 1.0,
        time_in_mesh_weight: 0.01,
        time_in_mesh_quantum: Duration::from_secs(1),
        time_in_mesh_cap: 100.0,
        first_message_deliveries_weight: 1.0,
        first_message_deliveries_decay: 0.5,
        first_message_deliveries_cap: 50.0,
        mesh_message_deliveries_weight: 0.0,
        mesh_failure_penalty_weight: 0.0,
        invalid_message_deliveries_weight: -20.0,
        invalid_message_deliveries_decay: 0.5,
        ..Default::default()
    };
    let params = gossipsub::PeerScoreParams {
        topics: topics.iter().map(|t| (t.clone(), topic.clone())).collect(),
        ip_colocation_factor_weight: 0.0,
        ..Default::default()
    };
    (params, gossipsub::PeerScoreThresholds::default())
}

/// Build the swarm with the configured identity and bounds.
pub(crate) fn build(
    cfg: &FederationConfig,
    topics: &[gossipsub::TopicHash],
    counters: Arc<ByteCounters>,
) -> Result<Swarm<FedBehaviour>, FederationError> {
    let setup = |e: &dyn std::fmt::Display| FederationError::Setup(e.to_string());
    // Anonymous at the gossipsub layer: every message is an envelope signed by its
    // organization, which is what receivers check; a second, per-message signature by
    // the publishing peer would prove nothing we use and costs a signature check per copy.
    let mut gossip = gossipsub::Behaviour::new(
        gossipsub::MessageAuthenticity::Anonymous,
        gossip_config(cfg)?,
    )
    .map_err(|e| setup(&e))?;
    let (params, thresholds) = score_params(topics);
    gossip
        .with_peer_score(params, thresholds)
        .map_err(|e| setup(&e))?;

    let rpc = request_response::Behaviour::with_codec(
        FrameCodec {
            max_frame: cfg.limits.max_envelope_bytes + 1,
        },
        [(PROTOCOL, request_response::ProtocolSupport::Full)],
        request_response::Config::default()
            .with_request_timeout(cfg.limits.request_timeout)
            .with_max_concurrent_streams(cfg.limits.max_inflight.max(1)),
    );
    let limits = connection_limits::ConnectionLimits::default()
        .with_max_established(Some(cfg.limits.max_connections))
        .with_max_established_per_peer(Some(2))
        .with_max_pending_incoming(Some(64));
    let allowed = cfg.allowed_peers.as_ref().map(|peers| {
        let mut list = allow_block_list::Behaviour::<allow_block_list::AllowedPeers>::default();
        for peer in peers {
            list.allow_peer(*peer);
        }
        list
    });
    let behaviour = FedBehaviour {
        allowed: Toggle::from(allowed),
        blocked: allow_block_list::Behaviour::default(),
        limits: connection_limits::Behaviour::new(limits),
        gossipsub: gossip,
        rpc,
        ping: ping::Behaviour::default(),
    };

    let swarm = SwarmBuilder::with_existing_identity(cfg.peer_key.clone())
        .with_tokio()
        .with_other_transport(
            |key| -> Result<_, Box<dyn std::error::Error + Send + Sync>> {
                let counters = counters.clone();
                Ok(
                    tcp::tokio::Transport::new(tcp::Config::default().nodelay(true))
                        .map(move |stream, _| Counted {
                            inner: stream,
                            counters,
                        })
                        .upgrade(Version::V1)
                        .authenticate(noise::Config::new(key)?)
                        .multiplex(yamux::Config::default())
                        .timeout(Duration::from_secs(10))
                        .boxed(),
                )
            },
        )
        .map_err(|e| setup(&e))?
        .with_behaviour(|_| behaviour)
        .map_err(|e| setup(&e))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(cfg.timing.idle_timeout))
        .build();
    Ok(swarm)
}
