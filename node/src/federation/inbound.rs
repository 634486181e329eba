//! What the federation delivers: stanza batches from organizations (delivered through
//! the router like s2s stanzas, after checking that each stanza's `from` is of the
//! organization that signed the batch), change notices (a gap re-probes), and peers
//! coming up (resynchronization).

use std::collections::HashMap;

use jid::BareJid;
use lampfield_federation::Inbound;
use lampfield_xmpp::Backend;
use minidom::Element;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Shared;
use super::wire::{self, NOTICE_TYPE, Notice, XMPP_TYPE};

/// Most notice positions remembered (origin, user); beyond it the oldest are forgotten.
const MAX_REMEMBERED: usize = 100_000;

/// Handle events until `cancel` fires or the service stops.
pub(super) async fn run(
    shared: Shared,
    mut inbound: mpsc::Receiver<Inbound>,
    cancel: CancellationToken,
) {
    let mut last: HashMap<(String, String), (u64, u64)> = HashMap::new();
    loop {
        let event = tokio::select! {
            () = cancel.cancelled() => return,
            e = inbound.recv() => match e { Some(e) => e, None => return },
        };
        match event {
            Inbound::Request {
                from_domain,
                payload_type,
                payload,
                reply,
            } => {
                if payload_type != XMPP_TYPE {
                    continue;
                }
                let shared = shared.clone();
                // The sender waits for the answer before its next batch, so handling
                // batches concurrently keeps each organization's order.
                tokio::spawn(async move {
                    if deliver(&shared, &from_domain, &payload).await {
                        reply.send(Vec::new());
                    }
                });
            }
            Inbound::Gossip {
                payload_type,
                envelope,
            } => {
                if payload_type != NOTICE_TYPE {
                    continue;
                }
                let Ok(notice) = Notice::decode(&envelope.payload) else {
                    tracing::debug!(origin = %envelope.origin, "malformed presence notice");
                    continue;
                };
                let key = (envelope.origin.clone(), notice.user.clone());
                let gap = notice.gap_after(last.get(&key).copied());
                if last.len() >= MAX_REMEMBERED && !last.contains_key(&key) {
                    last.clear();
                }
                last.insert(key, (notice.epoch, notice.n));
                if gap {
                    let shared = shared.clone();
                    tokio::spawn(
                        async move { reprobe(&shared, &envelope.origin, &notice.user).await },
                    );
                }
            }
            Inbound::PeerUp { domain, peer } => {
                if !shared.organizations.contains(&domain) {
                    continue;
                }
                tracing::info!(%domain, %peer, "organization connected; resynchronizing");
                let shared = shared.clone();
                tokio::spawn(async move {
                    match shared.store.users() {
                        Ok(users) => shared.router.resync_domain(&domain, &users).await,
                        Err(e) => tracing::warn!(error = %e, "cannot list users to resynchronize"),
                    }
                });
            }
            Inbound::PeerDown { domain, peer } => {
                tracing::info!(%domain, %peer, "organization disconnected");
            }
        }
    }
}

/// Deliver one batch from `origin`; `false` (no answer, the request is refused) when
/// the batch is malformed. A stanza whose `from` is not of `origin` is dropped: an
/// organization speaks only for its own users.
async fn deliver(shared: &Shared, origin: &str, payload: &[u8]) -> bool {
    let stanzas = match wire::decode_batch(payload) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(%origin, error = %e, "stanza batch refused");
            return false;
        }
    };
    for stanza in stanzas {
        if let Err(e) = shared.router.handle_remote(origin, stanza).await {
            tracing::warn!(%origin, error = %e, "stanza from organization refused");
        }
    }
    true
}

/// A notice showed that `user@origin` changed in ways we may have missed: every local
/// user subscribed to it probes it again.
async fn reprobe(shared: &Shared, origin: &str, user: &str) {
    let Ok(remote) = BareJid::new(&format!("{user}@{origin}")) else {
        return;
    };
    let Ok(users) = shared.store.users() else {
        return;
    };
    for local in users {
        let watches = matches!(
            shared.backend.contact(&local, &remote).await,
            Ok(Some(c)) if c.subscription.to
        );
        if watches {
            let probe = Element::builder("presence", "jabber:client")
                .attr(rxml::xml_ncname!("type").to_owned(), "probe")
                .attr(rxml::xml_ncname!("from").to_owned(), local.as_str())
                .attr(rxml::xml_ncname!("to").to_owned(), remote.as_str())
                .build();
            let _ = shared.outbound.try_send(probe);
        }
    }
}
