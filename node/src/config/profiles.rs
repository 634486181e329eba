//! `[profiles]`: the node admin's system-wide presence profiles and the defaults of every user's
//! trigger settings (docs/PROFILES.md).

use serde::{Deserialize, Serialize};

use super::ConfigError;
use lampfield_domain::presence::ProfileName;
use lampfield_domain::profiles::{
    CalendarTrigger, EventMode, Profile, ProfileSettings, ProfileSpec, Scope,
    default_system_profiles,
};

/// `[profiles]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProfilesConfig {
    /// Offer the built-in system profiles "Available" and "Do not disturb". Default: `true`.
    pub builtin: bool,
    /// Whether calendar and meeting events activate a full profile (`full_profile`) or only set a
    /// simple presence (`simple_presence`), for users who have not chosen. Default:
    /// `simple_presence`.
    pub event_mode: EventMode,
    /// The profile busy, tentative and out-of-office appointments without an "@Profile" category
    /// activate, for users who have not chosen. Default: none (only "@Profile" categories count).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calendar_default_profile: Option<ProfileName>,
    /// The profile a running external meeting activates, for users who have not chosen.
    /// Default: none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meeting_profile: Option<ProfileName>,
    /// Days ahead an `.ics` import keeps (recurring events are expanded this far). Default: `30`.
    pub import_days: u32,
    /// `[[profiles.system]]`: the admin's profiles, offered to every user, not deletable by users.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub system: Vec<SystemProfile>,
}

/// `[[profiles.system]]`: one system-wide profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemProfile {
    /// The name, shown to colleagues as the status text.
    pub name: ProfileName,
    /// Its settings (availability, note, forwarding, queue, sticky, on_enter, on_leave, ...).
    #[serde(default)]
    pub spec: ProfileSpec,
}

impl Default for ProfilesConfig {
    fn default() -> Self {
        ProfilesConfig {
            builtin: true,
            event_mode: EventMode::SimplePresence,
            calendar_default_profile: None,
            meeting_profile: None,
            import_days: 30,
            system: Vec::new(),
        }
    }
}

impl ProfilesConfig {
    /// Every system profile: the built-in ones (unless turned off), then the configured ones; a
    /// configured profile replaces a built-in one of the same name.
    pub fn system_profiles(&self) -> Vec<Profile> {
        let configured: Vec<Profile> = self
            .system
            .iter()
            .filter_map(|p| Profile::new(p.name.clone(), Scope::System, p.spec.clone()).ok())
            .collect();
        let builtin = if self.builtin {
            default_system_profiles()
        } else {
            Vec::new()
        };
        let mut all: Vec<Profile> = builtin
            .into_iter()
            .filter(|b| configured.iter().all(|c| c.name() != b.name()))
            .collect();
        all.extend(configured);
        all
    }

    /// The trigger settings of a user who has not set their own.
    pub fn default_settings(&self) -> ProfileSettings {
        ProfileSettings {
            event_mode: self.event_mode,
            calendar: CalendarTrigger {
                enabled: true,
                all_busy: self.calendar_default_profile.is_some(),
                default_profile: self.calendar_default_profile.clone(),
                invitations: true,
            },
            meeting: self.meeting_profile.clone(),
            ..ProfileSettings::default()
        }
    }

    /// Checks names and bounds.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid {
            key: "profiles.system",
            reason,
        };
        for (i, p) in self.system.iter().enumerate() {
            p.spec
                .validate()
                .map_err(|e| invalid(format!("{}: {e}", p.name)))?;
            if self.system[..i].iter().any(|q| q.name == p.name) {
                return Err(invalid(format!("{} is defined twice", p.name)));
            }
        }
        if self.import_days == 0 || self.import_days > 366 {
            return Err(ConfigError::Invalid {
                key: "profiles.import_days",
                reason: "must be between 1 and 366".to_owned(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::config::Config;
    use lampfield_domain::presence::Settable;
    use lampfield_domain::profiles::{EventMode, ForwardingChange};

    #[test]
    fn system_profiles_and_user_defaults_come_from_the_configuration() {
        let config = Config::from_toml(
            r#"
            [profiles]
            event_mode = "full_profile"
            calendar_default_profile = "Do not disturb"
            [[profiles.system]]
            name = "Lunch"
            spec = { availability = "away", forwarding = { to = "voicemail" } }
            [[profiles.system]]
            name = "Available"
            spec = { note = "At my desk" }
            "#,
        )
        .unwrap();
        let system = config.profiles.system_profiles();
        let names: Vec<&str> = system.iter().map(|p| p.name().as_str()).collect();
        assert_eq!(names, ["Do not disturb", "Lunch", "Available"]);
        assert_eq!(system[1].spec.availability, Settable::Away);
        assert!(matches!(system[1].spec.forwarding, ForwardingChange::To(_)));
        let defaults = config.profiles.default_settings();
        assert_eq!(defaults.event_mode, EventMode::FullProfile);
        assert!(defaults.calendar.all_busy);

        for bad in [
            "[profiles]\nimport_days = 0",
            "[[profiles.system]]\nname = \"A\"\n[[profiles.system]]\nname = \"A\"",
            "[[profiles.system]]\nname = \"A\"\nspec = { colour = \"pink\" }",
            "[[profiles.system]]\nname = \"A\"\nspec = { typo = 1 }",
            "[connector]\nkind = \"webhook\"",
        ] {
            assert!(Config::from_toml(bad).is_err(), "{bad}");
        }
    }
}
