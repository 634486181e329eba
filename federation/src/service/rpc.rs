//! Hellos, requests and answers over `/lampfield/federation/1` (spec: docs/PROTOCOL.md,
//! "Request/response").
//!
//! Each side sends a hello on a new connection; a request is served only to a peer
//! whose hello proved an organization, and only if the request is signed by that same
//! organization. Answers are sealed with our organization key, so the asker can prove
//! who said what.

use std::time::Instant;

use libp2p::PeerId;
use libp2p::request_response::{Event, Message, OutboundFailure, ResponseChannel};
use tokio::sync::oneshot;

use super::{Outbound, Service, now_ms};
use crate::accept::{seal_hello, verify_answer, verify_hello, verify_request};
use crate::envelope::Verified;
use crate::error::FederationError;
use crate::error::PeerProofError;
use crate::frame::{Frame, Refusal};
use crate::handle::{Inbound, Reply};

impl Service {
    pub(super) fn on_rpc(&mut self, event: Event<Frame, Frame>) {
        match event {
            Event::Message {
                peer,
                message:
                    Message::Request {
                        request, channel, ..
                    },
                ..
            } => {
                let _span =
                    tracing::debug_span!("peer", %peer, org = self.bound.get(&peer).map(String::as_str)).entered();
                self.on_request(peer, request, channel);
            }
            Event::Message {
                peer,
                message:
                    Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                let _span = tracing::debug_span!("peer", %peer).entered();
                if self.hellos_out.remove(&request_id) {
                    self.on_hello_answer(peer, response);
                } else if let Some(pending) = self.outbound.remove(&request_id) {
                    let result = self.check_answer(&pending, response);
                    let _ = pending.done.send(result);
                }
            }
            Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                tracing::debug!(%peer, %error, "request failed");
                self.hellos_out.remove(&request_id);
                if let Some(pending) = self.outbound.remove(&request_id) {
                    let error = match error {
                        OutboundFailure::Timeout => FederationError::Timeout,
                        other => FederationError::Transport(other.to_string()),
                    };
                    let _ = pending.done.send(Err(error));
                }
            }
            Event::InboundFailure { peer, error, .. } => {
                tracing::debug!(%peer, %error, "inbound request failed")
            }
            Event::ResponseSent { .. } => {}
        }
    }

    fn respond(&mut self, channel: ResponseChannel<Frame>, frame: Frame) {
        // Fails only if the connection is gone; the asker sees that on its side.
        let _ = self.swarm.behaviour_mut().rpc.send_response(channel, frame);
    }

    fn on_request(&mut self, peer: PeerId, request: Frame, channel: ResponseChannel<Frame>) {
        let now = Instant::now();
        if !self.rate.allow(&peer, now) {
            self.stats.rate_limited += 1;
            self.stats.requests_refused += 1;
            self.strike(peer, 1, now);
            return self.respond(channel, Frame::Refused(Refusal::Busy));
        }
        match request {
            Frame::Hello(bytes) => {
                match verify_hello(&bytes, &peer, &self.trust, &self.freshness, now_ms()) {
                    Ok(domain) => {
                        self.bind(peer, domain);
                        match self.our_hello() {
                            Some(hello) => self.respond(channel, Frame::Hello(hello)),
                            None => self.respond(channel, Frame::Refused(Refusal::NoAnswer)),
                        }
                    }
                    Err(error) => {
                        self.hello_failed(peer, &error, now);
                        self.respond(channel, Frame::Refused(Refusal::NotAllowed));
                    }
                }
            }
            Frame::Ask(bytes) => self.on_ask(peer, &bytes, channel, now),
            Frame::Answer(_) | Frame::Refused(_) => {
                tracing::info!("answer frame sent as a request");
                self.strike(peer, 1, now);
            }
        }
    }

    fn our_hello(&mut self) -> Option<Vec<u8>> {
        let seq = self.seq.next(super::now_us());
        let me = *self.swarm.local_peer_id();
        seal_hello(&self.org_key, &self.domain, &me, seq, now_ms())
            .ok()
            .map(|h| h.to_bytes())
    }

    /// A peer that cannot prove an organization, or claims one it does not own, is
    /// banned at once: honest nodes never send a bad hello.
    fn hello_failed(&mut self, peer: PeerId, error: &PeerProofError, now: Instant) {
        tracing::warn!(%error, "hello refused");
        self.stats.hellos_rejected += 1;
        self.strike(peer, self.limits.strikes_to_ban, now);
    }

    fn on_hello_answer(&mut self, peer: PeerId, response: Frame) {
        match response {
            Frame::Hello(bytes) => {
                match verify_hello(&bytes, &peer, &self.trust, &self.freshness, now_ms()) {
                    Ok(domain) => self.bind(peer, domain),
                    Err(error) => self.hello_failed(peer, &error, Instant::now()),
                }
            }
            // The other side does not trust us (or is busy); its hello deadline or ours
            // ends the connection.
            other => tracing::info!(?other, "hello not answered"),
        }
    }

    fn on_ask(
        &mut self,
        peer: PeerId,
        bytes: &[u8],
        channel: ResponseChannel<Frame>,
        now: Instant,
    ) {
        let Some(proven) = self.bound.get(&peer).cloned() else {
            self.stats.requests_refused += 1;
            return self.respond(channel, Frame::Refused(Refusal::NotAllowed));
        };
        let (payload_type, verified) = match verify_request(
            bytes,
            &proven,
            &self.request_types,
            &self.trust,
            &self.freshness,
            now_ms(),
        ) {
            Ok(ok) => ok,
            Err(PeerProofError::Unsupported(t)) => {
                tracing::debug!(payload_type = %t, "unsupported request");
                self.stats.requests_refused += 1;
                return self.respond(channel, Frame::Refused(Refusal::Unsupported));
            }
            Err(error) => {
                tracing::info!(%error, "request refused");
                self.stats.requests_refused += 1;
                self.strike(peer, 1, now);
                return self.respond(channel, Frame::Refused(Refusal::NotAllowed));
            }
        };
        if self.answer_slots.len() >= self.limits.max_inflight || self.node_gone {
            self.stats.requests_refused += 1;
            return self.respond(channel, Frame::Refused(Refusal::Busy));
        }
        let (tx, rx) = oneshot::channel();
        let event = Inbound::Request {
            from_domain: verified.origin,
            payload_type: payload_type.clone(),
            payload: verified.payload,
            reply: Reply(tx),
        };
        if self.inbound.try_send(event).is_err() {
            self.stats.requests_refused += 1;
            return self.respond(channel, Frame::Refused(Refusal::Busy));
        }
        self.stats.requests_in += 1;
        let slot = self.next_answer;
        self.next_answer = self.next_answer.wrapping_add(1);
        self.answer_slots.insert(slot, (channel, payload_type));
        let wait = self.limits.answer_timeout;
        self.answers.push(Box::pin(async move {
            (
                slot,
                tokio::time::timeout(wait, rx)
                    .await
                    .ok()
                    .and_then(Result::ok),
            )
        }));
    }

    /// The node answered (or gave up on) the request in `slot`.
    pub(super) fn answer(&mut self, slot: u64, answer: Option<Vec<u8>>) {
        let Some((channel, payload_type)) = self.answer_slots.remove(&slot) else {
            return;
        };
        let Some(payload) = answer else {
            return self.respond(channel, Frame::Refused(Refusal::NoAnswer));
        };
        match self.seal(&payload_type, payload) {
            Ok(env) if env.to_bytes().len() <= self.limits.max_envelope_bytes => {
                self.respond(channel, Frame::Answer(env.to_bytes()));
            }
            Ok(_) | Err(_) => {
                tracing::warn!(%payload_type, "answer too large to send");
                self.respond(channel, Frame::Refused(Refusal::NoAnswer));
            }
        }
    }

    pub(super) fn request(
        &mut self,
        domain: String,
        payload_type: String,
        payload: Vec<u8>,
        done: oneshot::Sender<Result<Verified, FederationError>>,
    ) {
        let Some(peer) = self
            .bound
            .iter()
            .find(|(_, d)| **d == domain)
            .map(|(p, _)| *p)
        else {
            let _ = done.send(Err(FederationError::NotConnected(domain)));
            return;
        };
        if self.outbound.len() >= self.limits.max_inflight {
            let _ = done.send(Err(FederationError::Busy));
            return;
        }
        let bytes = match self.seal(&payload_type, payload) {
            Ok(env) => env.to_bytes(),
            Err(e) => {
                let _ = done.send(Err(e));
                return;
            }
        };
        if bytes.len() > self.limits.max_envelope_bytes {
            let _ = done.send(Err(FederationError::TooLarge(bytes.len())));
            return;
        }
        let id = self
            .swarm
            .behaviour_mut()
            .rpc
            .send_request(&peer, Frame::Ask(bytes));
        self.outbound.insert(
            id,
            Outbound {
                domain,
                payload_type,
                done,
            },
        );
    }

    fn check_answer(
        &mut self,
        pending: &Outbound,
        response: Frame,
    ) -> Result<Verified, FederationError> {
        match response {
            Frame::Answer(bytes) => Ok(verify_answer(
                &bytes,
                &pending.domain,
                &pending.payload_type,
                &self.trust,
                &self.freshness,
                now_ms(),
            )?),
            Frame::Refused(r) => Err(FederationError::Refused(r)),
            Frame::Hello(_) | Frame::Ask(_) => Err(FederationError::Transport(
                "unexpected frame in answer".into(),
            )),
        }
    }
}
