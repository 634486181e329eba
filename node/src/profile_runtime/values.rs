//! The runtime's values: errors, the profile list entry, outside signals.

use jid::BareJid;
use serde::{Deserialize, Serialize};

use crate::engine::EngineError;
use crate::store::StoreError;
use lampfield_domain::calendar::IcsError;
use lampfield_domain::presence::ProfileName;
use lampfield_domain::profiles::{ProfileError, ProfileSpec, Scope};

/// Why a profile or calendar operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ProfileRuntimeError {
    /// No such local account.
    #[error("no such user: {0}")]
    NoSuchUser(BareJid),
    /// The profile rules refused it (unknown, duplicate, system, active, disabled, bounds).
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// The calendar file was refused as a whole.
    #[error(transparent)]
    Ics(#[from] IcsError),
    /// A value out of range; nothing was applied.
    #[error("{0}")]
    Invalid(String),
    /// The presence engine refused or failed.
    #[error(transparent)]
    Engine(EngineError),
    /// Storage failed; nothing was acknowledged.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

impl From<EngineError> for ProfileRuntimeError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::NoSuchUser(u) => ProfileRuntimeError::NoSuchUser(u),
            other => ProfileRuntimeError::Engine(other),
        }
    }
}

/// One profile as [`ProfileRuntime::list`](super::ProfileRuntime::list) shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileEntry {
    /// The name.
    pub name: ProfileName,
    /// The active one.
    pub active: bool,
    /// System-wide or the user's own.
    pub scope: Scope,
    /// Offered and usable by triggers.
    pub enabled: bool,
    /// Everything about it.
    pub spec: ProfileSpec,
}

/// A signal from outside that is not a presence source: an external meeting, the screen lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// An external meeting started (pascom T7).
    MeetingStarted,
    /// The external meeting ended: the profile from before it applies again.
    MeetingEnded,
    /// The screen was locked (XPhone T1).
    ScreenLocked,
    /// Input again after idle or lock.
    InputResumed,
}
