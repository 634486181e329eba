//! A presence profile: a named presence plus forwarding, queue actions and action chains
//! (XPhone P2/P3, pascom P5/A1–A6, ProCall P1).

use serde::{Deserialize, Serialize};

use crate::presence::{Activity, LineId, Note, ProfileName, QueueId, Settable, TextError};

/// Longest action chain (on enter or on leave).
pub const MAX_CHAIN_STEPS: usize = 32;
/// Most queue actions per profile.
pub const MAX_QUEUE_ACTIONS: usize = 16;
/// Most user profiles per user.
pub const MAX_USER_PROFILES: usize = 64;

/// Colour of the profile's symbol (pascom S15). A fixed list, so every client can render it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Colour {
    /// Reachable.
    #[default]
    Green,
    /// Away-ish.
    Yellow,
    /// Orange.
    Orange,
    /// Do not disturb.
    Red,
    /// Blue.
    Blue,
    /// Grey.
    Grey,
}

/// The profile's symbol (pascom S15: "Haus" for home office).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Symbol {
    /// A plain dot.
    #[default]
    Dot,
    /// Office building.
    Office,
    /// House (home office).
    House,
    /// Phone.
    Phone,
    /// People at a table (meeting).
    Meeting,
    /// Cup (break).
    Cup,
    /// Plate (lunch).
    Plate,
    /// Bed (sick).
    Bed,
    /// Plane (business trip, vacation).
    Plane,
    /// Bar (do not disturb).
    Bar,
}

/// Where calls go.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForwardTarget {
    /// The user's voicemail box.
    Voicemail,
    /// A number, extension or SIP URI.
    Number(LineId),
}

/// What a profile does to call forwarding when it becomes active (XPhone P2/P3); the forwarding
/// that is then in effect, as viewers see it, is `access::Forwarding`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForwardingChange {
    /// "Umleitung nicht ändern": leave any manual or automatic forwarding as it is (keeps
    /// Follow-Me, XPhone D7).
    #[default]
    Unchanged,
    /// "Anrufumleitung aus": end any forwarding.
    Off,
    /// Forward to this target.
    To(ForwardTarget),
}

/// A queue (team) operation (pascom A4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueOp {
    /// Log in.
    LogIn,
    /// Log out.
    LogOut,
    /// Pause.
    Pause,
    /// End the pause.
    Unpause,
}

/// Which queues an operation applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueScope {
    /// Every queue the user belongs to.
    All,
    /// One queue.
    One(QueueId),
}

/// One queue action.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QueueAction {
    /// What to do.
    pub op: QueueOp,
    /// Where.
    pub scope: QueueScope,
}

/// Device family of a Follow-Me change (pascom A2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceFamily {
    /// All devices.
    All,
    /// Mobile phones.
    Mobile,
    /// Softphones.
    Softphone,
    /// Desk phones.
    DeskPhone,
    /// DECT handsets.
    Dect,
}

/// One action of a chain; connectors (webhook, log) carry it to the PBX.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Action {
    /// Set a forwarding (pascom A6).
    SetForwarding {
        /// Target.
        target: ForwardTarget,
    },
    /// Remove the forwarding (pascom A6).
    ClearForwarding,
    /// A queue action (pascom A4).
    Queue {
        /// The action.
        action: QueueAction,
    },
    /// Switch Follow-Me for a device family (pascom A2).
    FollowMe {
        /// Which devices.
        family: DeviceFamily,
        /// On or off.
        enabled: bool,
    },
    /// GSM fallback for all own mobiles (pascom A3).
    GsmMode {
        /// On or off.
        enabled: bool,
    },
    /// Take a hot-desk workplace, or leave the current one with `None` (pascom A5).
    Workplace {
        /// The workplace.
        workplace: Option<LineId>,
    },
}

/// An action in a chain; a disabled step stays in place but does not run (pascom P8).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Step {
    /// The action.
    pub action: Action,
    /// Runs only when enabled.
    pub enabled: bool,
}

impl Step {
    /// An enabled step.
    pub fn new(action: Action) -> Self {
        Step {
            action,
            enabled: true,
        }
    }
}

/// Which chain of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Chain {
    /// Runs when the profile becomes active.
    OnEnter,
    /// Runs when the profile is left.
    OnLeave,
}

/// Everything about a profile except its name, which never changes (XPhone: "Den Namen können
/// Sie nachträglich nicht anpassen"). Edits replace the whole spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProfileSpec {
    /// Offered to the user and usable by triggers (XPhone "Aktiviert").
    pub enabled: bool,
    /// The availability it sets.
    pub availability: Settable,
    /// An optional activity ("Home office").
    pub activity: Option<Activity>,
    /// Symbol.
    pub symbol: Symbol,
    /// Colour.
    pub colour: Colour,
    /// Whether colleagues see the symbol (pascom S15).
    pub visible: bool,
    /// Info text shown to colleagues (XPhone S16).
    pub note: Option<Note>,
    /// Call forwarding.
    pub forwarding: ForwardingChange,
    /// Queue actions on activation (XPhone TeamDesk status, pascom A4).
    pub queue: Vec<QueueAction>,
    /// Pinned: no trigger may replace it, only a manual switch (pascom D4).
    pub sticky: bool,
    /// Chain run on activation, top to bottom.
    pub on_enter: Vec<Step>,
    /// Chain run on leaving, top to bottom.
    pub on_leave: Vec<Step>,
}

impl Default for ProfileSpec {
    fn default() -> Self {
        ProfileSpec {
            enabled: true,
            availability: Settable::Available,
            activity: None,
            symbol: Symbol::Dot,
            colour: Colour::Green,
            visible: true,
            note: None,
            forwarding: ForwardingChange::Unchanged,
            queue: Vec::new(),
            sticky: false,
            on_enter: Vec::new(),
            on_leave: Vec::new(),
        }
    }
}

impl ProfileSpec {
    /// Checks the bounds.
    pub fn validate(&self) -> Result<(), ProfileError> {
        for (chain, steps) in [
            (Chain::OnEnter, &self.on_enter),
            (Chain::OnLeave, &self.on_leave),
        ] {
            if steps.len() > MAX_CHAIN_STEPS {
                return Err(ProfileError::ChainTooLong {
                    chain,
                    max: MAX_CHAIN_STEPS,
                });
            }
        }
        if self.queue.len() > MAX_QUEUE_ACTIONS {
            return Err(ProfileError::TooManyQueueActions {
                max: MAX_QUEUE_ACTIONS,
            });
        }
        Ok(())
    }

    /// The enabled actions of a chain, in order.
    pub fn actions(&self, chain: Chain) -> impl Iterator<Item = &Action> {
        let steps = match chain {
            Chain::OnEnter => &self.on_enter,
            Chain::OnLeave => &self.on_leave,
        };
        steps.iter().filter(|s| s.enabled).map(|s| &s.action)
    }
}

/// Who owns a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Defined by the node admin for everyone; users cannot delete or modify it (pascom P6).
    System,
    /// The user's own.
    User,
}

/// A named profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    name: ProfileName,
    /// System-wide or the user's own.
    pub scope: Scope,
    /// The settings.
    pub spec: ProfileSpec,
}

impl Profile {
    /// A profile; the name is fixed from here on.
    pub fn new(name: ProfileName, scope: Scope, spec: ProfileSpec) -> Result<Self, ProfileError> {
        spec.validate()?;
        Ok(Profile { name, scope, spec })
    }

    /// The name.
    pub fn name(&self) -> &ProfileName {
        &self.name
    }
}

/// Why a profile operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// A bad name.
    #[error("profile name {0}")]
    Name(#[from] TextError),
    /// The name is taken (by a user or a system profile).
    #[error("a profile named {0:?} exists already")]
    Duplicate(String),
    /// No such profile.
    #[error("no profile named {0:?}")]
    NotFound(String),
    /// System profiles are the admin's.
    #[error("profile {0:?} is system-wide: only the node admin can change it")]
    SystemProfile(String),
    /// Profiles are edited only while not in use (pascom P8).
    #[error("profile {0:?} is active: switch to another profile before editing it")]
    Active(String),
    /// A disabled profile cannot be activated.
    #[error("profile {0:?} is disabled")]
    Disabled(String),
    /// Too many user profiles.
    #[error("at most {max} profiles per user")]
    TooManyProfiles {
        /// The cap.
        max: usize,
    },
    /// A chain is too long.
    #[error("the {chain:?} chain has more than {max} actions")]
    ChainTooLong {
        /// Which chain.
        chain: Chain,
        /// The cap.
        max: usize,
    },
    /// Too many queue actions.
    #[error("more than {max} queue actions")]
    TooManyQueueActions {
        /// The cap.
        max: usize,
    },
    /// No step at that index.
    #[error("no action number {index} in that chain")]
    NoSuchStep {
        /// The index asked for.
        index: usize,
    },
}
