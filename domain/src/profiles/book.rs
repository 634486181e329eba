//! A user's profiles: the node's system-wide ones plus the user's own, and the edit rules
//! (unique names fixed at creation, system profiles untouchable by users, no edits while active).

use serde::{Deserialize, Serialize};

use super::model::{
    Chain, Colour, ForwardingChange, MAX_USER_PROFILES, Profile, ProfileError, ProfileSpec, Scope,
    Symbol,
};
use crate::presence::{ProfileName, Settable};

/// Who asks for an edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Editor {
    /// The user: own profiles only.
    User,
    /// The node admin: system profiles too.
    Admin,
}

/// The profiles one user can use. System profiles come first; a user profile never shares a name
/// with one.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProfileBook {
    profiles: Vec<Profile>,
}

/// The node's default system profiles (pascom P6): "Available" ends any forwarding so every
/// device rings, "Do not disturb" forwards to voicemail.
pub fn default_system_profiles() -> Vec<Profile> {
    let mk = |name: &str, spec: ProfileSpec| {
        ProfileName::new(name)
            .map_err(ProfileError::from)
            .and_then(|n| Profile::new(n, Scope::System, spec))
    };
    [
        mk(
            "Available",
            ProfileSpec {
                forwarding: ForwardingChange::Off,
                ..ProfileSpec::default()
            },
        ),
        mk(
            "Do not disturb",
            ProfileSpec {
                availability: Settable::DoNotDisturb,
                colour: Colour::Red,
                symbol: Symbol::Bar,
                forwarding: ForwardingChange::To(super::model::ForwardTarget::Voicemail),
                ..ProfileSpec::default()
            },
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

impl ProfileBook {
    /// A book from stored profiles (system ones are forced to the system scope, duplicates after
    /// the first are dropped).
    pub fn new(system: Vec<Profile>, user: Vec<Profile>) -> Self {
        let mut book = ProfileBook::default();
        for mut p in system {
            p.scope = Scope::System;
            if book.get(p.name()).is_none() {
                book.profiles.push(p);
            }
        }
        for mut p in user {
            p.scope = Scope::User;
            if book.get(p.name()).is_none() {
                book.profiles.push(p);
            }
        }
        book
    }

    /// All profiles, system ones first.
    pub fn all(&self) -> &[Profile] {
        &self.profiles
    }

    /// The user's own profiles (what the store keeps per user).
    pub fn user_profiles(&self) -> impl Iterator<Item = &Profile> {
        self.profiles.iter().filter(|p| p.scope == Scope::User)
    }

    /// A profile by name.
    pub fn get(&self, name: &ProfileName) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.name() == name)
    }

    /// An enabled profile by name, for a manual switch.
    pub fn activatable(&self, name: &ProfileName) -> Result<&Profile, ProfileError> {
        let p = self
            .get(name)
            .ok_or_else(|| ProfileError::NotFound(name.to_string()))?;
        if p.spec.enabled {
            Ok(p)
        } else {
            Err(ProfileError::Disabled(name.to_string()))
        }
    }

    /// Creates a profile; the name must be new.
    pub fn create(
        &mut self,
        by: Editor,
        name: ProfileName,
        scope: Scope,
        spec: ProfileSpec,
    ) -> Result<(), ProfileError> {
        if scope == Scope::System && by != Editor::Admin {
            return Err(ProfileError::SystemProfile(name.to_string()));
        }
        if self.get(&name).is_some() {
            return Err(ProfileError::Duplicate(name.to_string()));
        }
        if scope == Scope::User && self.user_profiles().count() >= MAX_USER_PROFILES {
            return Err(ProfileError::TooManyProfiles {
                max: MAX_USER_PROFILES,
            });
        }
        self.profiles.push(Profile::new(name, scope, spec)?);
        Ok(())
    }

    /// Replaces a profile's settings. There is no way to rename. `in_use` says whether the
    /// profile is active (for a system profile: for any user).
    pub fn update(
        &mut self,
        by: Editor,
        name: &ProfileName,
        spec: ProfileSpec,
        in_use: bool,
    ) -> Result<(), ProfileError> {
        spec.validate()?;
        let p = self.editable(by, name, in_use)?;
        p.spec = spec;
        Ok(())
    }

    /// Deletes a profile (irreversibly, pascom P8).
    pub fn delete(
        &mut self,
        by: Editor,
        name: &ProfileName,
        in_use: bool,
    ) -> Result<(), ProfileError> {
        self.editable(by, name, in_use)?;
        self.profiles.retain(|p| p.name() != name);
        Ok(())
    }

    /// Enables or disables one action without deleting it (pascom P8).
    pub fn set_step_enabled(
        &mut self,
        by: Editor,
        name: &ProfileName,
        chain: Chain,
        index: usize,
        enabled: bool,
        in_use: bool,
    ) -> Result<(), ProfileError> {
        let p = self.editable(by, name, in_use)?;
        let steps = match chain {
            Chain::OnEnter => &mut p.spec.on_enter,
            Chain::OnLeave => &mut p.spec.on_leave,
        };
        let step = steps
            .get_mut(index)
            .ok_or(ProfileError::NoSuchStep { index })?;
        step.enabled = enabled;
        Ok(())
    }

    fn editable(
        &mut self,
        by: Editor,
        name: &ProfileName,
        in_use: bool,
    ) -> Result<&mut Profile, ProfileError> {
        let p = self
            .profiles
            .iter_mut()
            .find(|p| p.name() == name)
            .ok_or_else(|| ProfileError::NotFound(name.to_string()))?;
        if p.scope == Scope::System && by != Editor::Admin {
            return Err(ProfileError::SystemProfile(name.to_string()));
        }
        if in_use {
            return Err(ProfileError::Active(name.to_string()));
        }
        Ok(p)
    }
}
