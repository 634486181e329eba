//! Change notices: whenever a local user's presence changes, a signed notice with the
//! public view only (available or not) is gossiped to every organization. It carries
//! no detail, since gossip reaches all organizations; detail travels only in stanzas
//! rendered per viewer. Its counter lets a receiver see that it missed a change.

use std::collections::HashMap;

use jid::BareJid;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use super::Shared;
use super::wire::{NOTICE_TYPE, Notice};
use crate::access::Level;
use crate::engine::Engine;
use crate::presence::Availability;

/// Publish a notice for each change until `cancel` fires.
pub(super) async fn run(shared: Shared, engine: Engine, cancel: CancellationToken) {
    let epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    let mut changes = engine.changes();
    let mut counters: HashMap<BareJid, u64> = HashMap::new();
    loop {
        let user = tokio::select! {
            () = cancel.cancelled() => return,
            c = changes.recv() => match c {
                Ok(user) => user,
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            },
        };
        let Some(local) = user.node() else { continue };
        let available = match engine.snapshot(&user) {
            Ok(mut s) => s.at(Level::Public).presence().availability != Availability::Offline,
            Err(_) => false,
        };
        let n = counters.entry(user.clone()).or_default();
        *n += 1;
        let notice = Notice {
            user: local.as_str().to_owned(),
            available,
            epoch,
            n: *n,
        };
        if let Err(e) = shared.handle.publish(NOTICE_TYPE, notice.encode()).await {
            tracing::debug!(error = %e, "presence notice not published");
        }
    }
}
