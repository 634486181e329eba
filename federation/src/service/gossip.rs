//! Gossip validation before forwarding (spec: docs/PROTOCOL.md, "Acceptance").
//!
//! Gossipsub holds every received message until we report on it: `Accept` forwards
//! it, `Ignore` drops it quietly, `Reject` drops it and lowers the forwarding peer's
//! score. The check is synchronous (parse, one signature check, a map lookup), well
//! within the memcache lifetime.

use std::time::Instant;

use libp2p::gossipsub::{self, MessageAcceptance};
use libp2p::{PeerId, gossipsub::MessageId};

use super::{Service, now_ms};
use crate::accept::{Verdict, judge_gossip};
use crate::handle::Inbound;

impl Service {
    pub(super) fn on_gossip(&mut self, event: gossipsub::Event) {
        match event {
            gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            } => {
                let _span = tracing::debug_span!("peer", peer = %propagation_source).entered();
                let acceptance = self.validate(propagation_source, message);
                self.swarm
                    .behaviour_mut()
                    .gossipsub
                    .report_message_validation_result(&message_id, &propagation_source, acceptance);
                log_acceptance(&message_id, acceptance);
            }
            gossipsub::Event::Subscribed { peer_id, topic } => {
                tracing::debug!(%peer_id, %topic, "subscribed")
            }
            gossipsub::Event::SlowPeer { peer_id, .. } => tracing::debug!(%peer_id, "slow peer"),
            _ => {}
        }
    }

    fn validate(&mut self, source: PeerId, message: gossipsub::Message) -> MessageAcceptance {
        let now = Instant::now();
        if !self.rate.allow(&source, now) {
            self.stats.rate_limited += 1;
            self.strike(source, 1, now);
            return MessageAcceptance::Ignore;
        }
        let Some(payload_type) = self.topics.get(&message.topic).cloned() else {
            self.stats.gossip_rejected += 1;
            self.strike(source, 1, now);
            return MessageAcceptance::Reject;
        };
        if self.node_gone || self.inbound.capacity() == 0 {
            // The node cannot take it now; others still can get it from other peers,
            // and the node resynchronizes later.
            self.stats.gossip_ignored += 1;
            self.stats.inbound_dropped += 1;
            return MessageAcceptance::Ignore;
        }
        let slack = u64::try_from(self.limits.reorder_slack.as_millis()).unwrap_or(u64::MAX);
        let verdict = judge_gossip(
            &message.data,
            &payload_type,
            &self.domain,
            &self.trust,
            &mut self.freshness,
            now_ms(),
            slack,
        );
        match verdict {
            Verdict::Accept(envelope) => {
                self.stats.gossip_accepted += 1;
                if self
                    .inbound
                    .try_send(Inbound::Gossip {
                        payload_type,
                        envelope,
                    })
                    .is_err()
                {
                    self.stats.inbound_dropped += 1;
                }
                MessageAcceptance::Accept
            }
            Verdict::Ignore(why) => {
                tracing::debug!(why, "gossip ignored");
                self.stats.gossip_ignored += 1;
                MessageAcceptance::Ignore
            }
            Verdict::Reject(error) => {
                tracing::info!(%error, "gossip rejected");
                self.stats.gossip_rejected += 1;
                self.strike(source, 1, now);
                MessageAcceptance::Reject
            }
        }
    }
}

fn log_acceptance(id: &MessageId, acceptance: MessageAcceptance) {
    tracing::trace!(%id, ?acceptance, "validated");
}
