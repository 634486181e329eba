//! Change notices: whenever local users' presence changes, signed notices with the
//! public view only (available or not) are gossiped to every organization. They carry
//! no detail, since gossip reaches all organizations; detail travels only in stanzas
//! rendered per viewer. Each user's counter lets a receiver see that it missed a change.
//!
//! Changes are gathered for [`BATCH_WINDOW`] and sent as one envelope (at most
//! [`MAX_NOTICES`] users, a user once with its latest state), so an organization with a
//! busy PBX stays far below the per-peer gossip rate its partners enforce.

use std::collections::HashMap;
use std::time::Duration;

use jid::BareJid;
use tokio_util::sync::CancellationToken;

use super::Links;
use super::wire::{MAX_NOTICES, NOTICE_TYPE, Notice, encode_notices};
use crate::engine::{Engine, FeedScope};
use lampfield_domain::access::Level;
use lampfield_domain::presence::Availability;

/// How long changes are gathered into one envelope.
const BATCH_WINDOW: Duration = Duration::from_millis(50);

/// Publish notices for changes until `cancel` fires.
pub(super) async fn run(links: Links, engine: Engine, cancel: CancellationToken) {
    let epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    let mut changes = engine.subscribe(FeedScope::All);
    let mut counters: HashMap<BareJid, u64> = HashMap::new();
    loop {
        let Some(first) = changes.next_until(&cancel).await else {
            return;
        };
        let mut users = vec![first];
        let window = tokio::time::sleep(BATCH_WINDOW);
        tokio::pin!(window);
        while users.len() < MAX_NOTICES {
            tokio::select! {
                () = &mut window => break,
                c = changes.next() => match c {
                    Some(u) if !users.contains(&u) => users.push(u),
                    Some(_) => {}
                    None => break,
                },
            }
        }
        let notices: Vec<Notice> = users
            .iter()
            .filter_map(|user| {
                let local = user.node()?.as_str().to_owned();
                let n = counters.entry(user.clone()).or_default();
                *n += 1;
                Some(Notice {
                    user: local,
                    available: public_available(&engine, user),
                    epoch,
                    n: *n,
                })
            })
            .collect();
        if notices.is_empty() {
            continue;
        }
        if let Err(e) = links
            .handle
            .publish(NOTICE_TYPE, encode_notices(&notices))
            .await
        {
            tracing::debug!(error = %e, "presence notices not published");
        }
    }
}

/// Whether the public level shows `user` available.
fn public_available(engine: &Engine, user: &BareJid) -> bool {
    match engine.snapshot(user) {
        Ok(mut s) => s.at(Level::Public).presence().availability != Availability::Offline,
        Err(_) => false,
    }
}
