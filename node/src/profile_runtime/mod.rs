//! The profile runtime: the I/O side of `profiles` and `calendar` (docs/PROFILES.md).
//!
//! Per user it keeps, in sled, the user's own profiles, trigger settings, the profile state
//! machine's state and the appointments. Every input — an API or CLI call, a change the presence
//! engine reports (a first session up, the last one down, an idle report), or the one timer for
//! [`next_trigger_time`] — becomes one [`Event`] for [`on_event`] under the user's write lock; the
//! new state is stored and flushed, then the returned effects are carried out in order: actions
//! to the [`Connector`], queue actions as engine `Queue` changes, and the active profile with its
//! forwarding as one engine `Profile` change. The appointments the presence model should see are
//! handed over as an engine `Calendar` change, filtered by the user's sharing choice.
//!
//! The API others call (the XMPP ad-hoc commands of XEP-0050, the integration API, the CLI):
//! - [`ProfileRuntime::list`]: every profile the user can use, with `active` set on the active one;
//! - [`ProfileRuntime::activate`]: a manual switch to a profile by name (refused for unknown or
//!   disabled ones);
//! - [`ProfileRuntime::deactivate`]: a manual switch to "no profile".
//!
//! Everything else (create, update, delete, settings, calendar, external meeting) is used by the
//! integration API and the CLI.

mod calendar;
mod effects;
mod sessions;
mod timer;
mod values;

use std::sync::Arc;

use jid::BareJid;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::ProfilesConfig;
use crate::connector::Connector;
use crate::engine::{Engine, now};
use crate::store::Store;
use lampfield_domain::calendar::CalendarRecord;
use lampfield_domain::presence::{ProfileName, Timestamp};
use lampfield_domain::profiles::{
    Active, Chain, Ctx, Editor, Event, Profile, ProfileBook, ProfileRecord, ProfileSettings,
    ProfileSpec, ProfileState, Scope, next_trigger_time, on_event,
};

pub use calendar::ImportSummary;
pub use values::{ProfileEntry, ProfileRuntimeError, Signal};

/// Most appointments kept per user (an import beyond it is cut, and says so).
pub const MAX_STORED_APPOINTMENTS: usize = 5_000;
/// Most time triggers per user.
pub const MAX_TIME_TRIGGERS: usize = 64;

/// Cheap `Clone` handle over the runtime.
#[derive(Clone)]
pub struct ProfileRuntime {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ProfileRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProfileRuntime").finish_non_exhaustive()
    }
}

struct Inner {
    engine: Engine,
    store: Store,
    system: Vec<Profile>,
    config: ProfilesConfig,
    connector: Connector,
    timers: crate::engine::Timers,
    writers: lampfield_stripes::Stripes,
}

/// One user's profile data while an event is applied.
struct Data {
    book: ProfileBook,
    settings: Option<ProfileSettings>,
    state: Option<ProfileState>,
    calendar: CalendarRecord,
}

impl ProfileRuntime {
    /// Start the runtime: evaluate every stored user once ([`Event::NodeStarted`], so triggers
    /// that fired while the node was down apply), then follow the engine's change feed and the
    /// timer until `cancel`.
    pub fn start(
        engine: Engine,
        store: Store,
        config: &ProfilesConfig,
        connector: Connector,
        tracker: &TaskTracker,
        cancel: CancellationToken,
    ) -> ProfileRuntime {
        let profile_runtime = ProfileRuntime {
            inner: Arc::new(Inner {
                system: config.system_profiles(),
                config: config.clone(),
                engine: engine.clone(),
                store,
                connector,
                timers: crate::engine::Timers::default(),
                writers: lampfield_stripes::Stripes::default(),
            }),
        };
        let feed = engine.subscribe(crate::engine::FeedScope::All);
        let s = profile_runtime.clone();
        let c = cancel.clone();
        tracker.spawn(async move {
            s.evaluate_all(Event::NodeStarted).await;
            sessions::follow(s, feed, c).await;
        });
        tracker.spawn(timer::run(Arc::downgrade(&profile_runtime.inner), cancel));
        profile_runtime
    }

    /// Every profile `user` can use (system ones first), with the active one marked.
    pub fn list(&self, user: &BareJid) -> Result<Vec<ProfileEntry>, ProfileRuntimeError> {
        let data = self.load(user)?;
        let active = data.state.as_ref().and_then(|s| s.active.as_ref());
        Ok(data
            .book
            .all()
            .iter()
            .map(|p| ProfileEntry {
                name: p.name().clone(),
                active: active.is_some_and(|a| &a.profile == p.name()),
                scope: p.scope,
                enabled: p.spec.enabled,
                spec: p.spec.clone(),
            })
            .collect())
    }

    /// The active profile of `user`, if any.
    pub fn active(&self, user: &BareJid) -> Result<Option<Active>, ProfileRuntimeError> {
        Ok(self.load(user)?.state.and_then(|s| s.active))
    }

    /// Switch `user` to `name` by hand; returns the profile active afterwards.
    pub async fn activate(
        &self,
        user: &BareJid,
        name: &ProfileName,
    ) -> Result<Option<ProfileName>, ProfileRuntimeError> {
        let name = name.clone();
        self.apply(
            user,
            Event::Switch {
                profile: Some(name.clone()),
            },
            move |d| {
                d.book.activatable(&name)?;
                Ok(())
            },
        )
        .await
    }

    /// Switch `user` to "no profile" by hand; returns the profile active afterwards (one that
    /// an appointment or a meeting activates still applies).
    pub async fn deactivate(
        &self,
        user: &BareJid,
    ) -> Result<Option<ProfileName>, ProfileRuntimeError> {
        self.apply(user, Event::Switch { profile: None }, |_| Ok(()))
            .await
    }

    /// Create a user profile; the name must be new and is fixed from now on.
    pub async fn create(
        &self,
        user: &BareJid,
        name: ProfileName,
        spec: ProfileSpec,
    ) -> Result<(), ProfileRuntimeError> {
        self.apply(user, Event::Tick, move |d| {
            Ok(d.book.create(Editor::User, name, Scope::User, spec)?)
        })
        .await
        .map(drop)
    }

    /// Replace a user profile's settings (refused while it is active).
    pub async fn update(
        &self,
        user: &BareJid,
        name: &ProfileName,
        spec: ProfileSpec,
    ) -> Result<(), ProfileRuntimeError> {
        let name = name.clone();
        self.apply(user, Event::Tick, move |d| {
            let in_use = d.is_active(&name);
            Ok(d.book.update(Editor::User, &name, spec, in_use)?)
        })
        .await
        .map(drop)
    }

    /// Delete a user profile (refused while it is active, and for system profiles).
    pub async fn delete(
        &self,
        user: &BareJid,
        name: &ProfileName,
    ) -> Result<(), ProfileRuntimeError> {
        let name = name.clone();
        self.apply(user, Event::Tick, move |d| {
            let in_use = d.is_active(&name);
            Ok(d.book.delete(Editor::User, &name, in_use)?)
        })
        .await
        .map(drop)
    }

    /// Enable or disable one action of a chain without deleting it.
    pub async fn set_step(
        &self,
        user: &BareJid,
        name: &ProfileName,
        chain: Chain,
        index: usize,
        enabled: bool,
    ) -> Result<(), ProfileRuntimeError> {
        let name = name.clone();
        self.apply(user, Event::Tick, move |d| {
            let in_use = d.is_active(&name);
            Ok(d.book
                .set_step_enabled(Editor::User, &name, chain, index, enabled, in_use)?)
        })
        .await
        .map(drop)
    }

    /// `user`'s trigger settings (the node's defaults until the user sets their own).
    pub fn settings(&self, user: &BareJid) -> Result<ProfileSettings, ProfileRuntimeError> {
        let data = self.load(user)?;
        Ok(data
            .settings
            .unwrap_or_else(|| self.inner.config.default_settings()))
    }

    /// Replace `user`'s trigger settings.
    pub async fn set_settings(
        &self,
        user: &BareJid,
        settings: ProfileSettings,
    ) -> Result<(), ProfileRuntimeError> {
        if settings.time.len() > MAX_TIME_TRIGGERS {
            return Err(ProfileRuntimeError::Invalid(format!(
                "at most {MAX_TIME_TRIGGERS} time triggers"
            )));
        }
        self.apply(user, Event::Tick, move |d| {
            d.settings = Some(settings);
            Ok(())
        })
        .await
        .map(drop)
    }

    /// An external meeting, the screen lock or input again.
    pub async fn signal(
        &self,
        user: &BareJid,
        signal: Signal,
    ) -> Result<Option<ProfileName>, ProfileRuntimeError> {
        let event = match signal {
            Signal::MeetingStarted => Event::MeetingStarted,
            Signal::MeetingEnded => Event::MeetingEnded,
            Signal::ScreenLocked => Event::ScreenLocked,
            Signal::InputResumed => Event::InputResumed,
        };
        self.apply(user, event, |_| Ok(())).await
    }

    /// Apply `event` to `user` after `edit` (which may refuse: then nothing is stored or done);
    /// store, carry out the effects, re-arm the timer. Returns the profile active afterwards.
    async fn apply(
        &self,
        user: &BareJid,
        event: Event,
        edit: impl FnOnce(&mut Data) -> Result<(), ProfileRuntimeError>,
    ) -> Result<Option<ProfileName>, ProfileRuntimeError> {
        let _writer = self.write_lock(user).await;
        let mut data = self.load(user)?;
        let stored_calendar = data.calendar.clone();
        edit(&mut data)?;
        let now = now();
        data.calendar.appointments.retain(|a| now < a.end);
        let settings = data
            .settings
            .clone()
            .unwrap_or_else(|| self.inner.config.default_settings());
        let state = match data.state.take() {
            Some(s) => s,
            None => self.fresh_state(user, now)?,
        };
        let ctx = Ctx {
            book: &data.book,
            settings: &settings,
            calendar: &data.calendar.appointments,
        };
        let (state, effects) = on_event(state, event, now, &ctx);
        let next = next_trigger_time(&state, now, &ctx);
        let active = state.active.as_ref().map(|a| a.profile.clone());
        let record = ProfileRecord {
            profiles: data.book.user_profiles().cloned().collect(),
            settings: data.settings.clone(),
            state: Some(state),
        };
        self.inner.store.put_profile_record(user, &record).await?;
        if data.calendar != stored_calendar {
            self.inner
                .store
                .put_calendar_record(user, &data.calendar)
                .await?;
        }
        let sharing = data.calendar.sharing.unwrap_or_default();
        let result = effects::carry_out(&self.inner, user, effects, active.as_ref(), now).await;
        let handed = effects::hand_over_calendar(&self.inner, user, &ctx, sharing, now).await;
        self.inner
            .timers
            .set(user, timer::wake_at(next, &data.calendar.appointments, now));
        result.and(handed)?;
        Ok(active)
    }

    /// A state for a user seen for the first time: the sessions that are up count already.
    fn fresh_state(
        &self,
        user: &BareJid,
        now: Timestamp,
    ) -> Result<ProfileState, ProfileRuntimeError> {
        let record = self.inner.engine.record(user)?;
        let mut state = ProfileState::new(now);
        state.sessions = u32::try_from(record.sources.clients.len()).unwrap_or(u32::MAX);
        Ok(state)
    }

    fn load(&self, user: &BareJid) -> Result<Data, ProfileRuntimeError> {
        let store = &self.inner.store;
        if !store.account_exists(user)? {
            return Err(ProfileRuntimeError::NoSuchUser(user.clone()));
        }
        let record = store.profile_record(user)?.unwrap_or_default();
        let calendar = store.calendar_record(user)?.unwrap_or_default();
        Ok(Data {
            book: ProfileBook::new(self.inner.system.clone(), record.profiles),
            settings: record.settings,
            state: record.state,
            calendar,
        })
    }

    /// Apply `event` to every user with stored profile data (node start).
    async fn evaluate_all(&self, event: Event) {
        let users = match self.inner.store.users_with_profiles() {
            Ok(u) => u,
            Err(e) => {
                tracing::error!(error = %e, "cannot list users with profiles");
                return;
            }
        };
        for user in users {
            if let Err(e) = self.apply(&user, event.clone(), |_| Ok(())).await {
                tracing::warn!(%user, error = %e, "profile evaluation failed");
            }
        }
    }

    /// Turn what the engine reports about `user` into session and idle events.
    pub(crate) async fn observe(&self, user: &BareJid) {
        let Ok(Some(record)) = self.inner.store.profile_record(user) else {
            return;
        };
        let Some(state) = record.state else { return };
        let Ok(presence) = self.inner.engine.record(user) else {
            return;
        };
        for event in sessions::events(&state, &presence, now()) {
            if let Err(e) = self.apply(user, event, |_| Ok(())).await {
                tracing::warn!(%user, error = %e, "profile trigger failed");
                return;
            }
        }
    }

    async fn write_lock(&self, user: &BareJid) -> tokio::sync::MutexGuard<'_, ()> {
        self.inner.writers.lock(user).await
    }
}

impl Data {
    fn is_active(&self, name: &ProfileName) -> bool {
        self.state
            .as_ref()
            .and_then(|s| s.active.as_ref())
            .is_some_and(|a| &a.profile == name)
    }
}
