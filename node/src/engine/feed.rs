//! The engine's change feed: the one way out of the engine for "this user's presence (or who may
//! see what of it) changed".
//!
//! Every subscriber gets its own [`ChangeFeed`], a queue holding each user at most once: a user
//! who changes ten times while the subscriber is busy is waiting there once, and the subscriber
//! reads the latest state when it gets to them. So a feed never lags and never loses a user's
//! latest change, its memory is bounded by the number of users, and a slow subscriber delays
//! nobody else. The engine holds only a weak reference to each queue: a dropped feed is forgotten
//! on the next change.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use jid::BareJid;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Which changes a feed carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedScope {
    /// Every change.
    All,
    /// Every change but those a connected client made to its own presence: the XMPP gateway
    /// fans those out itself as they arrive, so the path that publishes the rest (sources,
    /// rules, timers) over XMPP would only send them twice.
    NotByClients,
}

/// What made a user's presence change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    /// A connected client's own presence or activity.
    Client,
    /// Anything else: a durable source, the rules, a timer.
    Node,
}

impl FeedScope {
    fn carries(self, cause: Cause) -> bool {
        match self {
            FeedScope::All => true,
            FeedScope::NotByClients => cause == Cause::Node,
        }
    }
}

/// The subscribers of one engine.
#[derive(Default)]
pub(crate) struct Feeds {
    subscribers: Mutex<Vec<(FeedScope, Weak<Queue>)>>,
}

impl Feeds {
    /// A new feed, carrying changes from now on.
    pub(crate) fn subscribe(&self, scope: FeedScope) -> ChangeFeed {
        let queue = Arc::new(Queue::default());
        self.lock().push((scope, Arc::downgrade(&queue)));
        ChangeFeed { queue }
    }

    /// Queue `user` on every feed that carries `cause`, dropping feeds nobody reads any more.
    pub(crate) fn announce(&self, user: &BareJid, cause: Cause) {
        self.lock().retain(|(scope, queue)| {
            let Some(queue) = queue.upgrade() else {
                return false;
            };
            if scope.carries(cause) {
                queue.push(user);
            }
            true
        });
    }

    /// Feeds still subscribed (some may have been dropped since the last change).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<(FeedScope, Weak<Queue>)>> {
        self.subscribers.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Feeds {
    /// The engine is gone: every feed ends once it has handed out what it holds.
    fn drop(&mut self) {
        for (_, queue) in self.lock().drain(..) {
            if let Some(queue) = queue.upgrade() {
                queue.close();
            }
        }
    }
}

/// One subscriber's changes: each changed user once, oldest first. Read the user's current state
/// after taking them from the feed; a change after that queues them again.
pub struct ChangeFeed {
    queue: Arc<Queue>,
}

impl std::fmt::Debug for ChangeFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeFeed").finish_non_exhaustive()
    }
}

impl ChangeFeed {
    /// The next changed user, waiting for one; `None` once the engine is gone and the feed is
    /// empty. Cancel-safe: a user is taken off the feed only when this returns.
    pub async fn next(&mut self) -> Option<BareJid> {
        loop {
            {
                let mut pending = self.queue.lock();
                if let Some(user) = pending.pop() {
                    return Some(user);
                }
                if pending.closed {
                    return None;
                }
            }
            // A push after the check above leaves a permit, so this cannot miss it.
            self.queue.wake.notified().await;
        }
    }

    /// [`next`](Self::next), or `None` as soon as `cancel` fires: the loop of every long-running
    /// subscriber.
    pub async fn next_until(&mut self, cancel: &CancellationToken) -> Option<BareJid> {
        tokio::select! {
            () = cancel.cancelled() => None,
            user = self.next() => user,
        }
    }

    /// The next changed user if one is waiting.
    pub fn try_next(&mut self) -> Option<BareJid> {
        self.queue.lock().pop()
    }
}

#[derive(Default)]
struct Queue {
    pending: Mutex<Pending>,
    wake: Notify,
}

#[derive(Default)]
struct Pending {
    order: VecDeque<BareJid>,
    queued: HashSet<BareJid>,
    closed: bool,
}

impl Pending {
    fn pop(&mut self) -> Option<BareJid> {
        let user = self.order.pop_front()?;
        self.queued.remove(&user);
        Some(user)
    }
}

impl Queue {
    fn push(&self, user: &BareJid) {
        let mut pending = self.lock();
        if pending.queued.insert(user.clone()) {
            pending.order.push_back(user.clone());
        }
        drop(pending);
        self.wake.notify_one();
    }

    fn close(&self) {
        self.lock().closed = true;
        self.wake.notify_one();
    }

    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn jid(s: &str) -> BareJid {
        BareJid::new(s).unwrap()
    }

    fn drain(feed: &mut ChangeFeed) -> Vec<BareJid> {
        std::iter::from_fn(|| feed.try_next()).collect()
    }

    #[test]
    fn repeated_changes_of_a_user_wait_once_in_first_change_order() {
        let feeds = Feeds::default();
        let mut feed = feeds.subscribe(FeedScope::All);
        let (alice, bob) = (jid("alice@example.org"), jid("bob@example.org"));
        for _ in 0..10 {
            feeds.announce(&alice, Cause::Node);
            feeds.announce(&bob, Cause::Client);
        }
        assert_eq!(drain(&mut feed), vec![alice.clone(), bob]);
        // Taken off the feed, a user is queued again by their next change.
        feeds.announce(&alice, Cause::Node);
        assert_eq!(drain(&mut feed), vec![alice]);
    }

    #[test]
    fn no_user_is_lost_however_many_change_and_memory_is_one_entry_per_user() {
        let feeds = Feeds::default();
        let mut feed = feeds.subscribe(FeedScope::All);
        let users: Vec<BareJid> = (0..10_000)
            .map(|i| jid(&format!("u{i}@example.org")))
            .collect();
        for _ in 0..3 {
            for user in &users {
                feeds.announce(user, Cause::Node);
            }
        }
        assert_eq!(feed.queue.lock().order.len(), users.len());
        assert_eq!(drain(&mut feed), users);
    }

    #[test]
    fn each_subscriber_reads_its_own_feed_in_its_scope() {
        let feeds = Feeds::default();
        let mut all = feeds.subscribe(FeedScope::All);
        let mut xmpp = feeds.subscribe(FeedScope::NotByClients);
        let (alice, bob) = (jid("alice@example.org"), jid("bob@example.org"));
        feeds.announce(&alice, Cause::Client);
        feeds.announce(&bob, Cause::Node);
        assert_eq!(drain(&mut all), vec![alice.clone(), bob.clone()]);
        // Reading one feed takes nothing from another.
        assert_eq!(drain(&mut xmpp), vec![bob.clone()]);
        feeds.announce(&alice, Cause::Node);
        assert_eq!(drain(&mut xmpp), vec![alice.clone()]);
        assert_eq!(drain(&mut all), vec![alice]);
    }

    #[test]
    fn a_dropped_subscriber_is_forgotten_on_the_next_change() {
        let feeds = Feeds::default();
        let mut kept = feeds.subscribe(FeedScope::All);
        let dropped = feeds.subscribe(FeedScope::All);
        let weak = Arc::downgrade(&dropped.queue);
        drop(dropped);
        assert!(weak.upgrade().is_none(), "its queue is freed at once");
        let alice = jid("alice@example.org");
        feeds.announce(&alice, Cause::Node);
        assert_eq!(feeds.len(), 1);
        assert_eq!(drain(&mut kept), vec![alice]);
    }

    #[tokio::test]
    async fn next_waits_for_a_change_and_ends_with_the_engine() {
        let feeds = Arc::new(Feeds::default());
        let mut feed = feeds.subscribe(FeedScope::All);
        let alice = jid("alice@example.org");
        let waiting = tokio::spawn(async move {
            let first = feed.next().await;
            (first, feed)
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        feeds.announce(&alice, Cause::Node);
        let (first, mut feed) = waiting.await.unwrap();
        assert_eq!(first, Some(alice.clone()));

        // Changes still queued are handed out after the engine is gone, then the feed ends.
        feeds.announce(&alice, Cause::Node);
        drop(feeds);
        assert_eq!(feed.next().await, Some(alice));
        assert_eq!(feed.next().await, None);
    }

    #[tokio::test]
    async fn next_until_hands_out_changes_and_stops_when_cancelled() {
        let feeds = Feeds::default();
        let mut feed = feeds.subscribe(FeedScope::All);
        let cancel = CancellationToken::new();
        let alice = jid("alice@example.org");
        feeds.announce(&alice, Cause::Node);
        assert_eq!(feed.next_until(&cancel).await, Some(alice));
        cancel.cancel();
        assert_eq!(feed.next_until(&cancel).await, None);
    }
}
