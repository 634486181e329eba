//! Server-to-server XMPP (RFC 6120 with `jabber:server` streams, XEP-0220 dialback
//! with XEP-0185 keys, SASL EXTERNAL for peers whose certificate is valid for their
//! domain): how accounts on this node reach contacts on any other XMPP server.
//!
//! - `manager`: one outbound stream per remote domain, opened on demand, reused,
//!   closed when idle; stanzas queue (bounded) while it connects, and bounce to the
//!   local sender when they cannot be delivered.
//! - `outbound` / `inbound`: the two directions of stream negotiation and the
//!   dialback exchanges; `negotiate` and `dialback` are their pure decisions.
//! - `resolve`: static routes from the configuration, then DNS SRV, then A/AAAA.
//! - `tls`: certificates both ways, validity decided after the handshake.
//!
//! Inbound stanzas reach local sessions through [`Router::handle_remote`]; outbound
//! ones leave the router through the [`RemoteSender`](crate::router::RemoteSender) it
//! was built with, whose receiver [`S2s::new`] takes.

mod config;
mod conn;
pub(crate) mod dialback;
mod inbound;
mod manager;
mod negotiate;
mod outbound;
mod resolve;
mod tls;

use std::sync::Arc;

use minidom::Element;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::S2sConfig;

use crate::ports::backend::Backend;
use crate::router::Router;
use crate::tls::TlsError;

/// Length of the queue to the outbound manager; also what a router's
/// [`RemoteSender`](crate::router::RemoteSender) queue should hold when s2s drains it.
pub const QUEUE_LEN: usize = 4096;

/// What every s2s task shares: configuration, TLS, resolver, router and the shutdown signal.
pub(crate) struct Context<B: Backend> {
    pub(crate) cfg: S2sConfig,
    pub(crate) tls: tls::TlsContext,
    pub(crate) resolver: resolve::Resolver,
    pub(crate) router: Router<B>,
    pub(crate) shutdown: CancellationToken,
}

/// The s2s side of one gateway, wired to its router.
pub struct S2s<B: Backend> {
    shared: Arc<Context<B>>,
    rx: mpsc::Receiver<Element>,
}

impl<B: Backend> S2s<B> {
    /// Check the configuration and build the TLS contexts. `outbound` is the receiving end
    /// of the [`RemoteSender`](crate::router::RemoteSender) `router` was built with: s2s carries every stanza queued there.
    pub fn new(
        cfg: S2sConfig,
        router: Router<B>,
        outbound: mpsc::Receiver<Element>,
        shutdown: CancellationToken,
    ) -> Result<Self, TlsError> {
        let tls = tls::TlsContext::new(&cfg.cert_chain, &cfg.key, &cfg.ca)?;
        let resolver = resolve::Resolver::new(&cfg.routes);
        let shared = Arc::new(Context {
            cfg,
            tls,
            resolver,
            router,
            shutdown,
        });
        Ok(Self {
            shared,
            rx: outbound,
        })
    }

    /// Like [`S2s::new`], with a queue of its own whose sender is returned, for a node whose
    /// [`RemoteSender`](crate::router::RemoteSender) leads elsewhere and passes s2s only the stanzas it routes here (e.g.
    /// not those for organizations it reaches over federation).
    pub fn behind(
        cfg: S2sConfig,
        router: Router<B>,
        shutdown: CancellationToken,
    ) -> Result<(Self, mpsc::Sender<Element>), TlsError> {
        let (tx, rx) = mpsc::channel(QUEUE_LEN);
        Ok((Self::new(cfg, router, rx, shutdown)?, tx))
    }

    /// Route outbound stanzas and, with a listener, accept inbound streams, until
    /// the shutdown token fires; returns when every stream has closed.
    pub async fn serve(self, listener: Option<TcpListener>) {
        let tracker = TaskTracker::new();
        tracker.spawn(manager::run(
            Arc::clone(&self.shared),
            self.rx,
            tracker.clone(),
        ));
        if let Some(listener) = listener {
            tracker.spawn(inbound::serve(listener, Arc::clone(&self.shared)));
        }
        self.shared.shutdown.cancelled().await;
        tracker.close();
        tracker.wait().await;
    }
}
