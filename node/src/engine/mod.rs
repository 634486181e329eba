//! The presence engine: owns every user's live sources, aggregates them on each event, and tells
//! the outgoing paths when a user's presence changed.
//!
//! Inputs arrive from the XMPP adapter (a client's own presence, memory only: sessions end with the
//! process) and from the integration API, the profile and calendar modules (durable: stored and
//! flushed before the call returns, so an acknowledged change survives a crash). After each input
//! the engine aggregates (`presence::aggregate`), and when `presence::changed` says the result
//! differs it queues the user on every [`ChangeFeed`] (`feed`): the XMPP publisher, the profile
//! runtime, federation notices and the API's event streams each read their own. One timer task
//! wakes it when a presence changes by itself (a setting lapses, the idle threshold passes).
//!
//! Outgoing paths never read sources: they take a [`Snapshot`] and ask it for the view of each
//! viewer, which goes through `access::view_for` and nothing else.

pub(crate) mod feed;
mod snapshot;
mod timers;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime};

use jid::BareJid;
use tokio_util::sync::CancellationToken;

pub use feed::{ChangeFeed, FeedScope};
pub use lampfield_domain::record::{
    ChangeError, IDLE_THRESHOLD_RANGE, MAX_APPOINTMENTS, MAX_ENTRIES_PER_KIND, SourceChange,
    UserRecord, UserSettings,
};
pub use snapshot::Snapshot;
pub(crate) use timers::Timers;

use crate::store::{Store, StoreError};
use lampfield_domain::access::{Detail, NodePolicy, RuleError, Rules, View};
use lampfield_domain::presence::{
    ClientPresence, EffectivePresence, Timestamp, aggregate, changed, next_transition,
};

/// Why the engine refused or failed an input.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// No such local account.
    #[error("no such user: {0}")]
    NoSuchUser(BareJid),
    /// The change is not acceptable; nothing was applied.
    #[error(transparent)]
    Change(#[from] ChangeError),
    /// The rules are not acceptable; nothing was applied.
    #[error(transparent)]
    Rules(#[from] RuleError),
    /// Storage failed; the change was not acknowledged.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

/// Node-wide settings of the engine.
#[derive(Debug, Clone, Copy)]
pub struct EngineConfig {
    /// Idle threshold for users without their own.
    pub idle_threshold: Duration,
    /// Access defaults and ceilings.
    pub policy: NodePolicy,
}

/// Cheap `Clone` handle over the engine.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

struct Inner {
    store: Store,
    config: EngineConfig,
    users: Mutex<HashMap<BareJid, Live>>,
    /// Serializes read-modify-store of one user's durable record, striped by user; held across
    /// the flush, never across anything else.
    writers: lampfield_stripes::Stripes,
    timers: timers::Timers,
    feeds: feed::Feeds,
}

/// One user's state in memory.
struct Live {
    record: UserRecord,
    rules: Rules,
    effective: EffectivePresence,
}

impl Engine {
    /// An engine over `store`, with its timer task stopped by `cancel`.
    pub fn start(store: Store, config: EngineConfig, cancel: CancellationToken) -> Engine {
        let inner = Arc::new(Inner {
            store,
            config,
            users: Mutex::new(HashMap::new()),
            writers: lampfield_stripes::Stripes::default(),
            timers: timers::Timers::default(),
            feeds: feed::Feeds::default(),
        });
        tokio::spawn(timer_task(Arc::downgrade(&inner), cancel));
        Engine { inner }
    }

    /// A feed of the users whose presence (or who may see what of it) changes from now on, in
    /// `scope`; see [`ChangeFeed`].
    pub fn subscribe(&self, scope: FeedScope) -> ChangeFeed {
        self.inner.feeds.subscribe(scope)
    }

    /// The node's access policy.
    pub fn policy(&self) -> NodePolicy {
        self.inner.config.policy
    }

    /// A connected client's own presence (`None`: it went unavailable or its session ended).
    /// Memory only. Returns whether the effective presence changed.
    pub fn client(
        &self,
        user: &BareJid,
        resource: &str,
        client: Option<ClientPresence>,
    ) -> Result<bool, EngineError> {
        let now = now();
        let mut users = self.users();
        let live = self.live(&mut users, user)?;
        live.record.set_client(resource, client);
        let changed = self.recompute(user, live, now);
        drop(users);
        if changed {
            self.announce(user, feed::Cause::Client);
        }
        Ok(changed)
    }

    /// XEP-0352 for one connected resource: `inactive` marks it idle from now (keeping an earlier
    /// idle time its presence reported), `active` clears it. Memory only. Returns whether the
    /// effective presence changed.
    pub fn client_active(
        &self,
        user: &BareJid,
        resource: &str,
        active: bool,
    ) -> Result<bool, EngineError> {
        let now = now();
        let mut users = self.users();
        let live = self.live(&mut users, user)?;
        let Some(client) = live.record.sources.clients.get_mut(resource) else {
            return Ok(false);
        };
        match (active, client.idle_since) {
            (true, None) | (false, Some(_)) => return Ok(false),
            (true, Some(_)) => client.idle_since = None,
            (false, None) => client.idle_since = Some(now),
        }
        let changed = self.recompute(user, live, now);
        drop(users);
        if changed {
            self.announce(user, feed::Cause::Client);
        }
        Ok(changed)
    }

    /// Apply a durable change: checked, stored and flushed, then published if the presence
    /// changed. Returns the effective presence afterwards.
    pub async fn update(
        &self,
        user: &BareJid,
        change: SourceChange,
    ) -> Result<EffectivePresence, EngineError> {
        let _writer = self.write_lock(user).await;
        let now = now();
        let mut next = {
            let mut users = self.users();
            self.live(&mut users, user)?.record.clone()
        };
        next.apply(change)?;
        next.prune(now);
        self.inner.store.put_presence_record(user, &next).await?;
        let mut users = self.users();
        let live = self.live(&mut users, user)?;
        // Clients may have changed while the record was stored: keep the live ones.
        next.sources.clients = std::mem::take(&mut live.record.sources.clients);
        live.record = next;
        let changed = self.recompute(user, live, now);
        let effective = live.effective.clone();
        drop(users);
        if changed {
            self.announce(user, feed::Cause::Node);
        }
        Ok(effective)
    }

    /// Replace `user`'s access rules: stored, then every viewer gets their new view at once.
    pub async fn set_rules(&self, user: &BareJid, rules: Rules) -> Result<(), EngineError> {
        rules.check()?;
        self.edit_rules(user, |r| *r = rules).await
    }

    /// Edit `user`'s access rules in place with `edit`, under the user's write lock so that no
    /// other change is lost between the read and the write; then as [`Engine::set_rules`].
    /// Nothing is stored when the result breaks the bounds.
    pub async fn edit_rules(
        &self,
        user: &BareJid,
        edit: impl FnOnce(&mut Rules),
    ) -> Result<(), EngineError> {
        let _writer = self.write_lock(user).await;
        let mut rules = {
            let mut users = self.users();
            self.live(&mut users, user)?.rules.clone()
        };
        edit(&mut rules);
        rules.check()?;
        self.inner.store.put_rules(user, &rules).await?;
        {
            let mut users = self.users();
            self.live(&mut users, user)?.rules = rules;
        }
        self.announce(user, feed::Cause::Node);
        Ok(())
    }

    /// Read `user`'s access rules in place, without copying them.
    pub fn with_rules<R>(
        &self,
        user: &BareJid,
        read: impl FnOnce(&Rules) -> R,
    ) -> Result<R, EngineError> {
        let mut users = self.users();
        Ok(read(&self.live(&mut users, user)?.rules))
    }

    /// `user`'s access rules.
    pub fn rules(&self, user: &BareJid) -> Result<Rules, EngineError> {
        let mut users = self.users();
        Ok(self.live(&mut users, user)?.rules.clone())
    }

    /// The stored record (sources and settings) of `user`, with the live clients.
    pub fn record(&self, user: &BareJid) -> Result<UserRecord, EngineError> {
        let mut users = self.users();
        Ok(self.live(&mut users, user)?.record.clone())
    }

    /// `user`'s presence frozen now, for one fan-out or one API answer.
    pub fn snapshot(&self, user: &BareJid) -> Result<Snapshot, EngineError> {
        let now = now();
        let mut users = self.users();
        let live = self.live(&mut users, user)?;
        let detail = Detail {
            presence: live.effective.clone(),
            appointments: live.record.sources.calendar.clone(),
            forwarding: live.record.forwarding.clone(),
        };
        Ok(Snapshot::new(
            user.clone(),
            detail,
            live.rules.clone(),
            self.inner.config.policy,
            now,
            live.record.settings.utc_offset,
        ))
    }

    /// The view `viewer` may see of `owner`; an unknown owner looks exactly like an offline one.
    pub fn view(&self, owner: &BareJid, viewer: &BareJid, groups: &[String]) -> View {
        match self.snapshot(owner) {
            Ok(mut s) => s.for_viewer(viewer, groups).clone(),
            Err(_) => View::unavailable(),
        }
    }

    /// Forget a removed account's live state.
    pub fn forget(&self, user: &BareJid) {
        self.users().remove(user);
        self.inner.timers.set(user, None);
    }

    /// Re-aggregate `user` at `now`; true if the result changed. Re-arms the user's timer.
    fn recompute(&self, user: &BareJid, live: &mut Live, now: Timestamp) -> bool {
        let settings = live.record.settings(self.inner.config.idle_threshold);
        let fresh = aggregate(&live.record.sources, now, &settings);
        let differs = changed(&live.effective, &fresh);
        live.effective = fresh;
        let next = next_transition(&live.record.sources, now, &settings);
        self.inner.timers.set(user, next);
        differs
    }

    /// Queue `user` on the change feeds that carry `cause`.
    fn announce(&self, user: &BareJid, cause: feed::Cause) {
        tracing::debug!(%user, ?cause, "presence changed");
        self.inner.feeds.announce(user, cause);
    }

    /// The live state of a local account, loaded from the store on first use.
    fn live<'a>(
        &self,
        users: &'a mut HashMap<BareJid, Live>,
        user: &BareJid,
    ) -> Result<&'a mut Live, EngineError> {
        use std::collections::hash_map::Entry;
        match users.entry(user.clone()) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(e) => {
                let store = &self.inner.store;
                if !store.account_exists(user)? {
                    return Err(EngineError::NoSuchUser(user.clone()));
                }
                let record = store.presence_record(user)?.unwrap_or_default();
                let rules = store.rules(user)?;
                let settings = record.settings(self.inner.config.idle_threshold);
                let effective = aggregate(&record.sources, now(), &settings);
                Ok(e.insert(Live {
                    record,
                    rules,
                    effective,
                }))
            }
        }
    }

    /// Re-aggregate users whose timer is due.
    fn tick(&self, now: Timestamp) {
        for user in self.inner.timers.due(now) {
            let changed = {
                let mut users = self.users();
                let Some(live) = users.get_mut(&user) else {
                    continue;
                };
                self.recompute(&user, live, now)
            };
            if changed {
                self.announce(&user, feed::Cause::Node);
            }
        }
    }

    fn users(&self) -> MutexGuard<'_, HashMap<BareJid, Live>> {
        self.inner.users.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn write_lock(&self, user: &BareJid) -> tokio::sync::MutexGuard<'_, ()> {
        self.inner.writers.lock(user).await
    }
}

/// The wall clock as the model's timestamp.
pub fn now() -> Timestamp {
    Timestamp::from_system_time(SystemTime::now())
}

/// Sleeps until the earliest pending instant, re-aggregates the users due, repeats. Between turns
/// it holds only a weak reference (a strong one while it sleeps, at most a minute), so the
/// engine's memory goes soon after the last handle does.
async fn timer_task(inner: Weak<Inner>, cancel: CancellationToken) {
    loop {
        let Some(inner) = inner.upgrade() else { return };
        if !inner.timers.sleep(&cancel).await {
            return;
        }
        Engine { inner }.tick(now());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
