//! `lampfield run`: start the node, wait for SIGINT or SIGTERM, shut down cleanly.

use anyhow::Context;
use lampfield_node::Config;
use tokio::signal::unix::{SignalKind, signal};

/// Run until a signal arrives.
pub(crate) async fn run(config: Config) -> anyhow::Result<()> {
    let mut terminate = signal(SignalKind::terminate()).context("SIGTERM handler")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("SIGINT handler")?;
    let node = lampfield_node::start(config)
        .await
        .context("cannot start the node")?;
    tokio::select! {
        _ = terminate.recv() => tracing::info!("SIGTERM received"),
        _ = interrupt.recv() => tracing::info!("SIGINT received"),
    }
    node.shutdown().await.context("flushing the database")
}
