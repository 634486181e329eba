//! Wiring of the gateway's XEP-0114 component listener from the node's `[components]`
//! section.

use std::net::SocketAddr;

use lampfield_xmpp::ComponentConfig;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::c2s::SessionControl;
use crate::config::Config;

/// The component listener could not be bound.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen for components on {addr}: {source}")]
pub struct ComponentsStartError {
    addr: SocketAddr,
    #[source]
    source: std::io::Error,
}

/// The bound listener and its settings, before any task runs.
pub struct Prepared {
    config: ComponentConfig,
    listener: TcpListener,
    addr: SocketAddr,
}

/// Bind the listener when `[components]` lists a domain; `None` when it lists none.
pub async fn prepare(config: &Config) -> Result<Option<Prepared>, ComponentsStartError> {
    let section = &config.components;
    if !section.enabled() {
        return Ok(None);
    }
    let secrets = section
        .domains
        .iter()
        .map(|(d, s)| (d.clone(), s.0.clone()))
        .collect();
    let err = |source| ComponentsStartError {
        addr: section.listen,
        source,
    };
    let listener = TcpListener::bind(section.listen).await.map_err(err)?;
    let addr = listener.local_addr().map_err(err)?;
    Ok(Some(Prepared {
        config: ComponentConfig::new(config.domain.clone(), secrets),
        listener,
        addr,
    }))
}

/// Serve components on the router of `sessions` until `cancel` fires; tracked, so shutdown
/// waits for component streams to close.
pub fn spawn(
    prepared: Prepared,
    sessions: &SessionControl,
    tracker: &TaskTracker,
    cancel: CancellationToken,
) {
    tracing::info!(domains = ?prepared.config, "components listening on {}", prepared.addr);
    tracker.spawn(lampfield_xmpp::serve_components(
        prepared.listener,
        prepared.config,
        sessions.router().clone(),
        cancel,
    ));
}
