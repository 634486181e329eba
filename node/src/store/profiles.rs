//! Per-user profile data: `userid_profiles` (the user's own profiles, trigger settings and the
//! profile state machine's state) and `userid_calendar` (appointments and the sharing choice).
//!
//! System profiles are not stored: they come from the configuration on every start.

use jid::BareJid;
use serde::{Deserialize, Serialize};

use super::records;
use super::schema::{self, USERID_CALENDAR, USERID_PROFILES};
use super::{Store, StoreError};
use crate::calendar::{Appointment, Sharing};
use crate::profiles::{Profile, ProfileSettings, ProfileState};

/// What the node keeps about one user's profiles.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfileRecord {
    /// The user's own profiles (system ones are left out).
    pub profiles: Vec<Profile>,
    /// Trigger settings; `None` until the user sets them (the node's defaults apply).
    pub settings: Option<ProfileSettings>,
    /// The state machine's state.
    pub state: Option<ProfileState>,
}

/// What the node keeps about one user's calendar.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CalendarRecord {
    /// Appointments, sorted by start (the subject of a private one never leaves the node).
    pub appointments: Vec<Appointment>,
    /// What the user shares; `None` until chosen (the default applies).
    pub sharing: Option<Sharing>,
}

impl Store {
    /// The stored profile record of `user`; `None` if nothing was ever stored.
    pub fn profile_record(&self, user: &BareJid) -> Result<Option<ProfileRecord>, StoreError> {
        self.profiles
            .get(schema::account_key(user))?
            .map(|v| records::decode(USERID_PROFILES, &v))
            .transpose()
    }

    /// Store `user`'s profile record; durable on return. Refused for users without an account, so
    /// a write racing an account removal leaves nothing behind.
    pub async fn put_profile_record(
        &self,
        user: &BareJid,
        record: &ProfileRecord,
    ) -> Result<(), StoreError> {
        let value = records::encode(USERID_PROFILES, record)?;
        self.profiles.insert(schema::account_key(user), value)?;
        if !self.account_exists(user)? {
            self.profiles.remove(schema::account_key(user))?;
            return Err(StoreError::NoAccount(user.to_string()));
        }
        self.flush().await
    }

    /// The stored calendar of `user`; `None` if nothing was ever stored.
    pub fn calendar_record(&self, user: &BareJid) -> Result<Option<CalendarRecord>, StoreError> {
        self.calendar
            .get(schema::account_key(user))?
            .map(|v| records::decode(USERID_CALENDAR, &v))
            .transpose()
    }

    /// Store `user`'s calendar; durable on return (refused without an account, as above).
    pub async fn put_calendar_record(
        &self,
        user: &BareJid,
        record: &CalendarRecord,
    ) -> Result<(), StoreError> {
        let value = records::encode(USERID_CALENDAR, record)?;
        self.calendar.insert(schema::account_key(user), value)?;
        if !self.account_exists(user)? {
            self.calendar.remove(schema::account_key(user))?;
            return Err(StoreError::NoAccount(user.to_string()));
        }
        self.flush().await
    }

    /// Users with a stored profile record (evaluated again when the node starts).
    pub fn users_with_profiles(&self) -> Result<Vec<BareJid>, StoreError> {
        self.profiles
            .iter()
            .keys()
            .map(|k| schema::jid_of(USERID_PROFILES, &k?))
            .collect()
    }

    /// Forget profiles and calendar of a removed account (not flushed: the caller flushes).
    pub(super) fn remove_profiles_of(&self, user: &BareJid) -> Result<(), StoreError> {
        self.profiles.remove(schema::account_key(user))?;
        self.calendar.remove(schema::account_key(user))?;
        Ok(())
    }
}
