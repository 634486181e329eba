//! What the federation delivers: stanza batches from organizations (delivered through
//! the router like s2s stanzas, after checking that each stanza's `from` is of the
//! organization that signed the batch), change notices (a gap re-probes), and peers
//! coming up (resynchronization).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use jid::BareJid;
use lampfield_federation::Inbound;
use lampfield_xmpp::Backend;
use minidom::Element;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Links;
use super::wire::{self, NOTICE_TYPE, Notice, XMPP_TYPE, decode_notices};

/// Most notice positions remembered (origin, user); beyond it they are all forgotten.
const MAX_REMEMBERED: usize = 100_000;
/// Re-probes (each reads every local user's roster entry) running at once; a gap noticed
/// while all run is dropped (the next notice of that user shows a gap again).
const MAX_REPROBES: usize = 4;

/// Notice requests remembered for diagnosis and tests, the oldest forgotten first.
const MAX_LOGGED: usize = 256;

/// The last change notice requests accepted: the organization that sent each and its payload
/// exactly as received.
#[derive(Clone, Debug, Default)]
pub(super) struct ReceivedNotices(Arc<Mutex<VecDeque<(String, Vec<u8>)>>>);

impl ReceivedNotices {
    fn record(&self, origin: &str, payload: &[u8]) {
        let mut log = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if log.len() == MAX_LOGGED {
            log.pop_front();
        }
        log.push_back((origin.to_owned(), payload.to_vec()));
    }

    /// Oldest first.
    pub(super) fn list(&self) -> Vec<(String, Vec<u8>)> {
        let log = self.0.lock().unwrap_or_else(|p| p.into_inner());
        log.iter().cloned().collect()
    }
}

/// Handle events until `cancel` fires or the service stops.
pub(super) async fn run(
    links: Links,
    mut inbound: mpsc::Receiver<Inbound>,
    received: ReceivedNotices,
    cancel: CancellationToken,
) {
    let mut last: HashMap<(String, String), (u64, u64)> = HashMap::new();
    let reprobes = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_REPROBES));
    let resyncing = Resyncing::default();
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
            } if payload_type == XMPP_TYPE => {
                let links = links.clone();
                // The sender waits for the answer before its next batch, so handling
                // batches concurrently keeps each organization's order.
                tokio::spawn(async move {
                    if deliver(&links, &from_domain, &payload).await {
                        reply.send(Vec::new());
                    }
                });
            }
            Inbound::Request {
                from_domain,
                payload_type,
                payload,
                reply,
            } if payload_type == NOTICE_TYPE => {
                let Ok(notices) = decode_notices(&payload) else {
                    // Dropping the answer slot refuses the request.
                    tracing::debug!(origin = %from_domain, "malformed presence notices");
                    continue;
                };
                received.record(&from_domain, &payload);
                reply.send(Vec::new());
                for notice in notices {
                    if let Some(user) = gap(&mut last, &from_domain, &notice) {
                        let Ok(permit) = reprobes.clone().try_acquire_owned() else {
                            continue;
                        };
                        let (links, origin) = (links.clone(), from_domain.clone());
                        tokio::spawn(async move {
                            reprobe(&links, &origin, &user).await;
                            drop(permit);
                        });
                    }
                }
            }
            Inbound::Request { .. } | Inbound::Gossip { .. } => {}
            Inbound::PeerUp { domain, peer } => {
                if !links.organizations.contains(&domain) {
                    continue;
                }
                tracing::info!(%domain, %peer, "organization connected; resynchronizing");
                resync(&links, &resyncing, domain);
            }
            Inbound::PeerDown { domain, peer } => {
                tracing::info!(%domain, %peer, "organization disconnected");
            }
        }
    }
}

/// Remember `notice` from `origin`; its user when it shows that notices were missed.
fn gap(
    last: &mut HashMap<(String, String), (u64, u64)>,
    origin: &str,
    notice: &Notice,
) -> Option<String> {
    let key = (origin.to_owned(), notice.user.clone());
    let missed = notice.gap_after(last.get(&key).copied());
    if last.len() >= MAX_REMEMBERED && !last.contains_key(&key) {
        last.clear();
    }
    last.insert(key, (notice.epoch, notice.n));
    missed.then(|| notice.user.clone())
}

/// Domains being resynchronized, and whether another `PeerUp` came in meanwhile.
type Resyncing = std::sync::Arc<std::sync::Mutex<HashMap<String, bool>>>;

/// Resynchronize with `domain`: one pass at a time per domain, and one more pass if the
/// link came up again during it, so a flapping peer cannot start a pass per connection.
fn resync(links: &Links, resyncing: &Resyncing, domain: String) {
    {
        let mut running = resyncing.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(again) = running.get_mut(&domain) {
            *again = true;
            return;
        }
        running.insert(domain.clone(), false);
    }
    let (links, resyncing) = (links.clone(), resyncing.clone());
    tokio::spawn(async move {
        loop {
            match links.store.users() {
                Ok(users) => links.router.resync_domain(&domain, &users).await,
                Err(e) => tracing::warn!(error = %e, "cannot list users to resynchronize"),
            }
            let mut running = resyncing.lock().unwrap_or_else(|p| p.into_inner());
            match running.get_mut(&domain) {
                Some(again) if *again => *again = false,
                _ => {
                    running.remove(&domain);
                    return;
                }
            }
        }
    });
}

/// Deliver one batch from `origin`; `false` (no answer, the request is refused) when
/// the batch is malformed. A stanza whose `from` is not of `origin` is dropped: an
/// organization speaks only for its own users.
async fn deliver(links: &Links, origin: &str, payload: &[u8]) -> bool {
    let stanzas = match wire::decode_batch(payload) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(%origin, error = %e, "stanza batch refused");
            return false;
        }
    };
    for stanza in stanzas {
        if let Err(e) = links.router.handle_remote(origin, stanza).await {
            tracing::warn!(%origin, error = %e, "stanza from organization refused");
        }
    }
    true
}

/// A notice showed that `user@origin` changed in ways we may have missed: every local
/// user subscribed to it probes it again.
async fn reprobe(links: &Links, origin: &str, user: &str) {
    let Ok(remote) = BareJid::new(&format!("{user}@{origin}")) else {
        return;
    };
    let Ok(users) = links.store.users() else {
        return;
    };
    for local in users {
        let watches = matches!(
            links.backend.contact(&local, &remote).await,
            Ok(Some(c)) if c.subscription.to
        );
        if watches {
            let probe = Element::builder("presence", "jabber:client")
                .attr(rxml::xml_ncname!("type").to_owned(), "probe")
                .attr(rxml::xml_ncname!("from").to_owned(), local.as_str())
                .attr(rxml::xml_ncname!("to").to_owned(), remote.as_str())
                .build();
            let _ = links.outbound.try_send(probe);
        }
    }
}
