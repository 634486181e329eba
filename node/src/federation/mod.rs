//! Presence between Lampfield organizations: the federation service wired into the node
//! (docs/PROTOCOL.md, "Presence between Lampfield organizations").
//!
//! - [`identity`]: the organization key and the libp2p peer key in the data folder.
//! - [`wire`]: what goes inside envelopes (stanza batches, change notices).
//! - `dispatch`: the router's one [`RemoteSender`](lampfield_xmpp::router::RemoteSender):
//!   configured organizations over federation, every other domain over s2s.
//! - `inbound`: requests (stanza batches, change notices) and peer events from the federation.
//! - `notices`: signed change notices to one organization at a time, for users watched from
//!   there, when what those watchers see changed.

pub mod identity;
pub mod wire;

mod dispatch;
mod inbound;
mod notices;

use std::collections::HashSet;
use std::time::Duration;

use lampfield_federation::{FederationConfig, FederationHandle, Inbound, Multiaddr, TrustList};
use minidom::Element;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::adapters::xmpp::StoreBackend;
use crate::config::{Config, decode_key};
use crate::engine::Engine;
use crate::store::Store;
use identity::{Identity, IdentityError};

/// Why federation could not start.
#[derive(Debug, thiserror::Error)]
pub enum FederationStartError {
    /// A key file is unusable.
    #[error("federation identity: {0}")]
    Identity(#[from] IdentityError),
    /// The configuration does not make a federation service (it was validated, so rare).
    #[error("federation configuration: {0}")]
    Config(String),
    /// The service could not start (e.g. the listen address is taken).
    #[error("federation: {0}")]
    Service(#[from] lampfield_federation::FederationError),
}

/// A started federation service, not yet connected to the router.
pub struct Prepared {
    handle: FederationHandle,
    inbound: mpsc::Receiver<Inbound>,
    organizations: HashSet<String>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("handle", &self.handle)
            .field("organizations", &self.organizations)
            .finish_non_exhaustive()
    }
}

impl Prepared {
    /// The service's handle (addresses, peers, and blocking peers in tests).
    pub fn handle(&self) -> &FederationHandle {
        &self.handle
    }
}

/// The federation service's configuration from the node's.
pub fn service_config(
    config: &Config,
    identity: &Identity,
) -> Result<FederationConfig, FederationStartError> {
    let section = &config.federation;
    let bad = |e: String| FederationStartError::Config(e);
    let listen = section
        .listen
        .iter()
        .map(|a| a.parse::<Multiaddr>().map_err(|e| bad(format!("{a}: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let mut trust = TrustList::default();
    let mut bootstrap = Vec::new();
    for org in &section.organizations {
        let key = decode_key(&org.public_key)
            .and_then(|k| ed25519_dalek::VerifyingKey::from_bytes(&k).ok())
            .ok_or_else(|| bad(format!("public_key of {}", org.domain)))?;
        trust.insert(&org.domain, key);
        for a in &org.addresses {
            bootstrap.push(
                a.parse::<Multiaddr>()
                    .map_err(|e| bad(format!("{a}: {e}")))?,
            );
        }
    }
    let timing = lampfield_federation::Timing {
        redial_interval: Duration::from_millis(section.redial_interval_ms),
        ..Default::default()
    };
    Ok(FederationConfig {
        domain: config.domain.to_ascii_lowercase(),
        org_key: identity.org_key.clone(),
        peer_key: identity.peer_key.clone(),
        listen,
        bootstrap,
        trust,
        allowed_peers: None,
        // Nothing is gossiped: everything the node says about its users goes to the one
        // organization it concerns.
        gossip_types: Vec::new(),
        request_types: vec![wire::XMPP_TYPE.to_owned(), wire::NOTICE_TYPE.to_owned()],
        limits: lampfield_federation::Limits::default(),
        timing,
    })
}

/// Load the keys and start the service when `[federation]` is enabled; `None` when not.
pub async fn prepare(config: &Config) -> Result<Option<Prepared>, FederationStartError> {
    if !config.federation.enabled {
        return Ok(None);
    }
    let identity = Identity::load_or_create(config)?;
    let service = service_config(config, &identity)?;
    let (handle, inbound) = lampfield_federation::start(service).await?;
    let organizations = config
        .federation
        .organizations
        .iter()
        .map(|o| o.domain.to_ascii_lowercase())
        .collect();
    Ok(Some(Prepared {
        handle,
        inbound,
        organizations,
    }))
}

/// The node's links to the federation that its tasks share: the router, the store, the service
/// handle, the configured organizations and the dispatcher's queue.
#[derive(Clone)]
struct Links {
    router: lampfield_xmpp::Router<StoreBackend>,
    backend: StoreBackend,
    store: Store,
    handle: FederationHandle,
    organizations: std::sync::Arc<HashSet<String>>,
    /// The dispatcher's queue, for stanzas the node itself sends (re-probes).
    outbound: mpsc::Sender<Element>,
}

/// A running federation as the node holds it: the service, and the change notices sent and
/// received.
#[derive(Clone, Debug)]
pub struct Running {
    handle: FederationHandle,
    sent: notices::SentViews,
    received: inbound::ReceivedNotices,
}

impl Running {
    /// The service's handle.
    pub fn handle(&self) -> &FederationHandle {
        &self.handle
    }

    /// Forget what change notices said about a removed account.
    pub fn forget_user(&self, user: &jid::BareJid) {
        self.sent.forget(user);
    }

    /// The last change notice requests accepted (at most 256, oldest first): the
    /// organization that sent each and its payload as received.
    pub fn received_notices(&self) -> Vec<(String, Vec<u8>)> {
        self.received.list()
    }
}

/// Run the dispatcher and the federation until `cancel` fires. The dispatcher drains
/// `outbound`, the queue `router` was built to send other domains' stanzas to (its sender
/// carries the node's own re-probes too); `s2s` is the s2s layer's queue, for every domain
/// that is not a configured organization.
#[allow(clippy::too_many_arguments)]
pub fn spawn(
    prepared: Prepared,
    router: &lampfield_xmpp::Router<StoreBackend>,
    outbound: crate::adapters::c2s::RemoteQueue,
    s2s: Option<mpsc::Sender<Element>>,
    store: &Store,
    engine: &Engine,
    tracker: &TaskTracker,
    cancel: CancellationToken,
) -> Running {
    let Prepared {
        handle,
        inbound,
        organizations,
    } = prepared;
    let (tx, rx) = outbound;
    let links = Links {
        router: router.clone(),
        backend: StoreBackend::new(store.clone()),
        store: store.clone(),
        handle: handle.clone(),
        organizations: std::sync::Arc::new(organizations),
        outbound: tx,
    };
    tracker.spawn(dispatch::run(
        links.clone(),
        rx,
        s2s,
        tracker.clone(),
        cancel.clone(),
    ));
    let received = inbound::ReceivedNotices::default();
    tracker.spawn(inbound::run(
        links.clone(),
        inbound,
        received.clone(),
        cancel.clone(),
    ));
    let sent = notices::SentViews::default();
    tracker.spawn(notices::run(
        links,
        engine.clone(),
        sent.clone(),
        cancel.clone(),
    ));
    let stopping = handle.clone();
    tracker.spawn(async move {
        cancel.cancelled().await;
        let _ = stopping.shutdown().await;
    });
    Running {
        handle,
        sent,
        received,
    }
}
