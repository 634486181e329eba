//! Acceptance rules for everything a peer sends (spec: docs/PROTOCOL.md, "Acceptance"
//! under "Federation wire"): gossip, hellos, requests and answers. Pure functions over
//! bytes, the trust list and the clock, so every rule is tested without a network.

use libp2p::PeerId;

use crate::envelope::{SignedEnvelope, Verified};
use crate::error::{EnvelopeError, PeerProofError};
use crate::freshness::Freshness;
use crate::trust::TrustList;

/// The payload type of hello envelopes; reserved, never gossiped or requested.
pub const HELLO_TYPE: &str = "lampfield-hello";

/// What to do with a gossip message.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Deliver to the node and forward.
    Accept(Verified),
    /// Drop without forwarding and without blaming the peer that forwarded it.
    Ignore(&'static str),
    /// Drop, never forward, and penalize the peer that forwarded it.
    Reject(EnvelopeError),
}

/// Judge a gossip message received on the topic of `topic_type`.
///
/// An envelope claiming our own domain is refused: nobody else speaks for us, and our
/// own statements only come back to us as replays. An envelope older than the newest
/// one from its origin is dropped; it is blamed as a replay only if it is older by
/// more than `reorder_slack_ms`, since two honest messages may overtake each other on
/// different mesh paths.
pub(crate) fn judge_gossip(
    data: &[u8],
    topic_type: &str,
    own_domain: &str,
    trust: &TrustList,
    freshness: &mut Freshness,
    now_ms: u64,
    reorder_slack_ms: u64,
) -> Verdict {
    let env = match SignedEnvelope::from_bytes(data) {
        Ok(env) => env,
        Err(e) => return Verdict::Reject(e),
    };
    if env.claimed_origin().eq_ignore_ascii_case(own_domain) {
        return Verdict::Reject(EnvelopeError::UnknownOrigin(
            env.claimed_origin().to_owned(),
        ));
    }
    let v = match env.open(trust, topic_type) {
        Ok(v) => v,
        Err(e) => return Verdict::Reject(e),
    };
    match freshness.admit(&v, now_ms) {
        Ok(()) => Verdict::Accept(v),
        Err(EnvelopeError::Replayed { .. })
            if freshness
                .last_timestamp(&v.origin)
                .is_some_and(|last| v.timestamp_ms.saturating_add(reorder_slack_ms) >= last) =>
        {
            Verdict::Ignore("overtaken by a newer envelope")
        }
        Err(e) => Verdict::Reject(e),
    }
}

/// Seal our hello: our organization vouching for our transport peer id.
pub(crate) fn seal_hello(
    key: &ed25519_dalek::SigningKey,
    domain: &str,
    peer: &PeerId,
    seq: u64,
    now_ms: u64,
) -> Result<SignedEnvelope, EnvelopeError> {
    SignedEnvelope::seal(key, domain, HELLO_TYPE, seq, now_ms, peer.to_bytes())
}

/// Check a peer's hello: a trusted organization signed the very peer id that the
/// noise handshake authenticated. Returns the organization's domain.
pub(crate) fn verify_hello(
    bytes: &[u8],
    remote: &PeerId,
    trust: &TrustList,
    clock: &Freshness,
    now_ms: u64,
) -> Result<String, PeerProofError> {
    let v = SignedEnvelope::from_bytes(bytes)?.open(trust, HELLO_TYPE)?;
    clock.check_time(&v, now_ms)?;
    if v.payload != remote.to_bytes() {
        return Err(PeerProofError::WrongPeer);
    }
    Ok(v.origin.to_ascii_lowercase())
}

/// Check a request from a peer that proved `proven` with its hello. Returns the
/// payload type and the verified content.
pub(crate) fn verify_request(
    bytes: &[u8],
    proven: &str,
    served: &[String],
    trust: &TrustList,
    clock: &Freshness,
    now_ms: u64,
) -> Result<(String, Verified), PeerProofError> {
    let env = SignedEnvelope::from_bytes(bytes)?;
    let payload_type = env.claimed_type().to_owned();
    if !served.contains(&payload_type) {
        return Err(PeerProofError::Unsupported(payload_type));
    }
    let v = env.open(trust, &payload_type)?;
    clock.check_time(&v, now_ms)?;
    if !v.origin.eq_ignore_ascii_case(proven) {
        return Err(PeerProofError::WrongOrigin {
            claimed: v.origin,
            proven: proven.to_owned(),
        });
    }
    Ok((payload_type, v))
}

/// Check an answer to a request of `payload_type` sent to organization `asked`.
pub(crate) fn verify_answer(
    bytes: &[u8],
    asked: &str,
    payload_type: &str,
    trust: &TrustList,
    clock: &Freshness,
    now_ms: u64,
) -> Result<Verified, PeerProofError> {
    let v = SignedEnvelope::from_bytes(bytes)?.open(trust, payload_type)?;
    clock.check_time(&v, now_ms)?;
    if !v.origin.eq_ignore_ascii_case(asked) {
        return Err(PeerProofError::WrongOrigin {
            claimed: v.origin,
            proven: asked.to_owned(),
        });
    }
    Ok(v)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use ed25519_dalek::SigningKey;

    use super::*;

    const NOW: u64 = 1_000_000;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn trust() -> TrustList {
        let mut t = TrustList::default();
        t.insert("a.example", key(1).verifying_key());
        t.insert("b.example", key(2).verifying_key());
        t
    }

    fn fresh() -> Freshness {
        Freshness::new(60_000, 5_000)
    }

    fn env(k: u8, origin: &str, ty: &str, seq: u64, ts: u64) -> Vec<u8> {
        SignedEnvelope::seal(&key(k), origin, ty, seq, ts, b"p".to_vec())
            .unwrap()
            .to_bytes()
    }

    fn gossip(data: &[u8], f: &mut Freshness) -> Verdict {
        judge_gossip(data, "presence", "b.example", &trust(), f, NOW, 2_000)
    }

    #[test]
    fn honest_gossip_is_accepted_once() {
        let mut f = fresh();
        let e = env(1, "a.example", "presence", 1, NOW);
        assert!(matches!(gossip(&e, &mut f), Verdict::Accept(v) if v.seq == 1));
        assert!(matches!(gossip(&e, &mut f), Verdict::Ignore(_)));
    }

    #[test]
    fn forged_unknown_wrong_topic_and_garbage_gossip_is_rejected() {
        let mut f = fresh();
        for bad in [
            env(3, "a.example", "presence", 1, NOW),
            env(3, "z.example", "presence", 1, NOW),
            env(1, "a.example", "roster", 1, NOW),
            b"LFE1 garbage".to_vec(),
        ] {
            assert!(matches!(gossip(&bad, &mut f), Verdict::Reject(_)));
        }
    }

    #[test]
    fn our_own_domain_is_never_accepted_from_others() {
        let e = env(2, "b.example", "presence", 1, NOW);
        assert!(matches!(
            gossip(&e, &mut fresh()),
            Verdict::Reject(EnvelopeError::UnknownOrigin(_))
        ));
    }

    #[test]
    fn an_old_replay_is_rejected_but_a_recent_overtaken_one_is_ignored() {
        let mut f = fresh();
        let old = env(1, "a.example", "presence", 1, NOW - 10_000);
        let recent = env(1, "a.example", "presence", 2, NOW - 1_000);
        let newest = env(1, "a.example", "presence", 3, NOW);
        assert!(matches!(gossip(&old, &mut f), Verdict::Accept(_)));
        assert!(matches!(gossip(&newest, &mut f), Verdict::Accept(_)));
        assert!(matches!(gossip(&recent, &mut f), Verdict::Ignore(_)));
        assert!(matches!(
            gossip(&old, &mut f),
            Verdict::Reject(EnvelopeError::Replayed { .. })
        ));
    }

    #[test]
    fn stale_gossip_is_rejected() {
        let e = env(1, "a.example", "presence", 1, NOW - 120_000);
        assert!(matches!(
            gossip(&e, &mut fresh()),
            Verdict::Reject(EnvelopeError::Stale { .. })
        ));
    }

    #[test]
    fn a_hello_binds_the_signing_organization_to_exactly_one_peer() {
        let me = PeerId::random();
        let other = PeerId::random();
        let hello = seal_hello(&key(1), "a.example", &me, 1, NOW)
            .unwrap()
            .to_bytes();
        assert_eq!(
            verify_hello(&hello, &me, &trust(), &fresh(), NOW).unwrap(),
            "a.example"
        );
        assert_eq!(
            verify_hello(&hello, &other, &trust(), &fresh(), NOW),
            Err(PeerProofError::WrongPeer)
        );
        let claimed = seal_hello(&key(3), "a.example", &me, 1, NOW)
            .unwrap()
            .to_bytes();
        assert!(matches!(
            verify_hello(&claimed, &me, &trust(), &fresh(), NOW),
            Err(PeerProofError::Envelope(EnvelopeError::BadSignature(_)))
        ));
    }

    #[test]
    fn a_request_must_come_from_the_proven_organization_and_a_served_type() {
        let served = vec!["resync".to_owned()];
        let req = env(1, "a.example", "resync", 5, NOW);
        let (ty, v) = verify_request(&req, "a.example", &served, &trust(), &fresh(), NOW).unwrap();
        assert_eq!((ty.as_str(), v.origin.as_str()), ("resync", "a.example"));
        assert!(matches!(
            verify_request(&req, "b.example", &served, &trust(), &fresh(), NOW),
            Err(PeerProofError::WrongOrigin { .. })
        ));
        let other = env(1, "a.example", "probe", 5, NOW);
        assert!(matches!(
            verify_request(&other, "a.example", &served, &trust(), &fresh(), NOW),
            Err(PeerProofError::Unsupported(_))
        ));
    }

    #[test]
    fn an_answer_must_come_from_the_organization_asked() {
        let ans = env(2, "b.example", "resync", 9, NOW);
        assert!(verify_answer(&ans, "b.example", "resync", &trust(), &fresh(), NOW).is_ok());
        assert!(verify_answer(&ans, "a.example", "resync", &trust(), &fresh(), NOW).is_err());
        assert!(verify_answer(&ans, "b.example", "probe", &trust(), &fresh(), NOW).is_err());
    }
}
