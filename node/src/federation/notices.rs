//! Change notices (docs/PROTOCOL.md, "Change notices"): a signed `presence-notice` request to
//! one organization at a time, never gossiped. An organization hears of a local user only if
//! one of its users watches that user (subscription `from`) and may see something (not
//! blocked), and only when what those watchers see changed: a change their level hides, or a
//! change of a user nobody there may see, sends nothing. Each user's counter per organization
//! lets the receiver see that it missed a notice, and so perhaps a stanza.
//!
//! "What they see" is the set of views the node renders for the watchers there
//! ([`XmlSnapshot`], the very rendering the gateway publishes), kept as a fingerprint: a
//! hash of the sorted, deduplicated serialized views. The same state always gives the same
//! fingerprint, the same counter and so the same payload bytes.
//!
//! Changes are gathered for [`BATCH_WINDOW`] and sent as one request per organization, so
//! an organization with a busy PBX stays far below the per-peer rate its partners enforce.
//! Memory: one fingerprint per (user, organization) pair that was ever sent a notice, so at
//! most users × configured organizations; a removed account's are forgotten
//! ([`SentViews::forget`]).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jid::BareJid;
use minidom::Element;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Links;
use super::wire::{MAX_NOTICES, NOTICE_TYPE, Notice, encode_notices};
use crate::adapters::presence::XmlSnapshot;
use crate::engine::{Engine, FeedScope};
use lampfield_domain::access::Level;

/// How long changes are gathered into one request per organization.
const BATCH_WINDOW: Duration = Duration::from_millis(50);
/// A request stops growing at this many payload bytes (the envelope limit is 16 KiB).
const BATCH_BYTES: usize = 12 * 1024;
/// Requests queued per organization while the previous one waits for its answer; beyond it
/// notices are dropped (the receiver sees the gap in the counter at the next one).
const ORG_QUEUE_LEN: usize = 16;

/// What one organization's watchers see of one user, hashed.
pub(super) type Fingerprint = [u8; 32];

/// What was last sent to each organization about each user.
#[derive(Clone, Debug, Default)]
pub(super) struct SentViews(Arc<Mutex<HashMap<BareJid, HashMap<String, Sent>>>>);

/// The last notice sent about one user to one organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sent {
    fingerprint: Fingerprint,
    n: u64,
}

impl SentViews {
    /// The counter of the notice owed to `org` about `user` now that its watchers see
    /// `fingerprint`; `None` when they saw exactly this last time.
    pub(super) fn advance(
        &self,
        user: &BareJid,
        org: &str,
        fingerprint: Fingerprint,
    ) -> Option<u64> {
        let mut sent = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let orgs = sent.entry(user.clone()).or_default();
        match orgs.get_mut(org) {
            Some(last) if last.fingerprint == fingerprint => None,
            Some(last) => {
                *last = Sent {
                    fingerprint,
                    n: last.n + 1,
                };
                Some(last.n)
            }
            None => {
                orgs.insert(org.to_owned(), Sent { fingerprint, n: 1 });
                Some(1)
            }
        }
    }

    /// Forget what was sent about a removed account.
    pub(super) fn forget(&self, user: &BareJid) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(user);
    }
}

/// What one organization's watchers see of a user: the fingerprint of their views, and
/// whether any of them sees the user available.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct OrgView {
    pub(super) fingerprint: Fingerprint,
    pub(super) available: bool,
}

/// The fingerprint of a set of views (`None`: shown offline): order and repetition do not
/// count, so it says only which distinct views the organization's watchers hold.
pub(super) fn org_view<'a>(views: impl IntoIterator<Item = Option<&'a Element>>) -> OrgView {
    let mut available = false;
    let mut serialized: Vec<String> = views
        .into_iter()
        .map(|view| match view {
            Some(el) => {
                available = true;
                String::from(el)
            }
            None => String::new(),
        })
        .collect();
    serialized.sort_unstable();
    serialized.dedup();
    let mut hash = Sha256::new();
    for view in &serialized {
        // Length-prefixed, so no two different sets hash the same bytes.
        hash.update((view.len() as u64).to_be_bytes());
        hash.update(view.as_bytes());
    }
    OrgView {
        fingerprint: hash.finalize().into(),
        available,
    }
}

/// What the watchers at each configured organization see of `user`, for the organizations
/// where at least one watcher is not blocked.
fn views_by_org(links: &Links, engine: &Engine, user: &BareJid) -> HashMap<String, OrgView> {
    let roster = match links.store.roster(user) {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(%user, error = %e, "roster unreadable; no change notice");
            return HashMap::new();
        }
    };
    // The snapshot is taken at the first watcher at an organization: most changes concern
    // users nobody at another organization watches.
    let mut snapshot = None;
    let mut views: HashMap<String, Vec<Option<Arc<Element>>>> = HashMap::new();
    for (watcher, _) in roster.iter().filter(|(_, c)| c.subscription.from) {
        let domain = watcher.domain().as_str().to_ascii_lowercase();
        if !links.organizations.contains(&domain) {
            continue;
        }
        let snapshot = snapshot.get_or_insert_with(|| XmlSnapshot::new(engine, &links.store, user));
        match snapshot.level_and_view(watcher) {
            Some((Level::Blocked, _)) | None => {}
            Some((_, view)) => views.entry(domain).or_default().push(view),
        }
    }
    views
        .into_iter()
        .map(|(org, v)| (org, org_view(v.iter().map(Option::as_deref))))
        .collect()
}

/// Send notices for changes until `cancel` fires.
pub(super) async fn run(links: Links, engine: Engine, sent: SentViews, cancel: CancellationToken) {
    let epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    let mut changes = engine.subscribe(FeedScope::All);
    let mut queues: HashMap<String, mpsc::Sender<Vec<u8>>> = HashMap::new();
    loop {
        let Some(first) = changes.next_until(&cancel).await else {
            return;
        };
        let mut users = vec![first];
        let window = tokio::time::sleep(BATCH_WINDOW);
        tokio::pin!(window);
        let mut seen: HashSet<BareJid> = users.iter().cloned().collect();
        loop {
            tokio::select! {
                () = &mut window => break,
                c = changes.next() => match c {
                    Some(u) => if seen.insert(u.clone()) { users.push(u) },
                    None => break,
                },
            }
        }
        let mut by_org: HashMap<String, Vec<Notice>> = HashMap::new();
        for user in &users {
            let Some(local) = user.node().map(|n| n.as_str().to_owned()) else {
                continue;
            };
            for (org, view) in views_by_org(&links, &engine, user) {
                if let Some(n) = sent.advance(user, &org, view.fingerprint) {
                    by_org.entry(org).or_default().push(Notice {
                        user: local.clone(),
                        available: view.available,
                        epoch,
                        n,
                    });
                }
            }
        }
        for (org, notices) in by_org {
            let queue = queues.entry(org.clone()).or_insert_with(|| {
                let (tx, rx) = mpsc::channel(ORG_QUEUE_LEN);
                tokio::spawn(send_to(links.clone(), org.clone(), rx, cancel.clone()));
                tx
            });
            for payload in payloads(&notices) {
                if queue.try_send(payload).is_err() {
                    tracing::debug!(%org, "change notice queue full; notices dropped");
                }
            }
        }
    }
}

/// The requests that carry `notices`: each at most [`MAX_NOTICES`] notices and about
/// [`BATCH_BYTES`] bytes (a notice larger than that goes alone).
fn payloads(notices: &[Notice]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut batch: Vec<Notice> = Vec::new();
    let mut bytes = 0;
    for notice in notices {
        let size = notice.user.len() + 64;
        if !batch.is_empty() && (batch.len() == MAX_NOTICES || bytes + size > BATCH_BYTES) {
            out.push(encode_notices(&batch));
            batch.clear();
            bytes = 0;
        }
        bytes += size;
        batch.push(notice.clone());
    }
    if !batch.is_empty() {
        out.push(encode_notices(&batch));
    }
    out
}

/// Send `org`'s notices one request at a time, in order.
async fn send_to(
    links: Links,
    org: String,
    mut rx: mpsc::Receiver<Vec<u8>>,
    cancel: CancellationToken,
) {
    loop {
        let payload = tokio::select! {
            () = cancel.cancelled() => return,
            p = rx.recv() => match p { Some(p) => p, None => return },
        };
        // A notice that does not arrive is not sent again: the next one shows the receiver
        // the gap, and a link coming back up resynchronizes anyway.
        if let Err(e) = links.handle.request(&org, NOTICE_TYPE, payload).await {
            tracing::debug!(%org, error = %e, "change notices not delivered");
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_is_the_set_of_views() {
        let show = |s: &str| -> Element {
            format!("<presence xmlns='jabber:client'><show>{s}</show></presence>")
                .parse()
                .unwrap()
        };
        let (away, dnd) = (show("away"), show("dnd"));
        let one = org_view([Some(&away), None]);
        assert!(one.available);
        // Order and repetition say nothing.
        assert_eq!(one, org_view([None, Some(&away), Some(&away.clone())]));
        assert_ne!(one.fingerprint, org_view([Some(&dnd), None]).fingerprint);
        assert_ne!(one.fingerprint, org_view([Some(&away)]).fingerprint);
        let offline = org_view([None, None]);
        assert!(!offline.available);
        assert_eq!(offline, org_view([None]));
    }

    #[test]
    fn a_notice_is_owed_only_when_the_views_changed() {
        let sent = SentViews::default();
        let alice = BareJid::new("alice@org0.test").unwrap();
        let (a, b) = ([1; 32], [2; 32]);
        assert_eq!(sent.advance(&alice, "org1.test", a), Some(1));
        assert_eq!(sent.advance(&alice, "org1.test", a), None);
        assert_eq!(sent.advance(&alice, "org2.test", a), Some(1));
        assert_eq!(sent.advance(&alice, "org1.test", b), Some(2));
        assert_eq!(sent.advance(&alice, "org1.test", a), Some(3));
        sent.forget(&alice);
        assert!(sent.0.lock().unwrap().is_empty());
        assert_eq!(sent.advance(&alice, "org1.test", a), Some(1));
    }

    #[test]
    fn large_batches_are_split() {
        let notice = |i: usize| Notice {
            user: format!("user{i}"),
            available: true,
            epoch: 1,
            n: 1,
        };
        let many: Vec<Notice> = (0..MAX_NOTICES + 1).map(notice).collect();
        let out = payloads(&many);
        assert_eq!(out.len(), 2);
        let decoded: usize = out
            .iter()
            .map(|p| super::super::wire::decode_notices(p).unwrap().len())
            .sum();
        assert_eq!(decoded, MAX_NOTICES + 1);
        let long = Notice {
            user: "x".repeat(BATCH_BYTES),
            ..notice(0)
        };
        assert_eq!(payloads(&[notice(1), long, notice(2)]).len(), 3);
    }
}
