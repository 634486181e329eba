//! Connections: the hello on each new peer, peer up/down events, bans, the hello
//! deadline, and redialing bootstrap addresses that are down (this is what heals a
//! partition or reconnects a restarted organization).

use std::time::Instant;

use libp2p::multiaddr::Protocol;
use libp2p::swarm::ConnectionId;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::{Multiaddr, PeerId};

use super::{Service, now_ms};
use crate::accept::seal_hello;
use crate::frame::Frame;
use crate::handle::Inbound;

/// A configured bootstrap address and what we know of it.
#[derive(Debug)]
pub(super) struct Bootstrap {
    addr: Multiaddr,
    /// The dial in progress, if any.
    dialing: Option<ConnectionId>,
    /// The peer reached at this address, while connected.
    peer: Option<PeerId>,
}

impl Bootstrap {
    pub(super) fn new(addr: Multiaddr) -> Self {
        Self {
            addr,
            dialing: None,
            peer: None,
        }
    }
}

impl Service {
    pub(super) fn on_connected(
        &mut self,
        peer: PeerId,
        connection: ConnectionId,
        established: u32,
    ) {
        for b in &mut self.bootstrap {
            if b.dialing == Some(connection) {
                b.dialing = None;
                b.peer = Some(peer);
            }
        }
        if established != 1 {
            return;
        }
        let _span = tracing::debug_span!("peer", %peer).entered();
        tracing::debug!("connected; sending hello");
        self.connected_at.insert(peer, Instant::now());
        let seq = self.seq.next(super::now_us());
        match seal_hello(
            &self.org_key,
            &self.domain,
            &peer_id_of(self),
            seq,
            now_ms(),
        ) {
            Ok(hello) => {
                let id = self
                    .swarm
                    .behaviour_mut()
                    .rpc
                    .send_request(&peer, Frame::Hello(hello.to_bytes()));
                self.hellos_out.insert(id);
            }
            Err(e) => tracing::error!(%e, "cannot seal hello"),
        }
    }

    pub(super) fn on_disconnected(&mut self, peer: PeerId, remaining: u32) {
        if remaining > 0 {
            return;
        }
        for b in &mut self.bootstrap {
            if b.peer == Some(peer) {
                b.peer = None;
            }
        }
        self.connected_at.remove(&peer);
        self.rate.forget(&peer);
        if let Some(domain) = self.bound.remove(&peer) {
            tracing::info!(%peer, %domain, "organization disconnected");
            self.emit(Inbound::PeerDown { domain, peer });
        }
    }

    pub(super) fn on_dial_failed(&mut self, connection: ConnectionId) {
        for b in &mut self.bootstrap {
            if b.dialing == Some(connection) {
                b.dialing = None;
            }
        }
    }

    /// A peer proved `domain` with its hello.
    pub(super) fn bind(&mut self, peer: PeerId, domain: String) {
        if self.bound.get(&peer) == Some(&domain) {
            return;
        }
        tracing::info!(%peer, %domain, "organization connected");
        self.bound.insert(peer, domain.clone());
        self.emit(Inbound::PeerUp { domain, peer });
    }

    /// Count `weight` strikes against `peer`; ban it once it has earned it.
    pub(super) fn strike(&mut self, peer: PeerId, weight: u32, now: Instant) {
        // Frames already in flight from a banned peer still arrive; it is banned once.
        if self.bans.contains_key(&peer) {
            return;
        }
        if self.strikes.strike(&peer, weight, now) {
            tracing::warn!(%peer, "peer banned");
            self.stats.bans += 1;
            self.bans.insert(peer, now + self.limits.ban_duration);
            self.swarm.behaviour_mut().blocked.block_peer(peer);
            self.strikes.forget(&peer);
        }
    }

    /// Periodic upkeep.
    pub(super) fn maintain(&mut self, now: Instant) {
        let expired: Vec<PeerId> = self
            .bans
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(p, _)| *p)
            .collect();
        for peer in expired {
            self.bans.remove(&peer);
            self.swarm.behaviour_mut().blocked.unblock_peer(peer);
            tracing::info!(%peer, "ban lifted");
        }
        self.strikes.purge(now);
        let hello_timeout = self.timing.hello_timeout;
        let silent: Vec<PeerId> = self
            .connected_at
            .iter()
            .filter(|(p, at)| {
                !self.bound.contains_key(*p) && now.saturating_duration_since(**at) > hello_timeout
            })
            .map(|(p, _)| *p)
            .collect();
        for peer in silent {
            tracing::info!(%peer, "no hello in time; disconnecting");
            self.connected_at.remove(&peer);
            let _ = self.swarm.disconnect_peer_id(peer);
        }
        if now >= self.next_redial {
            self.redial(now);
        }
    }

    /// Dial every bootstrap address that is neither connected nor being dialed.
    pub(super) fn redial(&mut self, now: Instant) {
        self.next_redial = now + self.timing.redial_interval;
        for i in 0..self.bootstrap.len() {
            let b = &self.bootstrap[i];
            // An address naming its peer (`/p2p/...`) is skipped while that peer is
            // connected by any route, e.g. because it dialed us.
            let known = b.peer.or_else(|| peer_in(&b.addr));
            if b.dialing.is_some() || known.is_some_and(|p| self.swarm.is_connected(&p)) {
                continue;
            }
            let opts = match peer_in(&b.addr) {
                Some(peer) => DialOpts::peer_id(peer)
                    .addresses(vec![b.addr.clone()])
                    .build(),
                None => DialOpts::unknown_peer_id().address(b.addr.clone()).build(),
            };
            let id = opts.connection_id();
            match self.swarm.dial(opts) {
                Ok(()) => self.bootstrap[i].dialing = Some(id),
                Err(e) => tracing::debug!(addr = %self.bootstrap[i].addr, %e, "redial failed"),
            }
        }
    }
}

/// The peer id at the end of an address (`/p2p/<id>`), if any.
fn peer_in(addr: &Multiaddr) -> Option<PeerId> {
    match addr.iter().last() {
        Some(Protocol::P2p(peer)) => Some(peer),
        _ => None,
    }
}

fn peer_id_of(service: &Service) -> PeerId {
    *service.swarm.local_peer_id()
}
